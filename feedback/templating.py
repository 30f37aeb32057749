"""What every template may use: French formatting filters, the markdown filter, URL helpers."""

from __future__ import annotations

from flask import request, url_for

from feedback import i18n
from feedback.markdown import plain_text, render_markdown


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one); used by pagination and sorts."""
    args = request.args.to_dict(flat=True)
    if "page" not in changes:
        args.pop("page", None)  # any other change starts again from page 1
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    values = {**(request.view_args or {}), **args}
    return url_for(request.endpoint or "home.index", **values)


def excerpt(source: str | None, length: int = 280) -> str:
    text = " ".join(plain_text(source).split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0] + " …"


def register(app) -> None:
    app.jinja_env.filters.update(
        date_fr=i18n.french_date,
        datetime_fr=i18n.french_datetime,
        number_fr=i18n.french_number,
        file_size=i18n.french_size,
        # Only for reports published before their texts were stored rendered (their snapshot never changes).
        markdown=render_markdown,
        excerpt=excerpt,
    )
    app.jinja_env.globals.update(url_with=url_with)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
