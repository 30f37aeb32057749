"""`/healthz` for the load balancer, and the French 503 page when the database cannot be reached.

`/healthz` runs `SELECT 1` through the whole stack (middleware, request log, session, database pool): 200
`{"status": "ok"}`, or 503 `{"status": "indisponible"}` when the database does not answer. It reads no cookie,
writes none, needs no CSRF token and is not rate limited.

When the database is out of reach during any other request (SQLAlchemy's `OperationalError` or `InterfaceError`:
server down, restarting, connection cut), the session is rolled back and the person gets « Service
momentanément indisponible » with `Retry-After`, never a 500. The engine's `pool_pre_ping` drops the dead
connections, so the application recovers by itself as soon as the database is back.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Flask, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError

from feedback.extensions import db, limiter, login_manager

blueprint = Blueprint("health", __name__)
logger = logging.getLogger("feedback.health")

RETRY_AFTER_SECONDS = 30
UNAVAILABLE_TITLE = "Service momentanément indisponible"
UNAVAILABLE_MESSAGE = (
    "Le service ne peut pas répondre pour le moment. Réessayez dans quelques instants ; ce que vous avez "
    "envoyé n'a pas été enregistré."
)


@blueprint.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except (OperationalError, InterfaceError) as error:
        _forget_failed_transaction()
        logger.error("Health check: the database is out of reach: %s", _first_line(error))
        return {"status": "indisponible"}, 503, {"Cache-Control": "no-store", "Retry-After": str(RETRY_AFTER_SECONDS)}
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


def database_unavailable(error: Exception):
    _forget_failed_transaction()
    logger.error("Database out of reach during %s %s: %s", request.method, request.path, _first_line(error))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.accept_mimetypes.best == "application/json":
        return {"error": UNAVAILABLE_TITLE, "message": UNAVAILABLE_MESSAGE}, 503, headers
    # A page of its own, which asks nothing of the database (the usual layout shows who is signed in), drawn for
    # an anonymous visitor: the templates' context would otherwise look the signed-in person up again.
    login_manager._update_request_context_with_user()
    page = render_template("errors/unavailable.html", title=UNAVAILABLE_TITLE, message=UNAVAILABLE_MESSAGE)
    return page, 503, headers


def _forget_failed_transaction() -> None:
    try:
        db.session.rollback()
    except (OperationalError, InterfaceError):
        db.session.close()


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
