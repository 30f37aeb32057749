"""What the home page tells of threads (registered with `feedback.home` by the application factory): what waits
for the person signed in, the latest public activity, and the share of data requests answered within the legal
deadline over the last twelve months. A fixed handful of queries, whoever is signed in."""

from __future__ import annotations

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import joinedload

from feedback.database import utcnow
from feedback.extensions import db
from feedback.home import register_home_section
from feedback.threads import queries
from feedback.threads.answers import answered_condition
from feedback.threads.models import Thread, ThreadKind, ThreadStatus, Visibility
from feedback.threads.workflow import organisation_ids

LATEST = 5
WAITING_LISTED = 3


def answered_in_time(now=None) -> dict:
    """Public data requests received over the last twelve months whose deadline has passed or that were answered:
    how many, and how many their service answered by their due date (R124-1: one month, two once extended)."""
    now = now or utcnow()
    since = now - relativedelta(months=12)
    judged = sa.and_(
        Thread.kind == ThreadKind.DATA_REQUEST.value,
        Thread.visibility == Visibility.PUBLIC.value,
        Thread.created_at >= since,
        Thread.due_at.is_not(None),
        sa.or_(answered_condition(), Thread.due_at < now),
    )
    in_time = sa.and_(answered_condition(), Thread.answered_at <= Thread.due_at)
    total, answered = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((in_time, 1)))).where(judged)
    ).one()
    return {"requests": total, "in_time": answered, "share": answered / total if total else None}


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
            sa.select(sa.func.count(Thread.id)).where(Thread.organisation_id.is_(None), Thread.is_open.is_(True))
        )
    return waiting


def home_section(user) -> dict:
    latest = list(
        db.session.scalars(
            sa.select(Thread)
            .where(Thread.visibility == Visibility.PUBLIC.value)
            .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            .options(joinedload(Thread.organisation))
            .limit(LATEST)
        )
    )
    return {"latest_threads": latest, "answered_in_time": answered_in_time(), "waiting": _waiting(user)}


def register() -> None:
    """Called by the application factory."""
    register_home_section(home_section)
