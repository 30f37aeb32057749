"""The figures kept in the thread rows, checked against what they count.

Lists, indicators and reports read counters and times kept in each thread row rather than counting rows each
time: its messages (all, and public), its supporters, its followers, when its service received it, first
responded and answered (`threads.answers`). `differences` recomputes every one of them from the rows they sum
up and says where the stored value differs; `reports verify` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa

from feedback.threads import answers
from feedback.threads.models import Message, Subscription, Thread, Vote


class Difference(NamedTuple):
    thread_id: int
    figure: str
    stored: object
    recomputed: object


def _counted(column, condition=None):
    statement = sa.select(column, sa.func.count()).group_by(column)
    if condition is not None:
        statement = statement.where(condition)
    return statement


# figure → the grouped query that counts it, by thread id.
COUNTERS: dict[str, Callable[[], sa.Select]] = {
    "messages_count": lambda: _counted(Message.thread_id),
    # What readers see: neither internal notes nor messages hidden by the moderation.
    "public_messages_count": lambda: _counted(
        Message.thread_id, sa.and_(Message.internal.is_(False), Message.hidden_at.is_(None))
    ),
    "votes_count": lambda: _counted(Vote.thread_id),
    "followers_count": lambda: _counted(Subscription.thread_id),
}


def differences(session, on_step: Callable[[], None] | None = None) -> list[Difference]:
    """Every stored figure of every thread that differs from what its rows say, sorted by thread."""
    found: list[Difference] = []
    stored = session.execute(sa.select(Thread.id, *(getattr(Thread, figure) for figure in COUNTERS))).all()
    for index, figure in enumerate(COUNTERS):
        counted = dict(session.execute(COUNTERS[figure]()).all())
        found += [
            Difference(row[0], figure, row[index + 1], counted.get(row[0], 0))
            for row in stored
            if row[index + 1] != counted.get(row[0], 0)
        ]
        if on_step is not None:
            on_step()
    found += [Difference(*difference) for difference in answers.differences(session)]
    if on_step is not None:
        on_step()
    return sorted(found)


STEPS = len(COUNTERS) + 1
