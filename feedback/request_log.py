"""One log line per request: its id, method, route, status, duration and the client's address.

A WSGI middleware, so that every answer is counted, the static files served before Flask included. The id is the
`X-Request-Id` the proxy sent when it looks like one (letters, digits, `-_.:`, at most 128 characters), else a new
one; it is echoed in the answer's `X-Request-Id` header. The route is the URL rule Flask matched (`/fils/<int:id>`),
never the path with its ids and query. The address is `REMOTE_ADDR` as ProxyFix left it: the real client's behind
the trusted proxies. The worker's process id ends the line. Lines go to the logger `feedback.requests` at INFO,
written to the standard error by the application's handler (so gunicorn and systemd's journal show them).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable

from werkzeug.wsgi import ClosingIterator

logger = logging.getLogger("feedback.requests")

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ROUTE_KEY = "feedback.route"
REQUEST_ID_KEY = "feedback.request_id"


def request_id_of(environ: dict) -> str:
    proposed = environ.get("HTTP_X_REQUEST_ID", "")
    if _SANE_REQUEST_ID.fullmatch(proposed):
        return proposed
    return uuid.uuid4().hex


class RequestLog:
    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = environ[REQUEST_ID_KEY] = request_id_of(environ)
        status: list[str] = ["500"]

        def start_with_id(status_line: str, headers: list, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            headers = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        def write_line() -> None:
            logger.info(
                "request id=%s method=%s route=%s status=%s duration_ms=%.1f client=%s pid=%d",
                request_id,
                environ.get("REQUEST_METHOD", "-"),
                environ.get(ROUTE_KEY) or "-",
                status[0],
                (time.perf_counter() - started) * 1000,
                environ.get("REMOTE_ADDR") or "-",
                os.getpid(),
            )

        try:
            body = self.application(environ, start_with_id)
        except BaseException:
            write_line()
            raise
        return ClosingIterator(body, write_line)


def note_route() -> None:
    """Before every other hook of the request: the URL rule Flask matched, for the log line."""
    from flask import request

    request.environ[ROUTE_KEY] = request.url_rule.rule if request.url_rule is not None else "-"


def register(app) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, note_route)
    app.logger  # noqa: B018 — attaches Flask's handler (standard error) to the application's logger, `feedback`
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    # Alembic's logging configuration (`db upgrade` run in the same process) disables the loggers that exist then:
    # the application's own are enabled again.
    for name, existing in list(logging.root.manager.loggerDict.items()):
        if (name == "feedback" or name.startswith("feedback.")) and isinstance(existing, logging.Logger):
            existing.disabled = False
