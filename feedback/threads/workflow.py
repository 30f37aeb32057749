"""Who may do what on a thread, and who may see what: the one place where the rules live.

Views, templates and services all ask `can(user, action, thread)`; nothing else decides. What a person may see
is said twice here, side by side and nowhere else: for one thread in Python (`can_view`, `can(…,
"see_internal", …)`), and for many rows in SQL (`visible_threads`, `readable_messages`, `readable_events`),
which every list, search, feed, count, export and report reads.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from feedback.database import utcnow
from feedback.threads import deadlines
from feedback.threads.models import Message, Thread, ThreadEvent, ThreadKind, ThreadStatus, Visibility

# Actions on a thread, and who may take them besides curators (who may take them all).
AUTHOR_ACTIONS = {"reply", "withdraw", "reopen", "follow"}
PRODUCER_ACTIONS = {
    "reply",
    "answer_officially",  # a message of the service's member is the service's answer ("Réponse officielle")
    "internal_note",
    "see_internal",
    "change_status",
    "ask_details",
    "transfer",
    "extend",
    "assign",
    "reclassify",
    "follow",
}
USER_ACTIONS = {"reply", "vote", "follow"}
CURATOR_ONLY_ACTIONS = {"route"}
ACTIONS = AUTHOR_ACTIONS | PRODUCER_ACTIONS | USER_ACTIONS | CURATOR_ONLY_ACTIONS | {"view"}


def organisation_ids(user) -> set[int]:
    """The organisations a user answers for: read from `user.memberships`, which the session loads once and
    loads again after a commit (a copy kept on the user object would outlive a change of membership)."""
    if user is None or not user.is_authenticated:
        return set()
    return {membership.organisation_id for membership in user.memberships}


def is_producer_of(user, thread) -> bool:
    return thread.organisation_id is not None and thread.organisation_id in organisation_ids(user)


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated


def can_view(user, thread) -> bool:
    """A public thread: anyone; a restricted data request: its author, the members of the service it is
    addressed to, the curators. `visible_threads` says the same in SQL."""
    if thread.hidden_at is not None:  # hidden by the moderation: the curators only (and its author while held)
        return _signed_in(user) and (user.is_curator or (thread.held_at is not None and thread.author_id == user.id))
    if thread.visibility == Visibility.PUBLIC:
        return True
    if not _signed_in(user):
        return False
    return user.is_curator or thread.author_id == user.id or is_producer_of(user, thread)


def visible_threads(user):
    """SQL condition on `Thread`: the threads `user` (possibly anonymous) may see — `can_view` for many."""
    public = Thread.visibility == Visibility.PUBLIC.value
    shown = Thread.hidden_at.is_(None)
    if not _signed_in(user):
        return sa.and_(public, shown)
    shown = sa.or_(shown, sa.and_(Thread.held_at.is_not(None), Thread.author_id == user.id))
    if user.is_curator:
        return sa.true()
    conditions = [public, Thread.author_id == user.id]
    organisations = organisation_ids(user)
    if organisations:
        conditions.append(Thread.organisation_id.in_(organisations))
    return sa.and_(sa.or_(*conditions), shown)


def _internal_readable_threads(user):
    """SQL condition on `Thread`: the threads whose internal notes and events `user` may read — the service's
    members and the curators (`can(user, "see_internal", thread)` for many)."""
    if not _signed_in(user):
        return sa.false()
    if user.is_curator:
        return sa.true()
    organisations = organisation_ids(user)
    return Thread.organisation_id.in_(organisations) if organisations else sa.false()


def _of_threads(column, condition):
    """`column` (a thread id) names a thread meeting `condition`: a lookup by primary key for each row, whatever
    the number of threads."""
    return sa.exists().where(Thread.id == column, condition)


def readable_messages(user, *, with_hidden: bool = False):
    """SQL condition on `Message`: the messages `user` may read — of a thread they may see, not hidden by the
    moderation (`with_hidden`: the thread's page, which shows a notice in their place), and public unless they
    may read the thread's internal notes."""
    internal = _internal_readable_threads(user)
    return sa.and_(
        _of_threads(Message.thread_id, visible_threads(user)),
        sa.true() if with_hidden else Message.hidden_at.is_(None),
        sa.or_(Message.internal.is_(False), _of_threads(Message.thread_id, internal)),
    )


def readable_events(user):
    """SQL condition on `ThreadEvent`: the events of a thread's timeline that `user` may read."""
    internal = _internal_readable_threads(user)
    return sa.and_(
        _of_threads(ThreadEvent.thread_id, visible_threads(user)),
        sa.or_(ThreadEvent.internal.is_(False), _of_threads(ThreadEvent.thread_id, internal)),
    )


def extension_window_open(thread, now: datetime | None = None) -> bool:
    """R124-1: a data request may be extended to two months only within the month after its receipt."""
    return thread.due_at is not None and (now or utcnow()) <= deadlines.legal_due_at(thread.created_at)


def can(user, action: str, thread) -> bool:
    """Whether `user` (possibly anonymous) may take `action` on `thread` now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not can_view(user, thread):
        return False
    if action == "view":
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    is_open = ThreadStatus(thread.status).is_open
    is_author = thread.author_id == user.id
    producer = is_producer_of(user, thread)

    if action == "withdraw":
        return is_open and (is_author or user.is_curator)
    if action == "reopen":
        return not is_open and (is_author or producer or user.is_curator)
    if action == "extend":
        return (
            thread.kind == ThreadKind.DATA_REQUEST
            and is_open
            and not thread.deadline_extended
            and extension_window_open(thread)
            and (producer or user.is_curator)
        )
    if action == "answer_officially":  # the service answers through its members only, not the curators
        return producer
    if action in ("change_status", "ask_details", "transfer", "assign", "reclassify"):
        return is_open and (producer or user.is_curator)
    if action == "vote":  # support is asked of others: neither the author nor the service that answers
        return not is_author and not producer
    if user.is_curator:
        return True
    if action in CURATOR_ONLY_ACTIONS:
        return False
    if producer and action in PRODUCER_ACTIONS:
        return True
    if is_author and action in AUTHOR_ACTIONS:
        return True
    return action in USER_ACTIONS


def can_edit_message(user, message) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and message.author_id == user.id
        and message.hidden_at is None
    )


def status_choices(user, thread) -> list[ThreadStatus]:
    """The statuses `user` may move `thread` to from where it stands."""
    if not can(user, "change_status", thread):
        return []
    current = ThreadStatus(thread.status)
    return [s for s in ThreadStatus if s != current and s != ThreadStatus.WITHDRAWN and s != ThreadStatus.NEW]
