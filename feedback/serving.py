"""How the application is served: production's refusals, cookies, the trusted proxy, the `Server` header, and
the WSGI stack (ProxyFix → request log → static files → Flask).

- `FEEDBACK_ENV=production`: the application refuses to start unless `SECRET_KEY` is given (at least 32
  characters; never the key generated into `instance/`), `DATABASE_URL` names PostgreSQL and `FEEDBACK_BASE_URL`
  is an https origin; its cookies are `Secure` unless told otherwise.
- The "rester connecté" cookie is `Secure` whenever the session cookie is.
- `FEEDBACK_PROXY_HOPS` (0: not behind a proxy) is the number of proxies in front of the application whose
  `X-Forwarded-For`, `-Proto`, `-Host` and `-Port` are trusted (Werkzeug's ProxyFix): the client's address the
  rate limits and the request log read is then the real one, and a request the proxy received over TLS is secure.
- The development server names itself, Werkzeug and Python in a `Server` header; the application sends its own
  neutral one instead. gunicorn always sends `Server: gunicorn`, without version (see the README).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback import health, request_log, static_files

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


class NeutralServerHeader:
    """Under the development server only (gunicorn sends its own header, which a second one would duplicate)."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug"):
            return self.application(environ, start_response)

        def start_neutral(status: str, headers: list, exc_info=None):
            headers = [(name, value) for name, value in headers if name.lower() != "server"]
            headers.append(("Server", NEUTRAL_SERVER_HEADER))
            return start_response(status, headers, exc_info)

        return self.application(environ, start_neutral)


def register(app: Flask) -> None:
    """After the blueprints: `/healthz`, the 503 page, the request log, the static files and the proxy."""
    refuse_unsafe_production(app.config)
    secure_remember_cookie(app)
    health.register(app)
    request_log.register(app)
    static_files.register(app)  # wraps app.wsgi_app in WhiteNoise
    stack: Callable = request_log.RequestLog(app.wsgi_app)
    hops = int(app.config.get("FEEDBACK_PROXY_HOPS") or 0)
    if hops > 0:
        stack = ProxyFix(stack, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.wsgi_app = NeutralServerHeader(stack)  # type: ignore[method-assign]
