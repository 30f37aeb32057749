"""Fixtures of the notifications tests: the threads domain's scene (producers, users, a curator) and its web
client, and what the tests read of the notifications."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.extensions import db as _db
from feedback.notifications.models import Notification

from ..threads.conftest import Scene, scene, web  # noqa: F401  (fixtures, shared with the threads tests)


def notifications_of_thread(thread_id: int) -> list[Notification]:
    return list(
        _db.session.scalars(
            sa.select(Notification).where(Notification.thread_id == thread_id).order_by(Notification.id)
        )
    )


def told(cast: Scene, thread_id: int, kind: str | None = None, **others) -> dict[str, list[str]]:
    """Who was told of what on a thread: each recipient's name in the scene (or in `others`, name=user) →
    the kinds of their notifications, in order."""
    names = {
        cast.actor(name).id: name
        for name in ("author", "other_user", "member", "coordinator", "other_producer", "curator")
    }
    names.update({user.id: name for name, user in others.items()})
    result: dict[str, list[str]] = {}
    for notification in notifications_of_thread(thread_id):
        if kind is None or notification.kind == kind:
            result.setdefault(names.get(notification.recipient_id, str(notification.recipient_id)), []).append(
                notification.kind
            )
    return result
