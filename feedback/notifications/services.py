"""Telling people, and what they have read. Operations flush; the caller commits once, with the change
that caused the notifications (outbox pattern: they are written or lost together)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from feedback.accounts.models import User
from feedback.database import utcnow
from feedback.extensions import db
from feedback.notifications.models import MAX_LINK_LENGTH, MAX_TEXT_LENGTH, MailState, Notification, NotificationKind
from feedback.pagination import Page, paginate


class NotYours(Exception):
    """A notification of someone else."""


def _shorten(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def notify(
    recipients: Iterable[User],
    kind: NotificationKind | str,
    text: str,
    link: str,
    *,
    thread_id: int | None = None,
    event_id: int | None = None,
    at: datetime | None = None,
) -> list[Notification]:
    """One notification per recipient (each person once, whatever the number of times listed)."""
    kind = NotificationKind(kind)
    if not link.startswith("/") or link.startswith("//") or len(link) > MAX_LINK_LENGTH:
        raise ValueError(f"a notification leads to a path of this site, not {link!r}")
    text = _shorten(text, MAX_TEXT_LENGTH)
    now = at or utcnow()
    recipient_ids = list(dict.fromkeys(recipient.id for recipient in recipients))
    if not recipient_ids:
        return []
    # One INSERT for every recipient (the unit of work would send one per row on SQLite, which cannot promise
    # the order of the rows RETURNING gives back), in the session's transaction.
    rows = [
        {
            "recipient_id": recipient_id,
            "kind": kind.value,
            "text": text,
            "link": link,
            "thread_id": thread_id,
            "event_id": event_id,
            "created_at": now,
            "mail_state": MailState.PENDING.value,
        }
        for recipient_id in recipient_ids
    ]
    notifications = db.session.scalars(sa.insert(Notification).returning(Notification), rows).all()
    return sorted(notifications, key=lambda notification: notification.id)


def unread_count(user) -> int:
    """What the bell shows: one count on the (recipient, read) index."""
    if user is None or not user.is_authenticated:
        return 0
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    )
    return count or 0


def notifications_of(user, number: int, size: int) -> Page[Notification]:
    """A page of someone's notifications, newest first."""
    statement = sa.select(Notification).where(Notification.recipient_id == user.id)
    return paginate(statement, [Notification.created_at.desc(), Notification.id.desc()], number, size)


def mark_read(notification: Notification, user) -> None:
    if notification.recipient_id != user.id:
        raise NotYours("Cette notification ne vous est pas adressée.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user) -> int:
    """Mark every unread notification of `user` as read; returns how many were."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return getattr(result, "rowcount", 0)
