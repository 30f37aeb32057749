"""Threads: requests and reports on the catalogue, their messages, and the log of everything that happens."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import Organisation, User
from feedback.catalogue.models import Dataset, Territory, Theme
from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model, db
from feedback.search import FullTextIndex


class ThreadKind(enum.StrEnum):
    DATA_REQUEST = "data_request"
    QUALITY_ISSUE = "quality_issue"
    MISSING_DATA = "missing_data"
    QUESTION = "question"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    ThreadKind.DATA_REQUEST: "Demande de données",
    ThreadKind.QUALITY_ISSUE: "Signalement qualité",
    ThreadKind.MISSING_DATA: "Donnée manquante",
    ThreadKind.QUESTION: "Question",
}


class ThreadStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    NEEDS_INFO = "needs_info"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DECLINED = "declined"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


STATUS_LABELS = {
    ThreadStatus.NEW: "Nouveau",
    ThreadStatus.ACKNOWLEDGED: "Pris en compte",
    ThreadStatus.NEEDS_INFO: "Précisions demandées",
    ThreadStatus.IN_PROGRESS: "En cours",
    ThreadStatus.RESOLVED: "Résolu",
    ThreadStatus.DECLINED: "Refusé",
    ThreadStatus.DUPLICATE: "Doublon",
    ThreadStatus.WITHDRAWN: "Retiré",
}
OPEN_STATUSES = frozenset(
    {ThreadStatus.NEW, ThreadStatus.ACKNOWLEDGED, ThreadStatus.NEEDS_INFO, ThreadStatus.IN_PROGRESS}
)
CLOSED_STATUSES = frozenset(set(ThreadStatus) - OPEN_STATUSES)


class MessagePurpose(enum.StrEnum):
    """What a message is for. Only an answer and a request for details are the service's response to the
    requester (`threads.answers`); the other words of the service go with an event of their own."""

    REPLY = "reply"  # anyone's message who does not answer for the service
    ANSWER = "answer"  # the service's answer, written by a member of the service that owns the thread
    DETAILS_REQUEST = "details_request"  # the service asks the requester to clarify (R124-1)
    TRANSFER_NOTE = "transfer_note"  # why the thread goes to another service
    EXTENSION_MOTIVE = "extension_motive"  # why the deadline is extended to two months (R124-1)
    INTERNAL_NOTE = "internal_note"  # for the service and the curators only

    @property
    def label(self) -> str:
        return MESSAGE_PURPOSE_LABELS[self]


MESSAGE_PURPOSE_LABELS = {
    MessagePurpose.REPLY: "Message",
    MessagePurpose.ANSWER: "Réponse officielle",
    MessagePurpose.DETAILS_REQUEST: "Demande de précisions",
    MessagePurpose.TRANSFER_NOTE: "Note de transfert",
    MessagePurpose.EXTENSION_MOTIVE: "Motif de prolongation",
    MessagePurpose.INTERNAL_NOTE: "Note interne",
}


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    RESTRICTED = "restricted"  # the author, the target organisation, the curators


class UseCase(enum.StrEnum):
    PCAET = "pcaet"
    SCOT = "scot"
    PLU = "plu"
    SRADDET = "sraddet"
    IMPACT_STUDY = "impact_study"
    ENVIRONMENTAL_ASSESSMENT = "environmental_assessment"
    GREEN_BLUE_GRID = "green_blue_grid"
    RISK_PREVENTION = "risk_prevention"
    GEMAPI = "gemapi"
    ZAN = "zan"
    ENERGY_RENOVATION = "energy_renovation"
    MOBILITY = "mobility"
    OTHER = "other"

    @property
    def label(self) -> str:
        return USE_CASE_LABELS[self]


USE_CASE_LABELS = {
    UseCase.PCAET: "PCAET (plan climat-air-énergie territorial)",
    UseCase.SCOT: "SCoT (schéma de cohérence territoriale)",
    UseCase.PLU: "PLU(i) (plan local d'urbanisme)",
    UseCase.SRADDET: "SRADDET",
    UseCase.IMPACT_STUDY: "Étude d'impact",
    UseCase.ENVIRONMENTAL_ASSESSMENT: "Évaluation environnementale",
    UseCase.GREEN_BLUE_GRID: "Trame verte et bleue",
    UseCase.RISK_PREVENTION: "PPR (prévention des risques)",
    UseCase.GEMAPI: "GEMAPI",
    UseCase.ZAN: "ZAN (zéro artificialisation nette)",
    UseCase.ENERGY_RENOVATION: "Rénovation énergétique",
    UseCase.MOBILITY: "Mobilité",
    UseCase.OTHER: "Autre",
}


class RequestWant(enum.StrEnum):
    """What a data request asks for."""

    ACCESS = "access"
    EXTRACT = "extract"
    FORMAT = "format"
    UPDATE = "update"

    @property
    def label(self) -> str:
        return {
            "access": "Accès à une donnée non publiée",
            "extract": "Un extrait (territoire, période…)",
            "format": "Un autre format",
            "update": "Une mise à jour",
        }[self]


class DeclineReason(enum.StrEnum):
    NOT_HELD = "not_held"
    CONFIDENTIAL = "confidential"
    TOO_GENERAL = "too_general"
    ABUSIVE = "abusive"
    NOT_ENVIRONMENTAL = "not_environmental"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "not_held": "La donnée n'est pas détenue par le service",
            "confidential": "Secret protégé par la loi (art. L124-4 et L124-5 du code de l'environnement)",
            "too_general": "Demande trop générale, malgré l'invitation à la préciser",
            "abusive": "Demande abusive (nombre, caractère répétitif ou systématique)",
            "not_environmental": "Hors du champ de l'information environnementale",
            "other": "Autre motif",
        }[self]


thread_theme = sa.Table(
    "thread_theme",
    db.metadata,
    sa.Column("thread_id", sa.ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True, index=True),
)

thread_related_dataset = sa.Table(
    "thread_related_dataset",
    db.metadata,
    sa.Column("thread_id", sa.ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dataset_id", sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True, index=True),
)


# The columns of `ix_thread_figures`: the scope's criteria first (the period), then what is counted.
FIGURE_COLUMNS = (
    "visibility", "created_at", "kind", "status", "organisation_id", "use_case", "quality_category", "dataset_id",
    "territory_code", "is_open", "due_at", "answered_at", "response_working_days", "response_days",
    "decline_reason", "votes_count", "public_messages_count", "id",
)  # fmt: skip
PRODUCER_FIGURE_COLUMNS = ("organisation_id", *(column for column in FIGURE_COLUMNS if column != "organisation_id"))


class Thread(Model):
    __tablename__ = "thread"
    __table_args__ = (
        allowed_values("kind", ThreadKind),
        allowed_values("status", ThreadStatus),
        allowed_values("visibility", Visibility),
        # Counts by status on organisation and dataset pages (visibility included: no row is read).
        sa.Index("ix_thread_organisation_status", "organisation_id", "status", "visibility"),
        sa.Index("ix_thread_dataset_status", "dataset_id", "status", "visibility"),
        # An organisation's latest threads; its inbox (open threads by due date).
        sa.Index("ix_thread_organisation_activity", "organisation_id", "visibility", "last_activity_at"),
        # The inbox: its lists by deadline, and its counts by tab read from the index alone (migration 0017).
        sa.Index("ix_thread_inbox", "organisation_id", "is_open", "due_at", "status", "assignee_id"),
        sa.Index("ix_thread_status_last_activity", "status", "last_activity_at"),
        # The public list, latest first; search_title lets a search sorted by relevance read this index alone.
        sa.Index("ix_thread_visibility_last_activity", "visibility", "last_activity_at", "id", "search_title"),
        sa.Index("ix_thread_open_due", "is_open", "due_at"),
        # Every column the indicators of a scope read (`capitalisation.indicators`), so that their grouped
        # queries read an index alone, not the rows and their texts: by period, and by producer first.
        sa.Index("ix_thread_figures", *FIGURE_COLUMNS),
        sa.Index(
            "ix_thread_producer_figures", "organisation_id", *(c for c in FIGURE_COLUMNS if c != "organisation_id")
        ),
        # The home page's share of data requests answered in time (`capitalisation.home_figure`): the requests
        # of the last twelve months, without reading the wide index above.
        sa.Index("ix_thread_kind_deadlines", "kind", "visibility", "created_at", "is_open", "due_at", "answered_at"),
    )

    # Short columns first, long texts last (SQLite reads a row's columns in order).
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ThreadStatus.NEW.value)
    # Kept with the status (open statuses ↔ True) so that "open" filters and sorts use one index.
    is_open: Mapped[bool] = mapped_column(default=True)
    visibility: Mapped[str] = mapped_column(sa.String(12), default=Visibility.PUBLIC.value)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataset.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    territory_code: Mapped[str | None] = mapped_column(sa.ForeignKey("territory.code"), index=True)
    use_case: Mapped[str | None] = mapped_column(sa.String(30), index=True)
    quality_category: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    request_want: Mapped[str | None] = mapped_column(sa.String(20))
    wished_on: Mapped[date | None] = mapped_column(sa.Date)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_extended: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("thread.id", ondelete="SET NULL"))
    resolution_dataset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataset.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(sa.String(30))
    votes_count: Mapped[int] = mapped_column(default=0, index=True)
    messages_count: Mapped[int] = mapped_column(default=0)
    public_messages_count: Mapped[int] = mapped_column(default=0)
    followers_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the service that owns the thread received it: its creation, or its last routing or transfer. The
    # service's delays run from here; the legal deadline runs from the creation (`threads.answers`).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The owning service's first response since it received the thread (an answer or a request for details),
    # and when it answered (that response, or its closing the thread with a status, whichever came first).
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # From receipt to first response: working days and calendar days (`answers.response_delays`).
    response_working_days: Mapped[int | None] = mapped_column()
    response_days: Mapped[float | None] = mapped_column(sa.Float)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hidden by the moderation: seen by the curators only, left out of lists, search, feeds and reports.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held for review, a new account's first post (FEEDBACK_HOLD_FIRST_POSTS): hidden, as above, but for its author,
    # until a curator publishes it.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Id of the data.gouv.fr discussion this thread was imported from.
    udata_id: Mapped[str | None] = mapped_column(sa.String(24), unique=True)
    # What the person saw when deciding a change (status, transfer, deadline, assignment, kind): raised only by
    # those changes, compared and set in the database (`services._check_version`). Replies, votes, follows and
    # internal notes leave it alone, so they never conflict and the requester's page does not tell of notes.
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    # The title normalised: search results holding the words in it come first.
    search_title: Mapped[str] = mapped_column(sa.String(200), default="")
    # Normalised title and messages (internal notes left out): what full-text search reads.
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    dataset: Mapped[Dataset | None] = relationship(foreign_keys=[dataset_id])
    resolution_dataset: Mapped[Dataset | None] = relationship(foreign_keys=[resolution_dataset_id])
    organisation: Mapped[Organisation | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    duplicate_of: Mapped[Thread | None] = relationship(remote_side=[id])
    themes: Mapped[list[Theme]] = relationship(secondary=thread_theme, order_by=Theme.label)
    related_datasets: Mapped[list[Dataset]] = relationship(secondary=thread_related_dataset)

    @property
    def kind_label(self) -> str:
        return ThreadKind(self.kind).label

    @property
    def status_label(self) -> str:
        return ThreadStatus(self.status).label

    @property
    def is_restricted(self) -> bool:
        return self.visibility == Visibility.RESTRICTED

    @property
    def use_case_label(self) -> str | None:
        return UseCase(self.use_case).label if self.use_case else None

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.kind} {self.status}>"


class Message(Model):
    __tablename__ = "message"
    __table_args__ = (
        sa.Index("ix_message_thread_created", "thread_id", "created_at"),
        allowed_values("purpose", MessagePurpose),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # Posted on behalf of this organisation: an official answer of the producer.
    as_organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(default=False)
    purpose: Mapped[str] = mapped_column(sa.String(20), default=MessagePurpose.REPLY.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held for review (a new account's first post): hidden but for its author until a curator publishes it.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)

    thread: Mapped[Thread] = relationship()
    author: Mapped[User] = relationship()
    as_organisation: Mapped[Organisation | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.id", back_populates="message", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def purpose_label(self) -> str:
        return MessagePurpose(self.purpose).label

    @property
    def is_official_answer(self) -> bool:
        return self.purpose == MessagePurpose.ANSWER


class Attachment(Model):
    """A file of a message (`threads.attachments`): kept in the storage (`feedback.storage`) under a random key,
    shown and served under its sanitised name, as the type its content was found to be."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    type_label: Mapped[str] = mapped_column(sa.String(20))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class ThreadEvent(Model):
    """One change of any kind to a thread. Rows are only ever added: this is the thread's history."""

    __tablename__ = "thread_event"
    __table_args__ = (sa.Index("ix_thread_event_thread_created", "thread_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    type: Mapped[str] = mapped_column(sa.String(30), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Only producers and curators see the events of internal notes.
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


class Vote(Model):
    """A "moi aussi" on a thread."""

    __tablename__ = "vote"

    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Model):
    """Someone who follows a thread."""

    __tablename__ = "subscription"

    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Model):
    """Someone who follows a dataset or an organisation: they are told of its new threads."""

    __tablename__ = "follow"
    __table_args__ = (
        sa.CheckConstraint("(dataset_id IS NULL) <> (organisation_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("user_id", "dataset_id", name="uq_follow_user_dataset"),
        sa.UniqueConstraint("user_id", "organisation_id", name="uq_follow_user_organisation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    dataset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertLevel(enum.StrEnum):
    REMINDER_7_DAYS = "reminder_7_days"
    REMINDER_1_DAY = "reminder_1_day"
    COORDINATORS = "coordinators"  # escalated to the organisation's coordinators
    CURATORS = "curators"  # escalated to the curators


class DeadlineAlert(Model):
    """A reminder or an escalation that `deadlines check` has sent for a thread: each is sent once.

    `key` is what makes it once: the level and the deadline it was about ("reminder_7_days:2026-12-04", so that
    an extended deadline gets reminders of its own; "coordinators" for an escalation, once per thread)."""

    __tablename__ = "deadline_alert"
    __table_args__ = (
        allowed_values("level", AlertLevel),
        sa.UniqueConstraint("thread_id", "key", name="uq_deadline_alert_thread_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("thread.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


THREAD_SEARCH = FullTextIndex("thread", "search_text")
