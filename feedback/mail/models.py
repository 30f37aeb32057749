"""The mail outbox: every mail the platform sends is first a row here."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # to send, at `next_attempt_at`
    SENDING = "sending"  # handed to the server by a worker that has not yet recorded the answer
    SENT = "sent"  # accepted by the server
    FAILED = "failed"  # refused for good (bad address) or out of attempts


class OutgoingMail(Model):
    """The mail outbox: every mail the platform sends (a notification, a digest, an account mail, a reminder)
    is first a row here, written in the transaction of what caused it; the worker delivers it.

    `key` says what the mail is for ("notification:12", "digest:weekly:5:2026-11-23", ...) and is unique: the
    same mail cannot be queued twice. `message_id` is the Message-ID header, fixed when queued, so that a
    mail sent again after a crash is recognisable as the same one."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        allowed_values("status", MailStatus),
        # The worker's query: what is due, oldest first.
        sa.Index("ix_outgoing_mail_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(250))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    # Extra headers, such as List-Unsubscribe.
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    message_id: Mapped[str] = mapped_column(sa.String(250), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.key} {self.status}>"


class InboundStatus(enum.StrEnum):
    POSTED = "posted"  # became a message
    REFUSED = "refused"  # bounced: nothing was created
    IGNORED = "ignored"  # an automatic reply (absence, delivery report): taken, nothing created, no bounce


class InboundMail(Model):
    """Every mail the receiver took responsibility for (it answered 250), once: a mail delivered twice (a relay
    that retries after a lost connection) finds its row here and creates nothing more. `message_key` is its
    Message-ID, or a digest of its content when it has none. The thread and message are plain ids: this layer
    lies below threads."""

    __tablename__ = "inbound_mail"
    __table_args__ = (allowed_values("status", InboundStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(sa.String(250), unique=True)
    sender: Mapped[str] = mapped_column(sa.String(254))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(10))
    # Why it was refused (the bounce's reason, in French).
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    thread_id: Mapped[int | None] = mapped_column()
    posted_message_id: Mapped[int | None] = mapped_column()

    def __repr__(self) -> str:
        return f"<InboundMail {self.id} {self.status}>"
