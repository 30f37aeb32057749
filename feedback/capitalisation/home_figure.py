"""What the home page tells of the capitalisation (registered with `feedback.home` by the application factory):
the share of data requests answered within the legal deadline over the last twelve months.

It is the reports' own figure, not a second definition: the scope of a report (`Scope`, public threads only)
and its count of late requests (`indicators.late_request_condition`, R124-1). One grouped query on
`ix_thread_figures`, which holds every column it reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from feedback.capitalisation.indicators import late_request_condition
from feedback.capitalisation.scope import Scope
from feedback.clock import paris_date
from feedback.database import utcnow
from feedback.extensions import db
from feedback.home import register_home_section
from feedback.kept_values import kept
from feedback.threads.answers import answered_condition
from feedback.threads.models import Thread, ThreadKind


def requests_answered_in_time(now: datetime | None = None) -> dict:
    """Public data requests received over the last twelve months that can be judged — answered by their service,
    or still open past their deadline — and how many were answered by their deadline (one month, two once
    extended). A request not yet due, or closed by its author before any answer, is not judged."""
    now = now or utcnow()
    today = paris_date(now)
    scope = Scope(
        date_from=today - relativedelta(months=12) + timedelta(days=1),
        date_to=today,
        kinds=(ThreadKind.DATA_REQUEST.value,),
    )
    judged = sa.and_(
        scope.condition(),
        Thread.due_at.is_not(None),
        sa.or_(answered_condition(), sa.and_(Thread.is_open.is_(True), Thread.due_at < now)),
    )
    total, late = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((late_request_condition(now), 1)))).where(judged)
    ).one()
    return {"requests": total, "in_time": total - late, "share": (total - late) / total if total else None}


def home_section(user) -> dict:
    """The same figure for everyone, signed in or not: it counts public threads only. Counted again once it is
    older than FEEDBACK_HOME_FIGURE_SECONDS (per worker process; 0: on every request)."""
    # A twelve-month count on every visit of the home page was most of its cost, for a figure that moves by the day.
    seconds = current_app.config["FEEDBACK_HOME_FIGURE_SECONDS"]
    return {"answered_in_time": kept("home figure", seconds, requests_answered_in_time)}


def register() -> None:
    """Called by the application factory."""
    register_home_section(home_section)
