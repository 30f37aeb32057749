"""A report of a message or a thread by someone who read it, and how the curators closed it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import User
from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model
from feedback.threads.models import Message, Thread


class ReportReason(enum.StrEnum):
    PERSONAL_DATA = "personal_data"
    ABUSE = "abuse"
    SPAM = "spam"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    ReportReason.PERSONAL_DATA: "Données personnelles",
    ReportReason.ABUSE: "Propos injurieux",
    ReportReason.SPAM: "Spam",
    ReportReason.OTHER: "Autre",
}


class ReportOutcome(enum.StrEnum):
    HIDDEN = "hidden"  # the message or the thread was hidden
    DISMISSED = "dismissed"  # the curators kept it as it is

    @property
    def label(self) -> str:
        return "Contenu masqué" if self is ReportOutcome.HIDDEN else "Signalement classé sans suite"


class ModerationReport(Model):
    __tablename__ = "moderation_report"
    __table_args__ = (
        allowed_values("reason", ReportReason),
        allowed_values("outcome", ReportOutcome),
        # The queue: the open reports, oldest first.
        sa.Index("ix_moderation_report_open", "closed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    # None: the report is about the thread itself (its title, its first message as a whole).
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(sa.String(20))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    thread: Mapped[Thread] = relationship()
    message: Mapped[Message | None] = relationship()

    @property
    def reason_label(self) -> str:
        return ReportReason(self.reason).label

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
