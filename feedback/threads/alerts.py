"""Reminders before a data request's deadline, and escalations of the threads left waiting: what
`flask --app wsgi deadlines check` does, from cron every few minutes.

Each reminder and each escalation is sent once: a `DeadlineAlert` row (thread, key) is written with its
notifications, in the same transaction, and the next run finds it. The candidates are selected with indexed
conditions (`is_open` and a `due_at` range, never a walk over every thread), and everything a run needs about
them is read in a few grouped queries, whatever their number.

- Reminders: an open data request, 7 days and 1 day before its `due_at`, to its assignee, or else to its
  organisation's coordinators, or else to its members; to the curators when nobody of the organisation is on
  the platform. The key holds the level and the deadline's date (Paris), so that an extended deadline gets
  reminders of its own. Only the nearest level is sent (a request first seen 12 hours before its deadline
  gets the 1-day reminder alone), and a deadline already past gets none: escalation takes it over.
- Escalations: an open thread is *waiting* when it is overdue, or when its organisation has taken no action
  (no first answer, no message, note or status change by one of its members) for
  `FEEDBACK_ESCALATION_WORKING_DAYS` working days since it received the thread (created, or transferred or
  routed to it since; weekends and French public holidays do not count). It goes first to the organisation's
  coordinators (to its members when it has no coordinator), then, still waiting as many working days after
  that, to the curators. A thread that no organisation owns, or whose organisation has nobody on the
  platform, goes to the curators straight away. Once per level per thread (key: the level).

An escalation writes a system event `escalated` (no actor) in the thread's log: it is a step in how the
administration handled the thread, which the capitalisation reads and the timeline shows. The event is
internal (producers and curators see it, as they see internal notes): it says who was chased within the
administration, which is not the requester's business; the requester already sees the thread overdue.
A reminder writes no event: it changes nothing in the thread, and would only clutter its timeline; its
`DeadlineAlert` row keeps when it went.

Threads imported from data.gouv.fr discussions are not escalated: their producers were never held to this
platform's deadlines, and the first run would chase years-old discussions by the thousand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import defer, selectinload

from feedback.accounts.models import Membership, MembershipRole, User
from feedback.clock import add_working_days, paris_date, working_days_between
from feedback.database import utcnow
from feedback.extensions import db
from feedback.i18n import french_date
from feedback.notifications.models import NotificationKind
from feedback.notifications.services import notify
from feedback.threads.models import AlertLevel, DeadlineAlert, Thread, ThreadEvent, ThreadKind
from feedback.threads.recipients import quoted_title, reachable, thread_path
from feedback.threads.services import record_event
from feedback.threads.workflow import can_view

REMINDERS = ((AlertLevel.REMINDER_1_DAY, timedelta(days=1)), (AlertLevel.REMINDER_7_DAYS, timedelta(days=7)))
REMINDER_WINDOW = timedelta(days=7)
# Events that are no action of the organisation: the opening (by a member writing to their own service
# or not) and the escalations themselves.
NOT_ACTIONS = ("created", "escalated")
CHUNK = 500
# The candidates' rows without their long search text, which a check never reads.
LIGHT = defer(Thread.search_text)
# Two checks at once (cron overlapping a slow run): on PostgreSQL the second waits for the first, then sees
# its alerts; on SQLite writers are serialised by the database itself.
LOCK_KEY = 0x6465_6164_6C69_6E65


@dataclass
class CheckSummary:
    reminders: int = 0
    to_coordinators: int = 0
    to_curators: int = 0
    notifications: int = 0

    def line(self) -> str:
        return (
            f"Échéances : {_counted(self.reminders, 'rappel', 'rappels')}, "
            f"{_counted(self.to_coordinators, 'relance', 'relances')} aux coordinateurs, "
            f"{_counted(self.to_curators, 'relance', 'relances')} aux administrateurs des données ; "
            f"{_counted(self.notifications, 'notification', 'notifications')}."
        )


def _counted(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number < 2 else plural}"


def check_deadlines(now: datetime | None = None) -> CheckSummary:
    """Send the reminders and escalations due at `now`; flushes, the caller commits."""
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    summary = CheckSummary()
    _send_reminders(now, summary)
    _escalate(now, summary)
    db.session.flush()
    return summary


# Reading in batches -------------------------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _alerts_of(thread_ids: Iterable[int]) -> dict[int, dict[str, datetime]]:
    """The alerts already sent: thread id → key → when."""
    sent: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in _chunks(sorted(set(thread_ids))):
        rows = db.session.execute(
            sa.select(DeadlineAlert.thread_id, DeadlineAlert.key, DeadlineAlert.created_at).where(
                DeadlineAlert.thread_id.in_(chunk)
            )
        )
        for thread_id, key, created_at in rows:
            sent[thread_id][key] = created_at
    return sent


class Audience:
    """The people alerts go to, loaded once for all the threads of a run: the members of their organisations
    (coordinators apart), their assignees, the curators. Only accounts that can be told anything; each
    thread's list is then narrowed to those who may see it."""

    def __init__(self, threads: Iterable[Thread]):
        threads = list(threads)
        self.coordinators: dict[int, list[User]] = defaultdict(list)
        self.members: dict[int, list[User]] = defaultdict(list)
        organisation_ids = sorted({t.organisation_id for t in threads if t.organisation_id is not None})
        for chunk in _chunks(organisation_ids):
            rows = db.session.execute(
                sa.select(User, Membership.organisation_id, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organisation_id.in_(chunk), *reachable())
                .options(selectinload(User.memberships))
                .order_by(User.id)
            )
            for user, organisation_id, role in rows:
                self.members[organisation_id].append(user)
                if role == MembershipRole.COORDINATOR:
                    self.coordinators[organisation_id].append(user)
        self.assignees: dict[int, User] = {}
        assignee_ids = sorted({t.assignee_id for t in threads if t.assignee_id is not None})
        for chunk in _chunks(assignee_ids):
            statement = sa.select(User).where(User.id.in_(chunk), *reachable()).options(selectinload(User.memberships))
            self.assignees.update((user.id, user) for user in db.session.scalars(statement))
        self._curators: list[User] | None = None

    @property
    def curators(self) -> list[User]:
        if self._curators is None:
            self._curators = list(
                db.session.scalars(
                    sa.select(User)
                    .where(User.is_curator, *reachable())
                    .options(selectinload(User.memberships))
                    .order_by(User.id)
                )
            )
        return self._curators

    @staticmethod
    def _visible(people: Iterable[User], thread: Thread) -> list[User]:
        return [person for person in people if can_view(person, thread)]

    def of_organisation(self, thread: Thread) -> list[User]:
        """Its coordinators, or else its members (who may see it)."""
        if thread.organisation_id is None:
            return []
        return self._visible(self.coordinators[thread.organisation_id], thread) or self._visible(
            self.members[thread.organisation_id], thread
        )

    def for_reminder(self, thread: Thread) -> list[User]:
        assignee = self.assignees.get(thread.assignee_id) if thread.assignee_id is not None else None
        if assignee is not None and can_view(assignee, thread):
            return [assignee]
        return self.of_organisation(thread) or self.for_curators(thread)

    def for_curators(self, thread: Thread) -> list[User]:
        return self._visible(self.curators, thread)


def _working_days_passed(start: datetime, now: datetime, days: int) -> bool:
    """Whether `days` working days have passed since `start` (counted in days, as `working_days_between`,
    without walking the calendar of a years-old thread)."""
    return paris_date(add_working_days(start, days)) <= paris_date(now)


# Reminders --------------------------------------------------------------------------------------------------


def _send_reminders(now: datetime, summary: CheckSummary) -> None:
    threads = db.session.scalars(
        sa.select(Thread)
        .where(
            Thread.is_open.is_(True),
            Thread.due_at > now,
            Thread.due_at <= now + REMINDER_WINDOW,
            Thread.kind == ThreadKind.DATA_REQUEST.value,
        )
        .order_by(Thread.due_at, Thread.id)
        .options(LIGHT)
    ).all()
    if not threads:
        return
    sent = _alerts_of(t.id for t in threads)
    due = []
    for thread in threads:
        due_at = thread.due_at
        if due_at is None:  # the query asks for a due date; said for the type checker
            continue
        level = next(level for level, before in REMINDERS if due_at - now <= before)
        key = f"{level.value}:{paris_date(due_at).isoformat()}"
        if key not in sent.get(thread.id, {}):
            due.append((thread, level, key))
    audience = Audience(thread for thread, _, _ in due)
    for thread, level, key in due:
        db.session.add(DeadlineAlert(thread_id=thread.id, level=level.value, key=key, created_at=now))
        summary.reminders += 1
        summary.notifications += len(
            notify(
                audience.for_reminder(thread),
                NotificationKind.DEADLINE_REMINDER,
                _reminder_text(thread, now),
                thread_path(thread.id),
                thread_id=thread.id,
                at=now,
            )
        )


def _reminder_text(thread: Thread, now: datetime) -> str:
    days = (paris_date(thread.due_at or now) - paris_date(now)).days
    when = "aujourd'hui" if days <= 0 else "demain" if days == 1 else f"dans {days} jours"
    return (
        f"Échéance {when} : la réponse à {quoted_title(thread.title)} est attendue au plus tard le "
        f"{french_date(thread.due_at)}"
    )


# Escalations ------------------------------------------------------------------------------------------------


def _organisation_actions(threads: list[Thread]) -> set[int]:
    """The threads on which a member of their (current) organisation has done something: written, changed
    the status, assigned, extended… One query per chunk."""
    acted: set[int] = set()
    ids = sorted(t.id for t in threads if t.organisation_id is not None)
    for chunk in _chunks(ids):
        acted.update(
            db.session.scalars(
                sa.select(ThreadEvent.thread_id)
                .join(Thread, Thread.id == ThreadEvent.thread_id)
                .join(
                    Membership,
                    sa.and_(
                        Membership.user_id == ThreadEvent.actor_id,
                        Membership.organisation_id == Thread.organisation_id,
                    ),
                )
                .where(ThreadEvent.thread_id.in_(chunk), ThreadEvent.type.notin_(NOT_ACTIONS))
                .distinct()
            )
        )
    return acted


@dataclass
class Waiting:
    """The threads an escalation may be due for: overdue ones, and those whose service has neither responded
    nor acted since it received them (thread id → when it received them)."""

    threads: dict[int, Thread]
    overdue: set[int]
    inactive: dict[int, datetime]


@dataclass
class Escalation:
    thread: Thread
    level: AlertLevel
    people: list[User]
    text: str
    event: ThreadEvent


def _escalate(now: datetime, summary: CheckSummary) -> None:
    days = current_app.config["FEEDBACK_ESCALATION_WORKING_DAYS"]
    waiting = _waiting(now, days)
    ids = sorted(i for i in waiting.threads if i in waiting.overdue or i in waiting.inactive)
    sent = _alerts_of(ids)
    due = []  # (thread, when its coordinators were chased): those with an escalation to send now
    for thread_id in ids:
        coordinators_at = sent.get(thread_id, {}).get(AlertLevel.COORDINATORS.value)
        if coordinators_at is None or _working_days_passed(coordinators_at, now, days):
            due.append((waiting.threads[thread_id], coordinators_at))
    audience = Audience(thread for thread, _ in due)
    escalations = [
        _record_escalation(thread, coordinators_at, waiting, audience, now) for thread, coordinators_at in due
    ]
    db.session.flush()  # the events' ids, all at once
    for escalation in escalations:
        notifications = notify(
            escalation.people,
            NotificationKind.ESCALATION,
            escalation.text,
            thread_path(escalation.thread.id),
            thread_id=escalation.thread.id,
            event_id=escalation.event.id,
            at=now,
        )
        summary.notifications += len(notifications)
        if escalation.level == AlertLevel.COORDINATORS:
            summary.to_coordinators += 1
        else:
            summary.to_curators += 1


def _waiting(now: datetime, days: int) -> Waiting:
    """The open threads overdue, or without response nor action of their service for `days` working days since
    they received them, that have not reached the curators yet (two queries, then the services' actions)."""
    escalated_to_curators = (
        sa.select(DeadlineAlert.id)
        .where(DeadlineAlert.thread_id == Thread.id, DeadlineAlert.key == AlertLevel.CURATORS.value)
        .exists()
    )
    # N working days span at least N calendar days: what these bounds leave out (a day's margin, as the
    # calendar counts whole days) cannot be due; the index narrows, `_working_days_passed` settles.
    bound = now - timedelta(days=max(days - 1, 0))
    # Escalated to the coordinators too lately to go to the curators now.
    coordinators_lately = (
        sa.select(DeadlineAlert.id)
        .where(
            DeadlineAlert.thread_id == Thread.id,
            DeadlineAlert.key == AlertLevel.COORDINATORS.value,
            DeadlineAlert.created_at > bound,
        )
        .exists()
    )
    open_ = (Thread.is_open.is_(True), Thread.udata_id.is_(None), ~escalated_to_curators, ~coordinators_lately)
    overdue = db.session.scalars(sa.select(Thread).where(*open_, Thread.due_at < now).options(LIGHT)).all()
    quiet = db.session.scalars(
        sa.select(Thread).where(*open_, Thread.first_response_at.is_(None), Thread.received_at <= bound).options(LIGHT)
    ).all()
    acted = _organisation_actions(list(quiet))
    return Waiting(
        threads={t.id: t for t in [*overdue, *quiet]},
        overdue={t.id for t in overdue},
        inactive={
            t.id: t.received_at for t in quiet if t.id not in acted and _working_days_passed(t.received_at, now, days)
        },
    )


def _record_escalation(
    thread: Thread, coordinators_at: datetime | None, waiting: Waiting, audience: Audience, now: datetime
) -> Escalation:
    """The escalation due for `thread`: to its coordinators first, then to the curators; its alert row and
    its internal event, written now."""
    reason = "overdue" if thread.id in waiting.overdue else "inactive"
    coordinators = audience.of_organisation(thread)
    if coordinators_at is None and coordinators:
        level, people = AlertLevel.COORDINATORS, coordinators
    else:  # after the coordinators; or straight away when no organisation owns it, or nobody of it is here
        level, people = AlertLevel.CURATORS, audience.for_curators(thread)
    since = waiting.inactive.get(thread.id) or (thread.created_at if thread.organisation_id is None else None)
    working_days = working_days_between(since, now) if since is not None else None
    db.session.add(DeadlineAlert(thread_id=thread.id, level=level.value, key=level.value, created_at=now))
    event = record_event(
        thread,
        None,
        "escalated",
        internal=True,
        at=now,
        level=level.value,
        reason=reason,
        organisation_id=thread.organisation_id,
        due_at=thread.due_at.isoformat() if reason == "overdue" and thread.due_at else None,
        working_days=working_days,
    )
    text = _escalation_text(thread, level, reason, working_days, coordinators_at)
    return Escalation(thread, level, people, text, event)


def _escalation_text(
    thread: Thread, level: AlertLevel, reason: str, working_days: int | None, coordinators_at: datetime | None
) -> str:
    title = quoted_title(thread.title)
    if thread.organisation is None:
        what = f"{title} attend depuis {working_days} jours ouvrés d'être adressé à un service"
        if working_days is None:
            what = f"{title} n'est adressé à aucun service"
    elif reason == "overdue":
        what = (
            f"{title}, adressé à {thread.organisation.name}, est en retard : la réponse était attendue le "
            f"{french_date(thread.due_at)}"
        )
    else:
        what = (
            f"{title}, adressé à {thread.organisation.name}, attend depuis {working_days} jours ouvrés "
            "une première action du service"
        )
    if level == AlertLevel.COORDINATORS:
        return f"Relance : {what}"
    text = f"Relance aux administrateurs des données : {what}"
    if coordinators_at is not None:
        return f"{text} (coordinateurs relancés le {french_date(coordinators_at)})"
    if thread.organisation is not None:
        return f"{text} ; ce service n'a personne sur la plateforme"
    return text
