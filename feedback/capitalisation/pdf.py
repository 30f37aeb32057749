"""A report as a PDF (WeasyPrint): the report's page in its document layout (`reports/document.html`), A4,
page numbers, the report's title and date on every page, wide tables on landscape pages.

WeasyPrint reads nothing but the application's own static files: the stylesheets and the Marianne font the
document names. Any other address a text might carry is refused, so that rendering a report never reaches
the network or another file of the server.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

DOCUMENT_BASE = "https://rapport.invalid/"


class StaticFilesOnly(URLFetcher):
    """Serves `/static/…` from the application's static folder, and nothing else."""

    def __init__(self, static_folder: Path):
        super().__init__(fail_on_errors=False)
        self.static_folder = static_folder.resolve()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != DOCUMENT_BASE or not parts.path.startswith("/static/"):
            raise ValueError(f"not fetched for a report: {url}")
        path = (self.static_folder / unquote(parts.path.removeprefix("/static/"))).resolve()
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            raise ValueError(f"no such static file: {url}")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": kind})


def html_to_pdf(html: str) -> bytes:
    static = Path(current_app.static_folder or "static")
    return HTML(string=html, base_url=DOCUMENT_BASE, url_fetcher=StaticFilesOnly(static)).write_pdf()
