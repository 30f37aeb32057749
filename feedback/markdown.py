"""Markdown → HTML → sanitised allow-list. The only way user or catalogue text becomes HTML.

The renderer is comrak (Rust, the CommonMark and GitHub-flavoured renderer of crates.io and docs.rs, through its
Python bindings), whose cost is linear in its input — but for tables, whose cost grows with the square of their
columns: a table row is cut at MAX_COLUMNS cells before rendering. The sanitiser, nh3 (Rust, html5ever), is
linear in the length of its input but not in the depth of nested elements: before it, `_limit_nesting` reads
the HTML as its parser will (tags, quoted attributes, comments, end tags that close nothing) and drops the start
tags of the elements nested deeper than MAX_DEPTH, and of the formatting elements open beyond MAX_FORMATTING;
quote markers beyond that depth stay text. So 50,000 characters of pathological input (unclosed brackets,
emphasis runs, deep quotes, big tables, tag soup…) render in milliseconds. Text is rendered once, when it is
written, and the result stored beside its source (`Message.body_html`, `Dataset.description_html`, the reports'
texts); `flask --app wsgi texts render` renders everything again when this module changes (`RENDERER` names the
version for that).
"""

from __future__ import annotations

import html as html_lib
import re
import string

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
RENDERER = "comrak+nh3/2"

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


# The sanitiser parses HTML as browsers do (html5ever), which costs the square of the depth of nested elements
# (50,000 characters of `<ul><li>` take seconds). Elements nested deeper than this lose their tags, not their text.
MAX_DEPTH = 32
# Formatting elements (<b>, <em>, <a>…) left open are opened again by the parser after every block that closed
# them: at most that many at once, each start tag beyond is dropped.
MAX_FORMATTING = 8
# A table row of more cells than that: the pipes beyond are kept as text, before rendering.
MAX_COLUMNS = 64
_WIDE_ROW = re.compile(rf"^((?:[^|\n]*\|){{{MAX_COLUMNS}}})([^\n]*\|[^\n]*)$", re.MULTILINE)
# A line that opens more quotes than that: the ones beyond are kept as text, before rendering.
_DEEP_QUOTES = re.compile(rf"^((?:[ \t]*>){{{MAX_DEPTH}}})((?:[ \t]*>)+)", re.MULTILINE)

# Tags are read as the HTML standard's tokenizer reads them, which is what the sanitiser's parser does: a tag
# ends at the first `>` outside a quoted attribute value (a quote opens a value only right after `=`); a tag
# left open runs to the end of the text, where the parser drops it. Possessive quantifiers: each character is
# read once.
_S = "\t\n\f\r "
_VALUE = rf""""[^"]*+"|'[^']*+'|[^{_S}>"'][^{_S}>]*+|(?=>)"""
_ATTRIBUTES = (
    rf"(?:[{_S}]++|/(?!>)"  # spaces; a `/` that does not end the tag
    rf"|[^{_S}/>][^{_S}/>=]*+(?:[{_S}]*+=[{_S}]*+(?:{_VALUE})|(?![{_S}]*=))"  # an attribute, with its value
    r")*+"
)
_TAG = re.compile(rf"<(/?)([a-zA-Z][^{_S}/>]*+){_ATTRIBUTES}/?>")  # the name: up to a space, `/` or `>`
# Elements that hold text only, each closed by its own end tag (`<td>1</td>`, `<a href="…">lien</a>`), and the
# text between them: they leave the nesting as it was, and are passed over in one step.
_LEAVES = re.compile(rf"(?:<([a-zA-Z][^{_S}/>]*+){_ATTRIBUTES}/?>[^<]*+</\1>[^<]*+)++")


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_COMMENT_END = re.compile(r"--!?>")
_OPENING = re.compile(r"<[a-zA-Z]")
_LETTERS = frozenset(string.ascii_letters)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Elements the parser closes at once, `<br>` as `<br/>`; `/>` closes no other HTML element.
_VOID = _names("area base basefont bgsound br col embed frame hr img input keygen link meta param source track wbr")
# After these the parser reads otherwise (raw text, script data, foreign content and its CDATA): from there on,
# every `<` followed by a letter counts as an element opened and never closed.
_IN_DOUBT = _names("script style textarea title xmp iframe noembed noframes noscript plaintext svg math")
# End tags that close every element above theirs, when one of their name is open with no boundary in between.
_CLOSE_THROUGH = _names(
    "address article aside blockquote button center details dialog dir div dl fieldset figcaption figure footer "
    "header hgroup listing main menu nav ol pre search section summary ul li dd dt p"
)
_HEADINGS = _names("h1 h2 h3 h4 h5 h6")
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
_BOUNDARIES = _names("applet caption html table td th marquee object template")
_MORE_BOUNDARIES = {"li": frozenset({"ol", "ul"}), "p": frozenset({"button"})}
# Start tags that close a <p> open just above them.
_CLOSE_P = (_CLOSE_THROUGH - {"button", "li", "dd", "dt"}) | _HEADINGS | {"form", "hr", "xmp"}


def _close(open_elements: list[str], name: str) -> None:
    """Pop what the parser surely pops for the end tag `name`, never more: the current element if it has that
    name, or, for the end tags that close through, every element down to the nearest one that matches."""
    if name in _CLOSE_THROUGH or name in _HEADINGS:
        boundaries = _BOUNDARIES | _MORE_BOUNDARIES.get(name, frozenset())
        for index in range(len(open_elements) - 1, -1, -1):
            element = open_elements[index]
            if element == name or (name in _HEADINGS and element in _HEADINGS):
                # The parser reopens the formatting elements closed that way with the next content.
                kept = [e for e in open_elements[index + 1 :] if e in _FORMATTING]
                open_elements[index:] = kept
                return
            if element in boundaries:
                return
    elif open_elements and open_elements[-1] == name:
        open_elements.pop()


def _open(open_elements: list[str], name: str) -> None:
    """Open `name` after popping the element it surely closes: a current <li>, <dd> or <dt>, heading, or <p>."""
    if open_elements:
        current = open_elements[-1]
        if (
            (name == "li" and current == "li")
            or (name in ("dd", "dt") and current in ("dd", "dt"))
            or (name in _HEADINGS and current in _HEADINGS)
            or (name in _CLOSE_P and current == "p")
        ):
            open_elements.pop()
    open_elements.append(name)


def _limit_nesting(html: str) -> str:
    """`html` without the start tags of the elements nested deeper than MAX_DEPTH, in one pass over it.

    The elements counted open are never fewer than the parser's, but for the ones it adds by itself (a table's
    body and row): an end tag that may not close an element for the parser closes none here, and where the
    reading is in doubt (raw text, foreign content) every `<` and letter opens one.
    """
    if html.count("<") <= MAX_DEPTH:
        return html
    open_elements: list[str] = []
    pieces: list[str] = []
    copied = 0  # html[:copied] is in pieces
    position = 0
    in_doubt_from: int | None = None
    while (start := html.find("<", position)) >= 0:
        follower = html[start + 1 : start + 2]
        if follower in _LETTERS and len(open_elements) < MAX_DEPTH and (leaves := _LEAVES.match(html, start)):
            position = leaves.end()
        elif follower in _LETTERS or (follower == "/" and html[start + 2 : start + 3] in _LETTERS):
            tag = _TAG.match(html, start)
            if tag is None:
                break  # a tag left open: the parser drops it and all that follows
            position = tag.end()
            name = tag.group(2).translate(_ASCII_LOWER)
            if tag.group(1):
                _close(open_elements, name)
            elif name in _VOID:
                pass
            elif len(open_elements) >= MAX_DEPTH or (
                name in _FORMATTING and sum(e in _FORMATTING for e in open_elements) >= MAX_FORMATTING
            ):
                text = html[copied:start]
                # a `<` just before the tag dropped would open a tag with what follows it
                pieces.append(text[:-1] + "&lt;" if text.endswith("<") else text)
                copied = position
            else:
                _open(open_elements, name)
                if name in _IN_DOUBT:
                    in_doubt_from = position
                    break
        elif html.startswith("<!--", start):
            if html.startswith(">", start + 4) or html.startswith("->", start + 4):
                position = html.index(">", start + 4) + 1
            elif end := _COMMENT_END.search(html, start + 4):
                position = end.end()
            else:
                break  # the rest is a comment
        elif html.startswith("<![CDATA[", start):
            in_doubt_from = start
            break
        elif follower in ("!", "?", "/"):
            end_of_comment = html.find(">", start + 2)
            if end_of_comment < 0:
                break
            position = end_of_comment + 1
        else:
            position = start + 1
    if in_doubt_from is not None:
        depth = len(open_elements)
        for opening in _OPENING.finditer(html, in_doubt_from):
            depth += 1
            if depth > MAX_DEPTH:
                pieces.append(html[copied : opening.start()])
                pieces.append("&lt;")
                copied = opening.start() + 1
    if not pieces:
        return html
    pieces.append(html[copied:])
    return "".join(pieces)


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
    # What nh3's allow-list kept is safe to show as HTML.
    return Markup(cleaned.strip())  # nosec B704


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
