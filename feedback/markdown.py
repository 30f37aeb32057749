"""Markdown → HTML → sanitised allow-list. The only way user or catalogue text becomes HTML."""

from __future__ import annotations

import html as html_lib

import markdown as markdown_lib
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}
_EXTENSIONS = ["extra", "sane_lists", "nl2br"]


def render_markdown(source: str | None) -> Markup:
    """Render markdown (raw HTML inside it included) and keep only the allowed tags and attributes.

    Links get `rel="nofollow noopener noreferrer"`; only http(s) and mailto URLs survive. Headings start
    at level 2 since the page already has its h1.
    """
    if not source:
        return Markup("")
    html = markdown_lib.markdown(source, extensions=_EXTENSIONS, output_format="html")
    html = html.replace("<h1", "<h2").replace("</h1>", "</h2>")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(cleaned)


def plain_text(source: str | None) -> str:
    """The text of markdown/HTML source without any markup, for search indexes and summaries."""
    if not source:
        return ""
    if "<" not in source and "&" not in source:
        return source.strip()
    return html_lib.unescape(nh3.clean(source, tags=set(), strip_comments=True)).strip()
