"""Notifications: one row per recipient and event, shown in the application and e-mailed from this same
table by the mail worker (the outbox), at once or in a digest as the recipient chose.

This layer knows people, not threads: a notification carries what it needs to be shown (its text and
the path it leads to), and the ids of what it concerns as plain integers, without foreign keys to the
layers above.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model

MAX_TEXT_LENGTH = 400
MAX_LINK_LENGTH = 300


class NotificationKind(enum.StrEnum):
    THREAD_CREATED = "thread_created"
    FOLLOWED_THREAD = "followed_thread"  # a new thread on a dataset or an organisation one follows
    MESSAGE = "message"
    INTERNAL_NOTE = "internal_note"
    STATUS_CHANGED = "status_changed"
    TRANSFERRED = "transferred"
    ROUTED = "routed"
    DEADLINE_EXTENDED = "deadline_extended"
    ASSIGNED = "assigned"
    DEADLINE_REMINDER = "deadline_reminder"
    ESCALATION = "escalation"
    REPORT_PUBLISHED = "report_published"
    MODERATION = "moderation"  # what became of one's report of a message or a thread
    JOIN_REQUEST = "join_request"  # an agent asks to join a service; what became of one's own request

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    NotificationKind.THREAD_CREATED: "Nouveau fil",
    NotificationKind.FOLLOWED_THREAD: "Nouveau fil suivi",
    NotificationKind.MESSAGE: "Message",
    NotificationKind.INTERNAL_NOTE: "Note interne",
    NotificationKind.STATUS_CHANGED: "Statut",
    NotificationKind.TRANSFERRED: "Transfert",
    NotificationKind.ROUTED: "Orientation",
    NotificationKind.DEADLINE_EXTENDED: "Délai prolongé",
    NotificationKind.ASSIGNED: "Assignation",
    NotificationKind.DEADLINE_REMINDER: "Échéance proche",
    NotificationKind.ESCALATION: "Relance",
    NotificationKind.REPORT_PUBLISHED: "Rapport publié",
    NotificationKind.MODERATION: "Modération",
    NotificationKind.JOIN_REQUEST: "Demande de rattachement",
}


class MailState(enum.StrEnum):
    """Where a notification stands for e-mail: `pending` until the worker looks at it, then `queued` (its
    own mail is in the outbox), `digest` (waits for its recipient's daily or weekly digest), `digested`
    (went out in one), or `skipped` (the recipient wants no mail of that kind)."""

    PENDING = "pending"
    QUEUED = "queued"
    DIGEST = "digest"
    DIGESTED = "digested"
    SKIPPED = "skipped"


class Frequency(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"

    @property
    def label(self) -> str:
        return FREQUENCY_LABELS[self]


FREQUENCY_LABELS = {
    Frequency.IMMEDIATE: "Tout de suite",
    Frequency.DAILY: "Résumé quotidien",
    Frequency.WEEKLY: "Résumé hebdomadaire",
    Frequency.NEVER: "Jamais",
}


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        allowed_values("kind", NotificationKind),
        # The bell: the unread ones of a person, counted on every page.
        sa.Index("ix_notification_recipient_read", "recipient_id", "read_at"),
        # The list: a person's notifications, newest first.
        sa.Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        # The mail worker: what it has not looked at yet, and each person's digest.
        allowed_values("mail_state", MailState),
        sa.Index("ix_notification_mail_state", "mail_state", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    # What it concerns (a thread and the event of its log), as plain ids: no foreign key to upper layers.
    thread_id: Mapped[int | None] = mapped_column()
    event_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_state: Mapped[str] = mapped_column(sa.String(10), default=MailState.PENDING.value)
    # When the mail that carries it (its own or a digest) was accepted by the server.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A path of this site, such as "/fils/12#message-34".
    link: Mapped[str] = mapped_column(sa.String(MAX_LINK_LENGTH))
    # A short French sentence, written when the event happened.
    text: Mapped[str] = mapped_column(sa.String(MAX_TEXT_LENGTH))

    @property
    def kind_label(self) -> str:
        return NotificationKind(self.kind).label

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} to {self.recipient_id}>"


class NotificationPreference(Model):
    """How often someone wants mail of one topic (a notification kind, or `summary` for the weekly summary of
    where things stand). No row: the default of that topic (`preferences.default_frequency`)."""

    __tablename__ = "notification_preference"
    __table_args__ = (allowed_values("frequency", Frequency),)

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    frequency: Mapped[str] = mapped_column(sa.String(10))
