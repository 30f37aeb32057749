"""What the API reads and answers, as pydantic models: spectree checks requests against them and writes the
OpenAPI document from them (JSON Schema 2020-12, as OpenAPI 3.1 has it)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from feedback.threads.models import DeclineReason, RequestWant, ThreadKind, ThreadStatus, UseCase

MAX_PAGE_SIZE = 100


class Strict(BaseModel):
    """A request body: unknown fields are refused rather than ignored (a misspelt field is an error)."""

    model_config = ConfigDict(extra="forbid")


# Errors -----------------------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error: a code, a French message, and the invalid fields with their messages (empty otherwise)."""

    error: str = Field(description="bad_request, unauthorized, forbidden, not_found, conflict, invalid_fields…")
    message: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


# Pagination ---------------------------------------------------------------------------------------------------


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=100_000, description="Numéro de page, à partir de 1.")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description=f"Éléments par page ({MAX_PAGE_SIZE} au plus).")


class PageFields(BaseModel):
    page: int
    page_size: int
    total: int = Field(
        description="Le nombre d'éléments ; au-delà de 1 000, la liste n'est pas comptée plus loin (total_exact faux)."
    )
    total_exact: bool
    next_page: int | None
    previous_page: int | None


# Shared pieces -------------------------------------------------------------------------------------------------


class OrganisationRef(BaseModel):
    slug: str
    name: str


class DatasetRef(BaseModel):
    id: str = Field(description="Identifiant data.gouv.fr (24 caractères hexadécimaux).")
    slug: str
    title: str


class PersonRef(BaseModel):
    name: str


# Threads -------------------------------------------------------------------------------------------------------


class StateFilter(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ThreadSort(StrEnum):
    ACTIVITY = "activity"
    RECENT = "recent"
    VOTES = "votes"
    DUE = "due"
    RELEVANCE = "relevance"


class ThreadQuery(PageQuery):
    """The filters of the thread list, those of the /fils page."""

    q: str = Field("", max_length=300, description="Mots cherchés dans le titre et les messages.")
    kind: ThreadKind | None = None
    status: ThreadStatus | None = None
    state: StateFilter | None = None
    producer: str = Field("", max_length=255, description="Slug du service producteur.")
    dataset: str = Field("", max_length=24, description="Identifiant data.gouv.fr du jeu de données.")
    theme: str = Field("", max_length=100, description="Code du thème INSPIRE (hy, lc…).")
    territory: str = Field("", max_length=16, description="Code du territoire (R84, D45…).")
    use_case: UseCase | None = None
    overdue: bool = Field(False, description="Seulement les fils ouverts dont l'échéance est passée.")
    mine: bool = Field(False, description="Seulement les fils de l'appelant.")
    assigned: bool = Field(False, description="Seulement les fils assignés à l'appelant.")
    date_from: date | None = Field(None, description="Reçus ce jour ou après (heure de Paris).")
    date_to: date | None = Field(None, description="Reçus ce jour ou avant (heure de Paris).")
    sort: ThreadSort | None = None


class ThreadSummary(BaseModel):
    id: int
    kind: ThreadKind
    title: str
    status: ThreadStatus
    is_open: bool
    restricted: bool
    dataset: DatasetRef | None
    organisation: OrganisationRef | None
    territory: str | None
    use_case: UseCase | None
    quality_category: str | None
    created_at: datetime
    last_activity_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    votes_count: int
    messages_count: int = Field(description="Messages publics.")
    followers_count: int
    url: str = Field(description="La page du fil.")


class ThreadPage(PageFields):
    data: list[ThreadSummary]


class AttachmentOut(BaseModel):
    name: str
    content_type: str
    size: int = Field(description="En octets.")
    url: str = Field(
        description="GET /api/v1/threads/{thread_id}/files/{attachment_id} : le fichier, servi à qui peut lire le "
        "message (avec le même jeton, ou la session), en pièce jointe ; 404 aux autres."
    )


class MessageOut(BaseModel):
    id: int
    author: PersonRef
    as_organisation: OrganisationRef | None = Field(description="Le service au nom duquel le message répond.")
    purpose: str
    internal: bool
    created_at: datetime
    edited_at: datetime | None
    body: str = Field(description="Le texte en Markdown.")
    body_html: str = Field(description="Le texte rendu en HTML, nettoyé.")
    attachments: list[AttachmentOut]


class ThreadOut(ThreadSummary):
    version: int = Field(description="À renvoyer avec les actions qui changent le fil : 409 s'il a changé.")
    deadline_extended: bool
    decline_reason: str | None = Field(description="Le motif d'un refus (not_held, confidential, too_general…).")
    duplicate_of: int | None
    resolution_dataset: DatasetRef | None
    actions: list[str] = Field(description="Les actions que l'appelant peut faire sur ce fil.")
    messages: list[MessageOut]


class NewThreadIn(Strict):
    kind: ThreadKind
    title: str = Field(max_length=200)
    body: str = Field(max_length=50_000)
    dataset: str | None = Field(None, max_length=2000, description="Tout identifiant ou adresse du jeu de données.")
    organisation: str | None = Field(None, max_length=255, description="Slug du service producteur.")
    quality_category: str | None = Field(None, max_length=40)
    use_case: UseCase | None = None
    territory: str | None = Field(None, max_length=16)
    theme: str | None = Field(None, max_length=120, description="« inspire:hy » ou « ecospheres:<code> ».")
    related_datasets: list[str] = Field(default_factory=list, max_length=20)
    request_want: RequestWant | None = None
    wished_on: date | None = None
    restricted: bool = False


class ReplyIn(Strict):
    body: str = Field(max_length=50_000)
    internal: bool = Field(False, description="Une note interne (membres du service et administrateurs).")


class Versioned(Strict):
    version: int = Field(ge=0, le=2_147_483_647, description="La version du fil lue avant d'agir.")


class StatusIn(Versioned):
    status: ThreadStatus
    decline_reason: DeclineReason | None = None
    motive: str = Field("", max_length=50_000)
    duplicate_of: int | None = Field(None, ge=1, le=2_147_483_647)
    resolution_dataset: str | None = Field(None, max_length=2000)


class DetailsRequestIn(Versioned):
    question: str = Field(max_length=50_000)


class TransferIn(Versioned):
    organisation: str = Field(max_length=255, description="Slug du service destinataire.")
    message: str = Field(max_length=50_000)


class ExtensionIn(Versioned):
    motive: str = Field(max_length=50_000)


class AssignmentIn(Versioned):
    assignee: int | None = Field(None, ge=1, le=2_147_483_647, description="Id du membre, ou null.")


class ReclassificationIn(Versioned):
    kind: ThreadKind
    quality_category: str | None = Field(None, max_length=40)


class WithdrawalIn(Versioned):
    motive: str = Field("", max_length=50_000)


class RoutingIn(Strict):
    organisation: str = Field(max_length=255)


class ToggleOut(BaseModel):
    active: bool = Field(description="Vrai : l'appelant soutient (ou suit) désormais le fil.")


# Datasets and organisations -------------------------------------------------------------------------------------


class StatusCounts(BaseModel):
    total: int
    open: int
    by_status: dict[str, int]


class DatasetOut(DatasetRef):
    organisation: OrganisationRef | None
    landing_url: str | None
    geoide_record_id: str | None
    licence: str | None
    frequency: str | None
    archived: bool
    url: str
    threads: StatusCounts


class OrganisationOut(OrganisationRef):
    kind: str
    is_producer: bool
    territory: str | None
    datagouv_id: str | None
    website: str | None
    url: str
    threads: StatusCounts


class IndicatorQuery(BaseModel):
    date_from: date | None = Field(None, description="Fils reçus ce jour ou après.")
    date_to: date | None = Field(None, description="Fils reçus ce jour ou avant.")


class IndicatorsOut(BaseModel):
    """The figures of the capitalisation module for one service (public threads only)."""

    slug: str
    name: str
    received: int
    answered: int
    answered_share: float | None
    median_working_days: float | None
    p90_working_days: float | None
    resolved: int
    declined: int
    declined_by_reason: dict[str, int]
    data_requests: int
    overdue: int
    overdue_share: float | None
    quality_by_category: dict[str, int]
    date_from: date | None
    date_to: date | None


# Reports and notifications ----------------------------------------------------------------------------------------


class ReportSummary(BaseModel):
    slug: str
    title: str
    summary: str = Field(description="Résumé en Markdown.")
    producer: OrganisationRef | None
    published_at: datetime | None
    url: str


class ReportPage(PageFields):
    data: list[ReportSummary]


class ReportOut(ReportSummary):
    summary_html: str
    figures: dict[str, Any] = Field(description="Les chiffres et recommandations figés à la publication.")


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(PageFields):
    data: list[NotificationOut]
