"""The API's errors: one JSON shape, `{error, message, fields}`, with the right status, for whatever goes wrong
under /api/v1 — a refused operation, an invalid field, an unknown address, a method not allowed, a rate limit, an
exception."""

from __future__ import annotations

import json
import math
import time

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from feedback.extensions import db, limiter

PREFIX = "/api/v1"

# The machine-readable `error` of each status, and the French message said when nothing more precise is known.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "La requête n'a pas pu être comprise."),
    401: ("unauthorized", "Authentifiez-vous : un jeton personnel (Authorization: Bearer …) ou une session."),
    403: ("forbidden", "Vous n'avez pas le droit de faire cette action."),
    404: ("not_found", "Cette ressource n'existe pas, ou vous ne pouvez pas la voir."),
    405: ("method_not_allowed", "Cette méthode n'est pas possible à cette adresse."),
    409: ("conflict", "La ressource a changé depuis que vous l'avez lue : relisez-la, puis recommencez."),
    413: ("payload_too_large", "Le corps de la requête est trop volumineux."),
    415: ("unsupported_media_type", "Le corps de la requête doit être un objet JSON (Content-Type: application/json)."),
    422: ("invalid_fields", "Certains champs sont invalides."),
    429: ("too_many_requests", "Trop de requêtes : réessayez plus tard (voir l'en-tête Retry-After)."),
    500: ("server_error", "Une erreur est survenue de notre côté. Réessayez plus tard."),
    503: ("unavailable", "Le service est momentanément indisponible. Réessayez plus tard."),
}
CSRF_MESSAGE = (
    "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez. "
    "(Depuis un navigateur connecté, envoyez l'en-tête X-CSRFToken ; depuis un programme, un jeton personnel.)"
)


class ApiError(Exception):
    """An answer of the API that is not a success: its status, a French message, and the invalid fields."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or ERRORS.get(status, ERRORS[400])[1])
        self.status = status
        self.message = message or ERRORS.get(status, ERRORS[400])[1]
        self.fields = fields or {}
        self.headers = headers or {}


def json_response(payload, status: int = 200, headers: dict[str, str] | None = None):
    """JSON in UTF-8 as it reads (French accents unescaped)."""
    response = current_app.response_class(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")), status=status, mimetype="application/json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ApiError):
    code = ERRORS.get(error.status, ("error", ""))[0]
    headers = dict(error.headers)
    if error.status == 401:  # RFC 6750: how to authenticate
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return json_response({"error": code, "message": error.message, "fields": error.fields}, error.status, headers)


def _retry_after() -> str:
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, math.ceil(current.reset_at - time.time())))


def from_http_exception(error: HTTPException) -> ApiError:
    """The API's answer to an HTTP error raised by Flask, Werkzeug, Flask-WTF or Flask-Limiter."""
    status = error.code or 500
    if status >= 500 or status not in ERRORS:
        status = status if status in ERRORS else 500
        return ApiError(status)
    headers: dict[str, str] = {}
    message = ERRORS[status][1]
    if status == 400 and error.description and "CSRF" in error.description:
        message = CSRF_MESSAGE
    if getattr(error, "shown_to_people", False) and error.description:  # a French sentence written for people
        message = error.description
    if status == 405:
        valid = getattr(error, "valid_methods", None) or []
        if valid:
            headers["Allow"] = ", ".join(sorted(valid))
    if status == 429:
        headers["Retry-After"] = _retry_after()
    return ApiError(status, message, headers=headers)


def handle_api_error(error: ApiError):
    if error.status >= 400:
        try:
            db.session.rollback()  # a refused operation leaves nothing half-written
        except Exception:
            db.session.remove()
    return error_response(error)


def handle_http_exception(error: HTTPException):
    return handle_api_error(from_http_exception(error))


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def register(app: Flask) -> None:
    """Answer in JSON the errors of /api/v1 that no API view raised: an unknown address, a method not allowed
    (Werkzeug's routing), an exception. Called after the HTML error pages are registered: each of those stays the
    answer everywhere else."""
    for code in sorted(set(ERRORS) | {500}):
        exception_class = default_exceptions.get(code)
        if exception_class is None:
            continue
        previous = app.error_handler_spec[None][code].get(exception_class)

        def handler(error, previous=previous):
            if is_api_request():
                if not isinstance(error, HTTPException):
                    error = InternalServerError(original_exception=error)
                return handle_http_exception(error)
            return previous(error) if previous is not None else error

        app.register_error_handler(code, handler)
