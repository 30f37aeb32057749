"""Reports and their recommendations.

A report is a scope (the criteria of `scope.Scope`, kept as JSON) and a text; while it is a draft its figures
are computed live; publishing freezes them, with the recommendations, into `snapshot`, which is what the
published page, its exports and its JSON show ever after.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from feedback.accounts.models import Organisation, User
from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model
from feedback.markdown import render_markdown


class ReportStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return {ReportStatus.DRAFT: "Brouillon", ReportStatus.PUBLISHED: "Publié"}[self]


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return {Priority.HIGH: "Haute", Priority.MEDIUM: "Moyenne", Priority.LOW: "Basse"}[self]


class Report(Model):
    __tablename__ = "report"
    __table_args__ = (
        allowed_values("status", ReportStatus),
        sa.Index("ix_report_status_published", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # markdown
    summary_html: Mapped[str] = mapped_column(sa.Text, default="")  # rendered once, when written
    # The scope's criteria (Scope.to_json); restricted threads are never in a report's figures.
    scope: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # A restitution report: the producer it is for (its figures next to the national median).
    producer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReportStatus.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Frozen at publication: the figures and the recommendations, as the report's JSON export.
    snapshot: Mapped[dict | None] = mapped_column(sa.JSON)

    producer: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Recommendation.position"
    )

    @validates("summary")
    def _render_summary(self, key, value: str | None) -> str | None:
        self.summary_html = str(render_markdown(value))
        return value

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED.value


class Recommendation(Model):
    __tablename__ = "recommendation"
    __table_args__ = (
        allowed_values("priority", Priority),
        sa.Index("ix_recommendation_report_position", "report_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    # Who it is for: one producer, or every producer when null.
    audience_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    priority: Mapped[str] = mapped_column(sa.String(10), default=Priority.MEDIUM.value)
    # The rule that drafted it ("dead_links", ...); null for one a curator wrote.
    rule: Mapped[str | None] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text, default="")  # markdown
    text_html: Mapped[str] = mapped_column(sa.Text, default="")  # rendered once, when written
    # The figures it rests on and the ids of the threads behind them.
    evidence: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    edited: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    report: Mapped[Report] = relationship(back_populates="recommendations")
    audience: Mapped[Organisation | None] = relationship()

    @validates("text")
    def _render_text(self, key, value: str | None) -> str | None:
        self.text_html = str(render_markdown(value))
        return value


class DemandEntry(Model):
    """A data request or missing-data report in one of its themes (`theme_id` None: it has none), with its
    normalised title and the first thread of its group of similar requests there (`capitalisation.demand`)."""

    __tablename__ = "demand_entry"
    __table_args__ = (
        # A scope's groups and its theme × territory table read this index alone, joined to the threads.
        sa.Index("ix_demand_entry_thread", "thread_id", "theme_id", "leader_id"),
        sa.Index("ix_demand_entry_theme_leader", "theme_id", "leader_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("theme.id", ondelete="CASCADE"))
    leader_id: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200), default="")
