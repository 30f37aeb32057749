"""How the application is served: production's refusals, cookies, the trusted proxy, the `Server` header, and
the WSGI stack (ProxyFix → request log → static files → Flask).

- `FEEDBACK_ENV=production`: the application refuses to start unless `SECRET_KEY` is given (at least 32
  characters; never the key generated into `instance/`), `DATABASE_URL` names PostgreSQL and `FEEDBACK_BASE_URL`
  is an https origin; its cookies are `Secure` unless told otherwise.
- The "rester connecté" cookie is `Secure` whenever the session cookie is.
- `FEEDBACK_PROXY_HOPS` (0: not behind a proxy) is the number of proxies in front of the application whose
  `X-Forwarded-For`, `-Proto`, `-Host` and `-Port` are trusted (Werkzeug's ProxyFix): the client's address the
  rate limits and the request log read is then the real one, and a request the proxy received over TLS is secure.
- The development server names Werkzeug and Python, with their versions, in its `Server` header; it is told to
  send a neutral one instead. gunicorn always sends `Server: gunicorn`, without version (see the README).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from feedback import health, page_cache, request_log, static_files

SECRET_KEY_MIN_LENGTH = 32
NEUTRAL_SERVER_HEADER = "feedback"


class UnsafeProductionSettings(RuntimeError):
    """Production refuses to start with settings that only suit a development machine."""


def refuse_unsafe_production(config: Mapping) -> None:
    if config.get("FEEDBACK_ENV") != "production":
        return
    problems = []
    if len(config.get("SECRET_KEY") or "") < SECRET_KEY_MIN_LENGTH:
        problems.append(
            f"SECRET_KEY doit être donnée dans l'environnement, d'au moins {SECRET_KEY_MIN_LENGTH} caractères "
            "(par exemple : python3 -c 'import secrets; print(secrets.token_hex(32))'), la même pour tous les "
            "processus."
        )
    try:
        backend = make_url(config.get("SQLALCHEMY_DATABASE_URI") or "").get_backend_name()
    except ArgumentError:
        backend = ""
    if backend != "postgresql":
        problems.append("DATABASE_URL doit désigner une base PostgreSQL (postgresql+psycopg://…).")
    base_url = urlsplit(config.get("FEEDBACK_BASE_URL") or "")
    if base_url.scheme != "https" or not base_url.hostname:
        problems.append("FEEDBACK_BASE_URL doit donner l'adresse publique du service en https (https://…).")
    if problems:
        raise UnsafeProductionSettings(
            "FEEDBACK_ENV=production : la plateforme ne démarre pas.\n- " + "\n- ".join(problems)
        )


def secure_remember_cookie(app: Flask) -> None:
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.config["REMEMBER_COOKIE_SECURE"] = True


def quiet_development_server() -> None:
    """The development server (`flask run`) writes `Server: Werkzeug/… Python/…` itself, after the application's
    headers, whatever they hold: its request handler is told to name the platform instead."""
    WSGIRequestHandler.version_string = lambda self: NEUTRAL_SERVER_HEADER  # type: ignore[method-assign]


def register(app: Flask) -> None:
    """After the blueprints: `/healthz`, the 503 page, the request log, the static files and the proxy."""
    refuse_unsafe_production(app.config)
    secure_remember_cookie(app)
    health.register(app)
    request_log.register(app)
    page_cache.register(app)  # its look-up right after the log's note of the route
    static_files.register(app)  # wraps app.wsgi_app in WhiteNoise
    stack: Callable = request_log.RequestLog(app.wsgi_app)
    hops = int(app.config.get("FEEDBACK_PROXY_HOPS") or 0)
    if hops > 0:
        stack = ProxyFix(stack, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.wsgi_app = stack  # type: ignore[method-assign]
    quiet_development_server()
