"""What a browser would run in a piece of HTML, read by a real HTML parser (the standard library's, which
tokenises as browsers do for the constructs that matter here: tags, attributes, their quoting)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements that run code, load a document, or change where the page's links and forms go.
DANGEROUS_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "svg", "math", "portal"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}
_INVISIBLE = re.compile(r"[\x00-\x20\u00a0\u200b-\u200f\u2028\u2029\ufeff]")


def _scheme(url: str) -> str:
    plain = _INVISIBLE.sub("", url).lower()
    found = re.match(r"([a-z][a-z0-9+.\-]*):", plain)
    return found.group(1) if found else ""


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.findings.append(f"inline script: {data.strip()[:80]!r}")

    def _check(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.findings.append(f"<script> not from /static/: {attrs}")
        if tag in DANGEROUS_ELEMENTS:
            self.findings.append(f"<{tag}>")
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.findings.append("<meta http-equiv=refresh>")
        if tag == "link" and "import" in (values.get("rel") or "").lower():
            self.findings.append(f"<link rel={values.get('rel')!r}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=…> event handler")
            if name.startswith("hx-on") or name.startswith("x-on") or name.startswith("@"):
                self.findings.append(f"<{tag} {name}=…> script attribute")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = _scheme(value)
                if scheme in {"javascript", "vbscript", "livescript"}:
                    self.findings.append(f"<{tag} {name}={value!r}> script URL")
                elif scheme == "data" and not (
                    tag == "img" and name == "src" and re.match(r"data:image/(png|gif|jpe?g|webp);", value.lower())
                ):
                    self.findings.append(f"<{tag} {name}={value[:40]!r}> data URL")
            if name == "style" and value and re.search(r"expression\s*\(|javascript:|behavior\s*:", value, re.I):
                self.findings.append(f"<{tag} style={value!r}>")


def executable_constructs(html: str) -> list[str]:
    """Everything in `html` a browser could run or be sent elsewhere by: scripts not from /static/, event-handler
    attributes, script and data URLs, frames and plugins, SVG and MathML, meta refresh."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.findings
