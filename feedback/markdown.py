"""Markdown → HTML → sanitised allow-list. The only way user or catalogue text becomes HTML.

The renderer is comrak (Rust, the CommonMark and GitHub-flavoured renderer of crates.io and docs.rs, through its
Python bindings), whose cost is linear in its input — but for tables, whose cost grows with the square of their
columns: a table row is cut at MAX_COLUMNS cells before rendering. The sanitiser, nh3 (Rust, html5ever), is
linear in the length of its input but not in the depth of nested elements: elements nested deeper than
MAX_DEPTH lose their tags before it (`_limit_nesting`), and quote markers beyond that depth stay text. So
50,000 characters of pathological input (unclosed brackets, emphasis runs, deep quotes, big tables…) render
in milliseconds. Text is rendered once, when it is written, and the result stored beside its source
(`Message.body_html`, `Dataset.description_html`, the reports' texts); `flask --app wsgi texts render` renders
everything again when this module changes (`RENDERER` names the version for that).
"""

from __future__ import annotations

import html as html_lib
import re

import comrak
import nh3
import sqlalchemy as sa
from markupsafe import Markup

# GitHub's extensions (tables, strikethrough, bare links) but its tag filter: raw HTML goes whole to nh3, which
# drops <script> and <style> with their content rather than showing them escaped.
_EXTENSIONS = comrak.ExtensionOptions()
_EXTENSIONS.table = True
_EXTENSIONS.strikethrough = True
_EXTENSIONS.autolink = True
# Raw HTML goes through to the sanitiser (catalogue descriptions are HTML); line breaks are kept as typed.
_RENDER = comrak.RenderOptions()
_RENDER.unsafe_ = True
_RENDER.hardbreaks = True
# Change this when the rendering or the allow-list changes, and run `texts render`.
RENDERER = "comrak+nh3/1"

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


# The sanitiser parses HTML as browsers do, which costs the square of the depth of nested elements (50,000
# characters of `<ul><li>` take seconds). Elements nested deeper than this lose their tags, not their text.
MAX_DEPTH = 32
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
# A table row of more cells than that: the pipes beyond are kept as text, before rendering.
MAX_COLUMNS = 64
_WIDE_ROW = re.compile(rf"^((?:[^|\n]*\|){{{MAX_COLUMNS}}})([^\n]*\|[^\n]*)$", re.MULTILINE)
# A line that opens more quotes than that: the ones beyond are kept as text, before rendering.
_DEEP_QUOTES = re.compile(rf"^((?:[ \t]*>){{{MAX_DEPTH}}})((?:[ \t]*>)+)", re.MULTILINE)
_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def _limit_nesting(html: str) -> str:
    """`html` without the tags of the elements nested deeper than MAX_DEPTH (one pass over it)."""
    depth = 0
    kept: list[str] = []
    position = 0
    for tag in _TAG.finditer(html):
        closing, name, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name in _VOID or self_closing:
            continue
        if closing:
            keep = 0 < depth <= MAX_DEPTH
            depth = max(depth - 1, 0)
        else:
            depth += 1
            keep = depth <= MAX_DEPTH
        if not keep:
            kept.append(html[position : tag.start()])
            position = tag.end()
    if not kept:
        return html
    kept.append(html[position:])
    return "".join(kept)


def render_markdown(source: str | None) -> Markup:
    """Render markdown (raw HTML inside it included) and keep only the allowed tags and attributes.

    Links get `rel="nofollow noopener noreferrer"`; only http(s) and mailto URLs survive. Headings start
    at level 2 since the page already has its h1.
    """
    if not source:
        return Markup("")
    if source.count(">") > MAX_DEPTH:
        source = _DEEP_QUOTES.sub(lambda found: found.group(1) + found.group(2).replace(">", "\\>"), source)
    if source.count("|") > MAX_COLUMNS:
        source = _WIDE_ROW.sub(lambda found: found.group(1) + found.group(2).replace("|", "\\|"), source)
    html = comrak.render_markdown(source, extension_options=_EXTENSIONS, render_options=_RENDER)
    html = _limit_nesting(html.replace("<h1", "<h2").replace("</h1>", "</h2>"))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(cleaned.strip())


def plain_text(source: str | None) -> str:
    """The text of markdown/HTML source without any markup, for search indexes and summaries."""
    if not source:
        return ""
    if "<" not in source and "&" not in source:
        return source.strip()
    return html_lib.unescape(nh3.clean(source, tags=set(), strip_comments=True)).strip()


def render_again(session, model, source: str, target: str, *, batch: int = 2000, on_batch=None) -> int:
    """Render the `source` markdown of every row of `model` again into its `target` column; returns how many
    rows changed. Rows are read and written `batch` at a time, by id; `on_batch(n)` is told of each batch."""
    source_column, target_column = getattr(model, source), getattr(model, target)
    changed, last = 0, 0
    while True:
        rows = session.execute(
            sa.select(model.id, source_column, target_column).where(model.id > last).order_by(model.id).limit(batch)
        ).all()
        if not rows:
            return changed
        updates = []
        for key, text, stored in rows:
            html = str(render_markdown(text))
            if html != stored:
                updates.append({"id": key, target: html})
        if updates:
            session.execute(sa.update(model), updates)
            changed += len(updates)
        session.commit()
        last = rows[-1][0]
        if on_batch is not None:
            on_batch(len(rows))
