"""Reading the catalogue: the searchable, filterable list of datasets, and a dataset's neighbours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import sqlalchemy as sa
from flask import current_app

from feedback.accounts.models import Organisation
from feedback.catalogue.models import (
    DATASET_SEARCH,
    Dataset,
    Territory,
    TerritoryKind,
    Theme,
    ThemeScheme,
    dataset_territory,
    dataset_theme,
)
from feedback.extensions import db
from feedback.kept_values import kept
from feedback.pagination import COUNT_CAP, Page, paginate
from feedback.search import query_words, relevance_ranks

T = TypeVar("T")

SORTS = {
    "pertinence": "Pertinence",
    "recent": "Mis à jour récemment",
    "titre": "Titre (A → Z)",
}


@dataclass
class DatasetFilters:
    q: str = ""
    producer: str = ""  # organisation slug
    theme: str = ""  # INSPIRE theme code
    territory: str = ""  # territory code
    sort: str = ""
    archived: bool = False

    @property
    def effective_sort(self) -> str:
        if self.sort in SORTS and (self.sort != "pertinence" or query_words(self.q)):
            return self.sort
        return "pertinence" if query_words(self.q) else "recent"

    @property
    def active(self) -> bool:
        return bool(self.q or self.producer or self.theme or self.territory or self.archived)


def _territory_codes(code: str) -> list[str]:
    """A territory and the territories directly inside it (a région and its départements)."""
    children = db.session.scalars(sa.select(Territory.code).where(Territory.parent_code == code))
    return [code, *children]


def search_datasets(filters: DatasetFilters, page: int, size: int, count_cap: int | None = COUNT_CAP) -> Page[Dataset]:
    statement = sa.select(Dataset)
    words = query_words(filters.q)
    if words:
        dialect = db.session.get_bind().dialect.name
        statement = statement.where(DATASET_SEARCH.matching(dialect, Dataset.id, Dataset.search_text, words))
    if not filters.archived:
        statement = statement.where(Dataset.archived.is_(False))
    if filters.producer:
        statement = statement.join(Organisation, Organisation.id == Dataset.organisation_id).where(
            Organisation.slug == filters.producer
        )
    if filters.theme:
        statement = statement.where(
            sa.exists()
            .where(dataset_theme.c.dataset_id == Dataset.id)
            .where(dataset_theme.c.theme_id == Theme.id)
            .where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code == filters.theme)
        )
    if filters.territory:
        statement = statement.where(
            sa.exists()
            .where(dataset_territory.c.dataset_id == Dataset.id)
            .where(dataset_territory.c.territory_code.in_(_territory_codes(filters.territory)))
        )

    sort = filters.effective_sort
    ranks = None
    if sort == "pertinence" and words:
        # Relevance first (how many of the words the title holds), then the latest: one rank at a time.
        ranks = relevance_ranks(Dataset.search_title, words)
        order = [Dataset.modified_at.desc(), Dataset.id.desc()]
    elif sort == "titre":
        order = [Dataset.title, Dataset.id]
    else:
        # Read in order from ix_dataset_current_recent. (A dataset without a date — none in the real export —
        # would come last on SQLite and first on PostgreSQL; NULLS LAST would cost PostgreSQL the index.)
        order = [Dataset.modified_at.desc(), Dataset.id.desc()]
    return paginate(statement, order, page, size, ranks=ranks, count_cap=count_cap)


def _kept_list(name: str, read: Callable[[], list[T]]) -> list[T]:
    """A filter menu's list, as this worker read it less than FEEDBACK_REFERENCE_LISTS_SECONDS ago: services,
    themes and territories change with an import, and reading them was three of a list page's queries."""
    return list(kept(("reference list", name), current_app.config.get("FEEDBACK_REFERENCE_LISTS_SECONDS", 0), read))


def producer_choices() -> list[tuple[str, str]]:
    return _kept_list("producers", _read_producer_choices)


def _read_producer_choices() -> list[tuple[str, str]]:
    return [
        (slug, name)
        for slug, name in db.session.execute(
            sa.select(Organisation.slug, Organisation.name).where(Organisation.is_producer).order_by(Organisation.name)
        )
    ]


def inspire_theme_choices() -> list[tuple[str, str]]:
    return _kept_list("inspire themes", _read_inspire_theme_choices)


def _read_inspire_theme_choices() -> list[tuple[str, str]]:
    return [
        (code, label)
        for code, label in db.session.execute(
            sa.select(Theme.code, Theme.label).where(Theme.scheme == ThemeScheme.INSPIRE).order_by(Theme.label)
        )
    ]


class TerritoryChoice(NamedTuple):
    """A territory as a filter lists it: a plain row, not a mapped object (a list page shows about 130)."""

    code: str
    kind: str
    name: str
    parent_code: str | None

    @property
    def label(self) -> str:  # as Territory.label
        return f"{self.name} ({self.code[1:]})" if self.kind == TerritoryKind.DEPARTEMENT else self.name


def territory_choices() -> list[TerritoryChoice]:
    """France, then the régions, each followed by its départements."""
    return _kept_list("territories", _read_territory_choices)


def _read_territory_choices() -> list[TerritoryChoice]:
    columns = (Territory.code, Territory.kind, Territory.name, Territory.parent_code)
    rows = db.session.execute(sa.select(*columns).where(Territory.kind != "commune"))
    territories = [TerritoryChoice(*row) for row in rows]
    regions = sorted((t for t in territories if t.kind == "region"), key=lambda t: t.name)
    by_parent: dict[str | None, list[TerritoryChoice]] = {}
    for territory in territories:
        by_parent.setdefault(territory.parent_code, []).append(territory)
    ordered = [t for t in territories if t.kind == "country"]
    for region in regions:
        ordered.append(region)
        ordered.extend(sorted(by_parent.get(region.code, []), key=lambda t: t.code))
    return ordered


def organisation_datasets(organisation: Organisation, page: int, size: int) -> Page[Dataset]:
    statement = sa.select(Dataset).where(Dataset.organisation_id == organisation.id)
    return paginate(statement, [Dataset.title, Dataset.id], page, size)
