"""What the home page tells of threads (registered with `feedback.home` by the application factory): what waits
for the person signed in, and the latest public activity. A fixed handful of queries, whoever is signed in. (The
share of requests answered in time is the capitalisation's figure: `feedback.capitalisation.home_figure`.)"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from feedback.extensions import db
from feedback.home import register_home_section
from feedback.threads import queries
from feedback.threads.models import Thread, ThreadStatus
from feedback.threads.workflow import organisation_ids, visible_threads

LATEST = 5
WAITING_LISTED = 3


def _waiting(user) -> dict:
    if user is None or not user.is_authenticated:
        return {}
    waiting: dict = {}
    asked = sa.select(Thread).where(Thread.author_id == user.id, Thread.status == ThreadStatus.NEEDS_INFO.value)
    waiting["details_asked"] = list(
        db.session.scalars(asked.order_by(Thread.due_at.asc().nulls_last(), Thread.id).limit(WAITING_LISTED))
    )
    waiting["details_asked_count"] = (
        db.session.scalar(sa.select(sa.func.count()).select_from(asked.subquery()))
        if len(waiting["details_asked"]) == WAITING_LISTED
        else len(waiting["details_asked"])
    )
    organisations = organisation_ids(user)
    if organisations:
        waiting["inbox_counts"] = queries.inbox_counts(user, organisations)
        waiting["inbox_tabs"] = queries.INBOX_TABS
    if user.is_curator:
        waiting["triage_count"] = db.session.scalar(
            sa.select(sa.func.count(Thread.id)).where(queries.unrouted_condition())
        )
    return waiting


def home_section(user) -> dict:
    latest = list(
        db.session.scalars(
            sa.select(Thread)
            .where(visible_threads(None))  # the same for everyone: never a restricted thread
            .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            .options(joinedload(Thread.organisation))
            .limit(LATEST)
        )
    )
    return {"latest_threads": latest, "waiting": _waiting(user)}


def register() -> None:
    """Called by the application factory."""
    register_home_section(home_section)
