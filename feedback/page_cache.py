"""Pages shown to visitors who are not signed in, kept by each worker for a few seconds.

Most reads of a public service are anonymous and many ask for the same pages (the home page, the lists, a
common search); each was drawn again for each visitor. A page is kept for FEEDBACK_PAGE_CACHE_SECONDS (0: never)
and served as it was drawn when it is asked again in that time. What is kept can only be what any anonymous
visitor would see, because:

- only a GET sent with no cookie and no Authorization header is looked up or kept: whoever is signed in, or
  carries a session (a flashed message, a form's CSRF token), is always served fresh pages;
- only a 200 HTML answer that sets no cookie and did not change the session is kept: a page that put a CSRF token
  in a form (and so a session cookie on the visitor) is never kept, neither is an error, a redirect or a stream;
- htmx requests are never kept (their fragments vary with headers), and the key holds the scheme, the host, the
  path and the query string.

A kept page can be up to that many seconds behind the database: a message hidden by a moderator is gone for
anonymous visitors of a worker at most that long after. Each worker keeps at most MOST_BYTES of pages.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request, session

MOST_BYTES = 32 * 1024 * 1024
LARGEST_PAGE = 512 * 1024
_LEFT_OUT_HEADERS = {"set-cookie", "content-length", "date"}


class KeptPages:
    """Pages by key, each with the time it was kept; the oldest half goes when the bytes would pass the bound."""

    def __init__(self) -> None:
        self.pages: dict[tuple, tuple[float, int, list[tuple[str, str]], bytes]] = {}
        self.size = 0

    def get(self, key: tuple, seconds: float):
        kept = self.pages.get(key)
        if kept is None:
            return None
        if time.monotonic() - kept[0] >= seconds:
            self._drop(key)
            return None
        return kept

    def put(self, key: tuple, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        if key in self.pages:
            self._drop(key)
        if self.size + len(body) > MOST_BYTES:
            for old in sorted(self.pages, key=lambda name: self.pages[name][0])[: len(self.pages) // 2 + 1]:
                self._drop(old)
        self.pages[key] = (time.monotonic(), status, headers, body)
        self.size += len(body)

    def _drop(self, key: tuple) -> None:
        self.size -= len(self.pages.pop(key)[3])


def _key() -> tuple | None:
    """The key of this request's page, or None when it must be drawn for the person asking."""
    if request.method != "GET" or request.cookies or "Authorization" in request.headers:
        return None
    if any(name.lower().startswith("hx-") for name, _ in request.headers.items()):
        return None
    return (request.scheme, request.host, request.full_path)


def serve_kept_page() -> Response | None:
    """Before the view: the kept page, if any (a response here skips the view)."""
    seconds = current_app.config.get("FEEDBACK_PAGE_CACHE_SECONDS", 0)
    if seconds <= 0:
        return None
    key = _key()
    if key is None:
        return None
    g.page_cache_key = key
    kept = _kept_pages().get(key, seconds)
    if kept is None:
        return None
    stored_at, status, headers, body = kept
    g.page_cache_hit = True
    response = Response(body, status=status, headers=headers)
    response.headers["Age"] = str(int(time.monotonic() - stored_at))
    return response


def keep_page(response: Response) -> Response:
    """After the view: keep the page if any anonymous visitor may be served it as it is."""
    key = g.get("page_cache_key")
    if key is None or g.get("page_cache_hit"):
        return response
    if (
        response.status_code != 200
        or response.mimetype != "text/html"
        or response.direct_passthrough
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or session.modified
        or "private" in (response.headers.get("Cache-Control") or "")
        or "no-store" in (response.headers.get("Cache-Control") or "")
    ):
        return response
    body = response.get_data()
    if len(body) > LARGEST_PAGE:
        return response
    headers = [(name, value) for name, value in response.headers.items() if name.lower() not in _LEFT_OUT_HEADERS]
    _kept_pages().put(key, response.status_code, headers, body)
    return response


def _kept_pages() -> KeptPages:
    return current_app.extensions.setdefault("kept_pages", KeptPages())


def register(app: Flask) -> None:
    """The look-up runs first among the hooks (after the log's note of the route), the keeping last."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(1 if hooks else 0, serve_kept_page)
    app.after_request_funcs.setdefault(None, []).insert(0, keep_page)
