"""Catalogue operations: importing datasets from the data.gouv.fr export or the udata API.

`import_catalogue` stores what the sources say, in batches, inside the caller's transaction: the caller
commits once at the end, or rolls back when a file turns out to be unreadable, so that a bad file
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import cast

import sqlalchemy as sa

from feedback.accounts.models import Organisation, OrganisationKind
from feedback.accounts.services import organisation_kind_from_name, unique_organisation_slug
from feedback.catalogue.models import (
    DATASET_SEARCH,
    Dataset,
    Theme,
    ThemeScheme,
    dataset_territory,
    dataset_theme,
)
from feedback.catalogue.quality import MetadataFacts, metadata_columns
from feedback.catalogue.reference import ServiceRecord, read_services, territory_lookup
from feedback.catalogue.signals import dataset_themes_changed
from feedback.catalogue.sources import DatasetRecord, SourceRow, read_source
from feedback.database import refresh_statistics, utcnow
from feedback.extensions import db
from feedback.markdown import plain_text, render_markdown
from feedback.search import normalise

BATCH_SIZE = 1000
# Only the beginning of a long description goes into the search index: titles and the first
# paragraphs carry the words people look for, and the index stays small.
SEARCH_DESCRIPTION_CHARS = 1000


@dataclass
class Rejection:
    source: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}, {self.where} : {self.reason}"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    organisations_created: int = 0

    @property
    def changed_nothing(self) -> bool:
        return self.created == 0 and self.updated == 0 and self.organisations_created == 0

    def line(self) -> str:
        text = (
            f"{self.created} créé(s), {self.updated} mis à jour, {self.unchanged} inchangé(s), "
            f"{len(self.rejected)} rejeté(s)"
        )
        if self.organisations_created:
            text += f" ; {self.organisations_created} organisation(s) créée(s)"
        if self.changed_nothing:
            text += " — rien n'a changé"
        return text


def dataset_search_text(
    title: str, acronym: str | None, organisation_name: str | None, tags: list[str], description: str
) -> str:
    """What full-text search reads for a dataset: normalised title, acronym, producer, tags and the
    beginning of the description without its markup."""
    parts = [
        title,
        acronym or "",
        organisation_name or "",
        " ".join(tag.replace("-", " ") for tag in tags),
        plain_text(description[: SEARCH_DESCRIPTION_CHARS * 2])[:SEARCH_DESCRIPTION_CHARS],
    ]
    return normalise(" ".join(part for part in parts if part))


def _metadata_facts(record: DatasetRecord, theme_count: int) -> MetadataFacts:
    return MetadataFacts(
        title=record.title,
        description=record.description,
        tags=record.tags,
        theme_count=theme_count,
        zones=record.zones,
        temporal_start=record.temporal_start,
        frequency=record.frequency,
        modified_at=record.modified_at,
        licence=record.licence,
        resources_count=record.resources_count,
        resources_formats=record.resources_formats,
    )


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


# The table itself, for plain executemany inserts (the ORM's bulk insert would fetch the new ids row by row).
DATASET_TABLE = cast(sa.Table, Dataset.__table__)


class CatalogueImport:
    """One import run: the caches it builds once (organisations, themes, territories) and its summary."""

    def __init__(self, services_dir: Path | None = None):
        self.summary = ImportSummary()
        self.services: dict[str, ServiceRecord] = read_services(services_dir)
        self.territories = territory_lookup()
        self.territory_codes = set(self.territories.values())
        self.departement_names = sorted(
            ((name, code) for name, code in self.territories.items() if code.startswith("D")),
            key=lambda item: -len(item[0]),
        )
        self.region_names = sorted(
            ((name, code) for name, code in self.territories.items() if code.startswith("R")),
            key=lambda item: -len(item[0]),
        )
        self.inspire_by_tag = {
            slug: theme_id
            for slug, theme_id in db.session.execute(
                sa.select(Theme.tag_slug, Theme.id).where(
                    Theme.scheme == ThemeScheme.INSPIRE, Theme.tag_slug.isnot(None)
                )
            )
        }
        self.organisations: dict[str, Organisation] = {
            o.datagouv_id: o
            for o in db.session.scalars(sa.select(Organisation).where(Organisation.datagouv_id.isnot(None)))
            if o.datagouv_id is not None
        }
        self.sirets_taken: set[str] = set(
            db.session.scalars(sa.select(Organisation.siret).where(Organisation.siret.is_not(None)))
        )
        self.seen: dict[str, str] = {}  # catalogue id → "source, where" of its first row in this run
        # Every dataset already held, with the digest it was stored from: one query, rather than one a batch.
        self.known: dict[str, tuple[int, str]] = {
            catalogue_id: (dataset_id, digest)
            for catalogue_id, dataset_id, digest in db.session.execute(
                sa.select(Dataset.catalogue_id, Dataset.id, Dataset.content_hash)
            )
        }

    # Organisations ---------------------------------------------------------------------------------

    def _territory_from_name(self, name: str, kind: OrganisationKind) -> str | None:
        """A département (or, for a regional service — DREAL, DRIEAT, the overseas DEAL —, a région) named in an
        organisation's name."""
        normalised = normalise(name).replace("’", "'")
        regional = (OrganisationKind.DREAL, OrganisationKind.DRIEAT, OrganisationKind.DEAL)
        candidates = self.region_names if kind in regional else self.departement_names
        for territory_name, code in candidates:
            if territory_name in normalised:
                return code
        return None

    def organisation_for(self, record: DatasetRecord) -> Organisation | None:
        if not record.organisation_id:
            return None
        organisation = self.organisations.get(record.organisation_id)
        name = record.organisation_name or record.organisation_id
        if organisation is None:
            kind = organisation_kind_from_name(name)
            service = self.services.get(record.organisation_id)
            organisation = Organisation(
                name=name,
                slug=unique_organisation_slug(record.organisation_slug or name),
                kind=kind.value,
                datagouv_id=record.organisation_id,
                datagouv_slug=record.organisation_slug,
                is_producer=True,
                territory_code=(service.territory_code if service else None) or self._territory_from_name(name, kind),
            )
            if service:
                organisation.siret = self._free_siret(service.siret)
                organisation.full_name = service.full_name
                organisation.email = service.email
                organisation.phone = service.phone
                organisation.website = service.website or service.contact_page
            db.session.add(organisation)
            db.session.flush()
            self.organisations[record.organisation_id] = organisation
            self.summary.organisations_created += 1
            return organisation
        if record.organisation_name and organisation.name != record.organisation_name:
            organisation.name = record.organisation_name
        if record.organisation_slug and organisation.datagouv_slug != record.organisation_slug:
            organisation.datagouv_slug = record.organisation_slug
        if not organisation.is_producer:
            organisation.is_producer = True
        service = self.services.get(record.organisation_id)
        if service and service.siret and not organisation.siret:  # a SIRET a curator gave stays
            organisation.siret = self._free_siret(service.siret)
        return organisation

    def _free_siret(self, siret: str | None) -> str | None:
        """The services list's SIRET for an organisation, unless another organisation has it already."""
        if siret is None or siret in self.sirets_taken:
            return None
        self.sirets_taken.add(siret)
        return siret

    # Datasets --------------------------------------------------------------------------------------

    def _row_values(self, record: DatasetRecord, organisation: Organisation | None) -> dict:
        return {
            "catalogue_id": record.catalogue_id,
            "slug": record.slug[:255],
            "title": record.title[:500],
            "search_title": normalise(record.title)[:500],
            "acronym": (record.acronym or None) and record.acronym[:100],
            "description": record.description,
            "description_html": str(render_markdown(record.description)),
            "organisation_id": organisation.id if organisation else None,
            "landing_url": (record.landing_url or None) and record.landing_url[:500],
            "geoide_record_id": record.geoide_record_id,
            "geoide_url": (record.geoide_url or None) and record.geoide_url[:1000],
            "tags": record.tags,
            "zones": record.zones,
            "spatial_granularity": (record.spatial_granularity or None) and record.spatial_granularity[:50],
            "licence": (record.licence or None) and record.licence[:200],
            "frequency": (record.frequency or None) and record.frequency[:50],
            "temporal_start": record.temporal_start,
            "temporal_end": record.temporal_end,
            "published_at": record.published_at,
            "modified_at": record.modified_at,
            "archived_at": record.archived_at,
            "archived": record.archived_at is not None,
            "resources_count": record.resources_count,
            "resources_formats": record.resources_formats,
            "search_text": dataset_search_text(
                record.title,
                record.acronym,
                organisation.name if organisation else None,
                record.tags,
                record.description,
            ),
            "content_hash": record.source_digest,
        }

    def _links(self, record: DatasetRecord, organisation: Organisation | None) -> tuple[set[int], set[str]]:
        themes = {self.inspire_by_tag[tag] for tag in record.tags if tag in self.inspire_by_tag}
        territories = set(record.zone_codes)
        territories.update(self.territories[n] for n in (normalise(z) for z in record.zones) if n in self.territories)
        if not territories and organisation and organisation.territory_code:
            territories.add(organisation.territory_code)
        return themes, territories & self.territory_codes

    def import_batch(self, source: str, batch: list[SourceRow]) -> None:
        existing = self.known
        records: list[DatasetRecord] = []
        for row in batch:  # in file order, so that rejections are listed as the file reads
            first = self.seen.get(row.catalogue_id) if row.catalogue_id else None
            if first:
                self.summary.rejected.append(
                    Rejection(source, row.where, f"identifiant {row.catalogue_id} en double (déjà lu : {first})")
                )
                continue
            known = existing.get(row.catalogue_id)
            if known and known[1] == row.digest:
                self.summary.unchanged += 1
            elif row.error:  # builds the record: only rows that are new or changed are read further
                self.summary.rejected.append(Rejection(source, row.where, row.error))
                continue
            elif row.record is not None:
                records.append(row.record)
            self.seen[row.catalogue_id] = f"{source}, {row.where}"
        now = utcnow()
        to_insert, to_update, links = [], [], {}
        for record in records:
            known = existing.get(record.catalogue_id)
            organisation = self.organisation_for(record)
            values = self._row_values(record, organisation)
            values["updated_at"] = now
            links[record.catalogue_id] = self._links(record, organisation)
            values.update(metadata_columns(_metadata_facts(record, len(links[record.catalogue_id][0])), now.date()))
            if known:
                values["id"] = known[0]
                to_update.append(values)
            else:
                values["imported_at"] = now
                to_insert.append(values)

        ids = {values["catalogue_id"]: values["id"] for values in to_update}
        if to_insert:
            # A plain executemany: RETURNING would make the driver fetch row by row.
            db.session.execute(sa.insert(DATASET_TABLE), to_insert)
            ids.update(
                db.session.execute(
                    sa.select(Dataset.catalogue_id, Dataset.id).where(
                        Dataset.catalogue_id.in_([values["catalogue_id"] for values in to_insert])
                    )
                ).all()
            )
            self.summary.created += len(to_insert)
        if to_update:
            updated_ids = [values["id"] for values in to_update]
            DATASET_SEARCH.forget(db.session, updated_ids)
            db.session.execute(sa.update(Dataset), to_update)
            db.session.execute(sa.delete(dataset_theme).where(dataset_theme.c.dataset_id.in_(updated_ids)))
            db.session.execute(sa.delete(dataset_territory).where(dataset_territory.c.dataset_id.in_(updated_ids)))
            self.summary.updated += len(to_update)

        DATASET_SEARCH.index(db.session, list(ids.values()))
        theme_rows = [
            {"dataset_id": ids[catalogue_id], "theme_id": theme_id}
            for catalogue_id, (themes, _) in links.items()
            for theme_id in themes
        ]
        territory_rows = [
            {"dataset_id": ids[catalogue_id], "territory_code": code}
            for catalogue_id, (_, territories) in links.items()
            for code in territories
        ]
        if theme_rows:
            db.session.execute(sa.insert(dataset_theme), theme_rows)
        if territory_rows:
            db.session.execute(sa.insert(dataset_territory), territory_rows)
        if to_update:
            dataset_themes_changed.send(self, dataset_ids=[values["id"] for values in to_update])


def import_catalogue(
    paths: Iterable[Path],
    *,
    on_read: Callable[[int], None] | None = None,
    services_dir: Path | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import every file; raises `UnreadableFile` (nothing to keep) if one cannot be read."""
    run = CatalogueImport(services_dir)
    for path in paths:
        source = Path(path).name
        for batch in _batches(read_source(Path(path), on_read), batch_size):
            run.import_batch(source, batch)
    db.session.flush()
    if not run.summary.changed_nothing:
        refresh_statistics(db.session)
    return run.summary
