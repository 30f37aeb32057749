"""The catalogue: datasets as published on data.gouv.fr, and the reference lists they are filed under."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from feedback.accounts.models import Organisation
from feedback.database import UTCDateTime, utcnow
from feedback.extensions import Model, db
from feedback.markdown import render_markdown
from feedback.search import FullTextIndex


class TerritoryKind(enum.StrEnum):
    COUNTRY = "country"
    REGION = "region"
    DEPARTEMENT = "departement"
    COMMUNE = "commune"


class Territory(Model):
    """A place of the INSEE COG: `FR`, a région `R84`, a département `D45`, a commune `C45234`."""

    __tablename__ = "territory"

    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("territory.code"), index=True)
    chef_lieu: Mapped[str | None] = mapped_column(sa.String(5))

    @property
    def label(self) -> str:
        if self.kind == TerritoryKind.DEPARTEMENT:
            return f"{self.name} ({self.code[1:]})"
        return self.name


class ThemeScheme(enum.StrEnum):
    INSPIRE = "inspire"
    ECOSPHERES = "ecospheres"


class Theme(Model):
    __tablename__ = "theme"
    __table_args__ = (sa.UniqueConstraint("scheme", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(sa.String(16))
    code: Mapped[str] = mapped_column(sa.String(100))
    label: Mapped[str] = mapped_column(sa.String(200))
    uri: Mapped[str | None] = mapped_column(sa.String(500))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("theme.id"))
    # INSPIRE: the tag slug data.gouv.fr uses for the theme; Ecosphères: its alternative labels.
    tag_slug: Mapped[str | None] = mapped_column(sa.String(200))
    alt_labels: Mapped[str | None] = mapped_column(sa.Text)


dataset_theme = sa.Table(
    "dataset_theme",
    db.metadata,
    sa.Column("dataset_id", sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True, index=True),
)

dataset_territory = sa.Table(
    "dataset_territory",
    db.metadata,
    sa.Column("dataset_id", sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("territory_code", sa.ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True, index=True),
)


# udata's update frequencies (the export's `frequency` column), in French.
FREQUENCY_LABELS = {
    "unknown": "Inconnue",
    "punctual": "Ponctuelle",
    "continuous": "En continu",
    "hourly": "Toutes les heures",
    "fourTimesADay": "Quatre fois par jour",
    "threeTimesADay": "Trois fois par jour",
    "semidaily": "Deux fois par jour",
    "severalTimesADay": "Plusieurs fois par jour",
    "daily": "Quotidienne",
    "fourTimesAWeek": "Quatre fois par semaine",
    "threeTimesAWeek": "Trois fois par semaine",
    "semiweekly": "Deux fois par semaine",
    "weekly": "Hebdomadaire",
    "biweekly": "Toutes les deux semaines",
    "threeTimesAMonth": "Trois fois par mois",
    "semimonthly": "Deux fois par mois",
    "monthly": "Mensuelle",
    "bimonthly": "Tous les deux mois",
    "quarterly": "Trimestrielle",
    "threeTimesAYear": "Trois fois par an",
    "semiannual": "Semestrielle",
    "annual": "Annuelle",
    "biennial": "Tous les deux ans",
    "triennial": "Tous les trois ans",
    "quinquennial": "Tous les cinq ans",
    "irregular": "Irrégulière",
    "notPlanned": "Pas de mise à jour prévue",
}


class Dataset(Model):
    __tablename__ = "dataset"
    __table_args__ = (
        sa.Index("ix_dataset_organisation_title", "organisation_id", "title"),
        # The catalogue's lists: current datasets (archived false), most recently updated or by title.
        # search_title makes the first one cover a search sorted by relevance (words found in the title).
        sa.Index("ix_dataset_current_recent", "archived", "modified_at", "id", "search_title"),
        sa.Index("ix_dataset_current_title", "archived", "title", "id"),
        # A dataset field given a title (`resolver.look_up_dataset`): accents and case ignored.
        sa.Index("ix_dataset_search_title", "search_title"),
    )

    # Short columns first, long texts last: SQLite reads a row's columns in order, so a scan that needs
    # archived_at or modified_at does not wade through the description.
    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[str] = mapped_column(sa.String(24), unique=True)
    # Indexed by ix_dataset_organisation_title, whose first column it is.
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"))
    # Kept with archived_at (archived ↔ a date): the lists filter on this flag. The planner's statistics
    # know a flag has two values; on the dates, nearly all distinct, "IS NULL" would look like a rare value.
    archived: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slug: Mapped[str] = mapped_column(sa.String(255), index=True)
    geoide_record_id: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    resources_count: Mapped[int] = mapped_column(default=0)
    temporal_start: Mapped[date | None] = mapped_column(sa.Date)
    temporal_end: Mapped[date | None] = mapped_column(sa.Date)
    # Fingerprint of the imported source fields: an identical re-import touches nothing.
    content_hash: Mapped[str] = mapped_column(sa.String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[str] = mapped_column(sa.String(500))
    # The title normalised (lower case, no accents): search results holding the words in it come first.
    search_title: Mapped[str] = mapped_column(sa.String(500), default="")
    acronym: Mapped[str | None] = mapped_column(sa.String(100))
    licence: Mapped[str | None] = mapped_column(sa.String(200))
    frequency: Mapped[str | None] = mapped_column(sa.String(50))
    spatial_granularity: Mapped[str | None] = mapped_column(sa.String(50))
    resources_formats: Mapped[str | None] = mapped_column(sa.String(500))
    # The metadata checks (`feedback.catalogue.quality`), computed at import: the weighted share passed (0–100)
    # and the ids of the checks failed. None until the dataset is imported after the checks existed.
    metadata_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    metadata_failed_checks: Mapped[list[str] | None] = mapped_column(sa.JSON)
    landing_url: Mapped[str | None] = mapped_column(sa.String(500))
    geoide_url: Mapped[str | None] = mapped_column(sa.String(1000))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    zones: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The description rendered and sanitised once, when it is written (`feedback.markdown`).
    description_html: Mapped[str] = mapped_column(sa.Text, default="")
    # Normalised title, acronym, producer, tags and description: what full-text search reads.
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    organisation: Mapped[Organisation | None] = relationship(lazy="joined", innerjoin=False)
    themes: Mapped[list[Theme]] = relationship(secondary=dataset_theme, order_by=Theme.label)
    territories: Mapped[list[Territory]] = relationship(secondary=dataset_territory, order_by=Territory.code)

    @validates("description")
    def _render_description(self, key, value: str | None) -> str | None:
        self.description_html = str(render_markdown(value))
        return value

    @property
    def datagouv_url(self) -> str:
        return self.landing_url or f"https://www.data.gouv.fr/datasets/{self.catalogue_id}/"

    @property
    def frequency_label(self) -> str:
        if not self.frequency:
            return "Non précisée"
        return FREQUENCY_LABELS.get(self.frequency, self.frequency)

    @property
    def is_archived(self) -> bool:
        return self.archived

    def __repr__(self) -> str:
        return f"<Dataset {self.catalogue_id} {self.slug}>"


DATASET_SEARCH = FullTextIndex("dataset", "search_text")
