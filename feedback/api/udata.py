"""Reading the platform's public threads as udata discussions, so that a udata-based front (data.gouv.fr,
ecologie.data.gouv.fr) shows them unchanged: `GET /api/1/discussions/?for=<dataset>` and
`GET /api/1/discussions/<id>/`, in the shape of udata's own discussion API (`udata/core/discussions/api.py`:
the discussion, its messages, user and organisation references, and the paginated envelope `{data, page,
page_size, total, next_page, previous_page}`) — the shape the platform's own import reads back
(`threads.udata`).

Only public threads on a dataset and their public messages (`opendata.public`): no restricted thread, no internal
note, nothing hidden or held by the moderation. A discussion's id is the data.gouv.fr id of the discussion it was
imported from, else the thread's number; a person's or an organisation's id is their data.gouv.fr id, else
`ecospheres-<number>`. Browsers of the origins listed in `FEEDBACK_CORS_ORIGINS` may read these answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from feedback.accounts.models import Organisation, User
from feedback.catalogue.resolver import dataset_of_path
from feedback.extensions import db
from feedback.opendata.public import public_messages, public_threads
from feedback.privacy.export import iso
from feedback.threads.models import CLOSED_STATUSES, Message, Thread, ThreadEvent

blueprint = Blueprint("udata", __name__, url_prefix="/api/1")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000
MAX_SUBJECTS = 50
# udata's sorting keys and what they read here; "discussion.posted_on" is the latest message's date.
SORTS = {
    "created": Thread.created_at,
    "title": Thread.title,
    "closed": Thread.closed_at,
    "discussion.posted_on": Thread.last_activity_at,
}
PLATFORM_ID_PREFIX = "ecospheres-"


def json_response(payload, status: int = 200) -> Response:
    """JSON as the platform's API writes it: UTF-8 text, accents as they are."""
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")), status=status, mimetype="application/json"
    )


def user_reference(user: User | None) -> dict | None:
    """udata's `user_ref_fields`. The platform keeps one name: it goes in `first_name`."""
    if user is None:
        return None
    return {
        "id": user.datagouv_id or f"{PLATFORM_ID_PREFIX}{user.id}",
        "slug": None,
        "first_name": user.name,
        "last_name": "",
        "page": None,
        "uri": None,
        "avatar": None,
        "avatar_thumbnail": None,
    }


def organisation_reference(organisation: Organisation | None) -> dict | None:
    """udata's `org_ref_fields`."""
    if organisation is None:
        return None
    return {
        "id": organisation.datagouv_id or f"{PLATFORM_ID_PREFIX}{organisation.id}",
        "name": organisation.name,
        "acronym": None,
        "slug": organisation.datagouv_slug or organisation.slug,
        "page": url_for("catalogue.organisation", slug=organisation.slug, _external=True),
        "uri": None,
        "logo": None,
        "logo_thumbnail": None,
        "badges": [],
    }


def discussion_id(thread: Thread) -> str:
    return thread.udata_id or str(thread.id)


def message_fields(message: Message) -> dict:
    """udata's `message_fields`: the markdown source, its author, the organisation it speaks for."""
    return {
        "content": message.body,
        "posted_by": user_reference(message.author),
        "posted_by_organization": organisation_reference(message.as_organisation),
        "posted_on": iso(message.created_at),
        "last_modified_at": iso(message.edited_at),
        "permissions": {"delete": False, "edit": False},
    }


def discussion_fields(thread: Thread, messages: list[Message], closing: ThreadEvent | None) -> dict:
    """udata's `discussion_fields`: who closed it is who gave the thread its closed status, and the service
    when that person did it for the service."""
    closed = not thread.is_open
    by_service = closed and closing is not None and bool((closing.payload or {}).get("by_service"))
    return {
        "id": discussion_id(thread),
        "class": "Discussion",
        "subject": {"class": "Dataset", "id": thread.dataset.catalogue_id if thread.dataset else None},
        "title": thread.title,
        "user": user_reference(thread.author),
        "organization": None,
        "created": iso(thread.created_at),
        "closed": iso(thread.closed_at) if closed else None,
        "closed_by": user_reference(closing.actor) if closed and closing is not None else None,
        "closed_by_organization": organisation_reference(thread.organisation) if by_service else None,
        "discussion": [message_fields(message) for message in messages],
        "url": url_for("udata.discussion", discussion_id=discussion_id(thread), _external=True),
        "extras": {},
        "permissions": {"delete": False, "edit": False, "close": False},
    }


def _shown() -> sa.ColumnElement[bool]:
    """The threads this API shows: public, on a dataset (a udata discussion has a subject)."""
    return sa.and_(public_threads(), Thread.dataset_id.is_not(None))


def _messages_of(thread_ids: list[int]) -> dict[int, list[Message]]:
    found: dict[int, list[Message]] = defaultdict(list)
    if not thread_ids:
        return found
    statement = (
        sa.select(Message)
        .where(Message.thread_id.in_(thread_ids), public_messages())
        .options(joinedload(Message.author), joinedload(Message.as_organisation))
        .order_by(Message.thread_id, Message.created_at, Message.id)
    )
    for message in db.session.scalars(statement):
        found[message.thread_id].append(message)
    return found


def _closings_of(threads: Iterable[Thread]) -> dict[int, ThreadEvent]:
    """The latest public event that gave each closed thread a closed status."""
    ids = [thread.id for thread in threads if not thread.is_open]
    found: dict[int, ThreadEvent] = {}
    if not ids:
        return found
    statement = (
        sa.select(ThreadEvent)
        .where(ThreadEvent.thread_id.in_(ids), ThreadEvent.type == "status_changed", ThreadEvent.internal.is_(False))
        .options(joinedload(ThreadEvent.actor))
        .order_by(ThreadEvent.thread_id, ThreadEvent.created_at, ThreadEvent.id)
    )
    closed = {status.value for status in CLOSED_STATUSES}
    for event in db.session.scalars(statement):
        if (event.payload or {}).get("status") in closed:
            found[event.thread_id] = event
    return found


def serialise(threads: list[Thread]) -> list[dict]:
    """The discussions of these threads, in their order: three queries whatever their number."""
    messages = _messages_of([thread.id for thread in threads])
    closings = _closings_of(threads)
    return [discussion_fields(thread, messages[thread.id], closings.get(thread.id)) for thread in threads]


def _positive_int(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value) if len(value) <= 12 else 0
    except ValueError:
        raise BadRequest(f"« {name} » doit être un nombre entier.") from None
    if not 1 <= number <= MAX_PAGE:
        raise BadRequest(f"« {name} » doit être un nombre entier de 1 à {MAX_PAGE}.")
    return number


def _subjects() -> list[int]:
    """The datasets of the `for` arguments (any identifier the resolver takes); unknown ones name nothing."""
    subjects = request.args.getlist("for")
    if len(subjects) > MAX_SUBJECTS:
        raise BadRequest(f"« for » nomme au plus {MAX_SUBJECTS} jeux de données.")
    return [found.id for found in map(dataset_of_path, subjects) if found is not None]


def _closed_filter() -> bool | None:
    value = (request.args.get("closed") or "").strip().lower()
    if not value:
        return None
    if value in {"true", "1", "yes", "on"}:
        return True
    if value in {"false", "0", "no", "off"}:
        return False
    raise BadRequest("« closed » vaut true ou false.")


def _order_by() -> list:
    sort = request.args.get("sort") or "-created"
    key = sort.removeprefix("-")
    if key not in SORTS:
        raise BadRequest(f"« sort » vaut l'un de : {', '.join(k for s in SORTS for k in (s, '-' + s))}.")
    column = SORTS[key]
    if sort.startswith("-"):
        return [column.desc(), Thread.id.desc()]
    return [column.asc(), Thread.id.asc()]


def _page_url(page: int) -> str:
    arguments: dict[str, Any] = request.args.to_dict(flat=False)
    arguments["page"] = [str(page)]
    return url_for("udata.discussions", _external=True, **arguments)


@blueprint.get("/discussions/")
def discussions():
    page = _positive_int("page", 1)
    page_size = min(_positive_int("page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    conditions = [_shown()]
    if "for" in request.args:
        conditions.append(Thread.dataset_id.in_(_subjects()))
    closed = _closed_filter()
    if closed is not None:
        conditions.append(Thread.is_open.is_(not closed))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Thread).where(*conditions)) or 0
    threads = list(
        db.session.scalars(
            sa.select(Thread)
            .where(*conditions)
            .options(joinedload(Thread.author), joinedload(Thread.dataset), joinedload(Thread.organisation))
            .order_by(*_order_by())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    )
    return json_response(
        {
            "data": serialise(threads),
            "page": page,
            "page_size": page_size,
            "total": total,
            "next_page": _page_url(page + 1) if page * page_size < total else None,
            "previous_page": _page_url(page - 1) if page > 1 else None,
        }
    )


def find_discussion(identifier: str) -> Thread | None:
    """The public thread a discussion id names: a data.gouv.fr id kept at import, else a thread number."""
    shown = _shown()
    thread = db.session.scalars(sa.select(Thread).where(Thread.udata_id == identifier[:24], shown)).first()
    if thread is None and identifier.isdigit() and len(identifier) < 19:
        thread = db.session.scalars(
            sa.select(Thread).where(Thread.id == int(identifier), Thread.udata_id.is_(None), shown)
        ).first()
    return thread


@blueprint.get("/discussions/<discussion_id>/")
def discussion(discussion_id: str):
    thread = find_discussion(discussion_id)
    if thread is None:
        raise NotFound("Cette discussion n'existe pas ou n'est pas publique.")
    return json_response(serialise([thread])[0])


@blueprint.errorhandler(BadRequest)
@blueprint.errorhandler(NotFound)
def json_error(error: HTTPException):
    """udata's error answers: `{message, status}`, with the platform's `error` beside them."""
    code = error.code or 400
    return json_response({"error": error.name, "message": error.description, "status": code}, code)


def allowed_origins() -> set[str]:
    return {
        origin.strip().rstrip("/")
        for origin in current_app.config.get("FEEDBACK_CORS_ORIGINS", "").split(",")
        if origin.strip()
    }


@blueprint.after_request
def allow_configured_origins(response):
    """CORS: the configured origins may read these answers (no cookie is read here: no credentials)."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin", "").rstrip("/")
    if origin and origin in allowed_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            allowed = request.headers.get("Access-Control-Request-Headers", "")
            if allowed:
                response.headers["Access-Control-Allow-Headers"] = allowed
            response.headers["Access-Control-Max-Age"] = "600"
    return response
