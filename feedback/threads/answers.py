"""What counts as the service's response, and as answered: the one definition that the thread page, the lists,
the indicators, the recommendation rules, the reports and the data.gouv.fr import read (DESIGN.md §5.1).

- The *first response* of the service that owns a thread is its first public message to the requester — an
  answer, or a request for details — written by one of its members since it received the thread. A transfer
  note, an extension motive, an assignment, an internal note or an automatic event is not a response, and
  neither is a curator's message: the service answers through its members (`workflow`, "answer_officially").
- A thread is *answered* once its service responded, or closed it with a status (resolved, declined,
  duplicate; the author's withdrawal is not an answer).
- Delays run from the moment the answering service received the thread: its creation, or its last routing or
  transfer. A transfer starts again for the service that receives it: what the previous service wrote was
  its own response, not the new one's.

The thread row keeps `received_at`, `first_response_at` and `answered_at` as the operations happen
(`note_message`, `note_status`, `note_received`); `recompute` finds them again from the messages and the
event log alone, for the migration that introduced them and for `reports verify`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from feedback.accounts.models import Membership
from feedback.clock import working_days_between
from feedback.threads.models import Message, MessagePurpose, Thread, ThreadEvent, ThreadStatus
from feedback.threads.workflow import can

# The purposes of a message that, written for the owning service, are its response to the requester.
RESPONSES = frozenset({MessagePurpose.ANSWER, MessagePurpose.DETAILS_REQUEST})
# The statuses by which a service closes a thread and so answers it.
SERVICE_CLOSINGS = frozenset({ThreadStatus.RESOLVED, ThreadStatus.DECLINED, ThreadStatus.DUPLICATE})
# The events after which another service owns the thread and the count of its delays starts again.
RECEPTIONS = ("routed", "transferred")


def message_purpose(
    author, thread: Thread, *, internal: bool = False, requested: MessagePurpose | None = None
) -> MessagePurpose:
    """What a message `author` writes on `thread` is: an internal note; the purpose its operation gives it (a
    request for details, a transfer note, an extension motive); the service's answer when the author answers
    for the service; a reply otherwise."""
    if internal:
        return MessagePurpose.INTERNAL_NOTE
    if requested is not None:
        return requested
    return MessagePurpose.ANSWER if can(author, "answer_officially", thread) else MessagePurpose.REPLY


def answers_for_service(author, thread: Thread) -> bool:
    """Whether what `author` writes or does on `thread` is the owning service's doing."""
    return can(author, "answer_officially", thread)


def is_response(message: Message) -> bool:
    """Whether `message` is a response of the service it was written for."""
    return message.purpose in RESPONSES and message.as_organisation_id is not None and not message.internal


def response_delays(received_at: datetime, first_response_at: datetime | None) -> tuple[int | None, float | None]:
    """From receipt to first response: working days (Paris days, holidays excluded) and calendar days (a
    fraction); None for both without a response. Kept in the thread row for the indicators."""
    if first_response_at is None:
        return None, None
    days = (first_response_at - received_at).total_seconds() / 86400
    return working_days_between(received_at, first_response_at), days


def note_message(thread: Thread, message: Message) -> None:
    """Keep the thread's figures as `message` is posted: a response sets the first response and answers."""
    if is_response(message) and message.as_organisation_id == thread.organisation_id:
        if thread.first_response_at is None:
            thread.first_response_at = message.created_at
            thread.response_working_days, thread.response_days = response_delays(thread.received_at, message.created_at)
        if thread.answered_at is None:
            thread.answered_at = message.created_at


def note_status(thread: Thread, status: ThreadStatus, *, by_service: bool, at: datetime) -> None:
    """Keep the thread's figures as its status changes: the service closing it answers it."""
    if by_service and status in SERVICE_CLOSINGS and thread.answered_at is None:
        thread.answered_at = at


def note_received(thread: Thread, at: datetime) -> None:
    """Another service received the thread (routing, transfer): its delays start now, it has not answered."""
    thread.received_at = at
    thread.first_response_at = None
    thread.response_working_days = thread.response_days = None
    thread.answered_at = None


def answered_condition():
    """SQL condition on `Thread`: answered by its service."""
    return Thread.answered_at.is_not(None)


# Finding the figures again from the history ---------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    received_at: datetime
    first_response_at: datetime | None
    answered_at: datetime | None

    @property
    def response_working_days(self) -> int | None:
        return response_delays(self.received_at, self.first_response_at)[0]

    @property
    def response_days(self) -> float | None:
        return response_delays(self.received_at, self.first_response_at)[1]


def recompute(session, thread_ids: Iterable[int] | None = None, *, chunk: int = 2000) -> dict[int, Figures]:
    """The figures of these threads (all when None) as the messages and the event log say, by thread id; a few
    queries per `chunk` threads. A closing counts as the service's when its event says so (`by_service`);
    events written before that was recorded count when their author is a member of the owning service."""
    if thread_ids is None:
        thread_ids = session.scalars(sa.select(Thread.id).order_by(Thread.id))
    ids = list(thread_ids)
    found: dict[int, Figures] = {}
    for start in range(0, len(ids), chunk):
        found.update(_recompute_chunk(session, ids[start : start + chunk]))
    return found


def _recompute_chunk(session, ids: list[int]) -> dict[int, Figures]:
    created = dict(session.execute(sa.select(Thread.id, Thread.created_at).where(Thread.id.in_(ids))).all())
    history: dict[int, list[tuple]] = defaultdict(list)
    events = session.execute(
        sa.select(ThreadEvent.thread_id, ThreadEvent.created_at, ThreadEvent.id, ThreadEvent.type,
                  ThreadEvent.actor_id, ThreadEvent.payload)
        .where(ThreadEvent.thread_id.in_(ids), ThreadEvent.type.in_(("created", *RECEPTIONS, "status_changed")))
    )  # fmt: skip
    for thread_id, at, event_id, type_, actor_id, payload in events:
        # At one instant a message comes before what it caused (a transfer note before the transfer).
        history[thread_id].append((at, 1, event_id, type_, actor_id, payload or {}))
    messages = session.execute(
        sa.select(Message.thread_id, Message.created_at, Message.id, Message.purpose, Message.as_organisation_id).where(
            Message.thread_id.in_(ids), Message.internal.is_(False), Message.purpose.in_(list(RESPONSES))
        )
    )
    for thread_id, at, message_id, purpose, organisation_id in messages:
        history[thread_id].append((at, 0, message_id, "message", organisation_id, purpose))
    members: dict[int, set[int]] = defaultdict(set)
    for user_id, organisation_id in session.execute(sa.select(Membership.user_id, Membership.organisation_id)):
        members[organisation_id].add(user_id)

    figures = {}
    for thread_id, created_at in created.items():
        owner, received, first, answered = None, created_at, None, None
        for at, _, _, type_, who, detail in sorted(history[thread_id], key=lambda item: item[:3]):
            if type_ == "created":
                owner = detail.get("organisation_id")
            elif type_ in RECEPTIONS:
                owner, received, first, answered = detail.get("organisation_id"), at, None, None
            elif type_ == "message":
                if owner is not None and who == owner:
                    first = first or at
                    answered = answered or at
            elif detail.get("status") in SERVICE_CLOSINGS:
                by_service = detail.get("by_service")
                if by_service is None:
                    by_service = owner is not None and who in members[owner]
                if by_service:
                    answered = answered or at
        figures[thread_id] = Figures(received, first, answered)
    return figures


class Difference(NamedTuple):
    thread_id: int
    column: str
    stored: datetime | int | float | None
    recomputed: datetime | int | float | None


FIGURES = ("received_at", "first_response_at", "answered_at", "response_working_days", "response_days")


def differences(session, *, chunk: int = 2000) -> list[Difference]:
    """Where the figures stored in the thread rows differ from what their history says."""
    ids = list(session.scalars(sa.select(Thread.id).order_by(Thread.id)))
    found = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        computed = _recompute_chunk(session, part)
        stored = session.execute(
            sa.select(Thread.id, *(getattr(Thread, column) for column in FIGURES)).where(Thread.id.in_(part))
        )
        for thread_id, *values in stored:
            for column, value in zip(FIGURES, values, strict=True):
                expected = getattr(computed[thread_id], column)
                if value != expected:
                    found.append(Difference(thread_id, column, value, expected))
    return found
