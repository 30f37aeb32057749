"""Finding a dataset from whatever a person has at hand.

Accepted: a data.gouv.fr id (24 hex), a slug, a data.gouv.fr URL (`https://www.data.gouv.fr/fr/datasets/
<slug-or-id>/`, with or without `/fr`, or its API URL), an Ecosphères URL (`https://ecologie.data.gouv.fr/
datasets/<id-or-slug>`), a Géo-IDE record id (`fr-120066022-jdd-<uuid>`, or `-ldd-` for a series) or any
Géo-IDE URL that holds one (the catalogue's `#/metadata/<record id>`), or the bare UUID of a Géo-IDE record.

A dataset field also takes a title (`look_up_dataset`): a title that names one current dataset, accents and case
ignored, is that dataset; one that names several gives them as candidates to choose from. The suggestions of a
field show "Title — Producer", which names the dataset as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from feedback.catalogue.models import Dataset
from feedback.catalogue.sources import CATALOGUE_ID, geoide_record_id
from feedback.extensions import db
from feedback.search import normalise

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.I)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
GEOIDE_PREFIXES = ("fr-120066022-jdd-", "fr-120066022-ldd-")  # a dataset's record, a series' record
SUGGESTION_SEPARATOR = " — "
MAX_CANDIDATES = 10
_DATAGOUV_HOSTS = {"www.data.gouv.fr", "data.gouv.fr", "demo.data.gouv.fr"}
_ECOSPHERES_HOSTS = {"ecologie.data.gouv.fr", "www.ecologie.data.gouv.fr"}


@dataclass(frozen=True)
class Identifier:
    kind: str  # "catalogue_id", "slug", "geoide_record_id", "geoide_uuid"
    value: str


def parse_identifier(text: str | None) -> Identifier | None:
    """What a piece of text names, without looking it up; None when it names no dataset."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 2000:
        return None
    record_id = geoide_record_id(text)
    if record_id:
        return Identifier("geoide_record_id", record_id)
    if "://" in text or text.startswith(("www.", "data.gouv.fr", "ecologie.data.gouv.fr")):
        return _parse_url(text if "://" in text else f"https://{text}")
    if CATALOGUE_ID.match(text.lower()):
        return Identifier("catalogue_id", text.lower())
    if _UUID.match(text):
        return Identifier("geoide_uuid", text.lower())
    if _SLUG.match(text) and " " not in text:
        return Identifier("slug", text)
    return None


def _parse_url(url: str) -> Identifier | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if host in _DATAGOUV_HOSTS:
        # /fr/datasets/<key>/, /datasets/<key>/, /api/1/datasets/<key>/, /en/datasets/<key>
        for index, segment in enumerate(segments[:-1]):
            if segment == "datasets" and segments[index + 1] != "r":
                return _key(segments[index + 1])
        return None
    if host in _ECOSPHERES_HOSTS:
        if "datasets" in segments[:-1]:
            return _key(segments[segments.index("datasets") + 1])
        return None
    return None


def _key(value: str) -> Identifier | None:
    if CATALOGUE_ID.match(value.lower()):
        return Identifier("catalogue_id", value.lower())
    if _SLUG.match(value):
        return Identifier("slug", value)
    return None


def resolve_dataset(text: str | None) -> Dataset | None:
    """The dataset that a piece of text names, or None."""
    identifier = parse_identifier(text)
    if identifier is None:
        return None
    return find_dataset(identifier)


def dataset_of_path(identifier: str) -> Dataset | None:
    """The dataset that `/datasets/<identifier>` (and the pages under it) names: any identifier of
    `parse_identifier`, and a catalogue id that is no dataset's may still be a slug."""
    parsed = parse_identifier(identifier)
    if parsed is None:
        return None
    found = find_dataset(parsed)
    if found is None and parsed.kind == "catalogue_id":
        found = find_dataset(Identifier("slug", identifier))
    return found


def find_dataset(identifier: Identifier) -> Dataset | None:
    condition: sa.ColumnElement[bool]
    if identifier.kind == "geoide_uuid":
        condition = Dataset.geoide_record_id.in_([prefix + identifier.value for prefix in GEOIDE_PREFIXES])
    else:
        column = {
            "catalogue_id": Dataset.catalogue_id,
            "slug": Dataset.slug,
            "geoide_record_id": Dataset.geoide_record_id,
        }[identifier.kind]
        condition = column == identifier.value
    # A Géo-IDE record (or a slug) harvested twice: the live dataset comes before the archived one.
    statement = sa.select(Dataset).where(condition)
    statement = statement.order_by(Dataset.archived, Dataset.id).limit(1)
    return db.session.scalars(statement).first()


@dataclass(frozen=True)
class Lookup:
    """What a dataset field's text names: one dataset, several to choose from, or none."""

    dataset: Dataset | None = None
    candidates: tuple[Dataset, ...] = ()


def look_up_dataset(text: str | None) -> Lookup:
    """The dataset a field's text names: an identifier or address (`parse_identifier`), else a title — of one
    current dataset, or of several (`candidates`, at most `MAX_CANDIDATES`) — or a suggestion's "Title —
    Producer"."""
    text = (text or "").strip()
    if not text:
        return Lookup()
    if parse_identifier(text) is not None:
        found = resolve_dataset(text)
        if found is not None:
            return Lookup(found)
    matches = _by_title(text)
    if not matches and SUGGESTION_SEPARATOR in text:
        title, _, producer = text.rpartition(SUGGESTION_SEPARATOR)
        matches = [
            d for d in _by_title(title) if d.organisation and normalise(d.organisation.name) == normalise(producer)
        ]
    if len(matches) == 1:
        return Lookup(matches[0])
    return Lookup(candidates=tuple(matches))


def _by_title(title: str) -> list[Dataset]:
    # Typed, a title's spaces do not matter; given back by a suggestion, it is the catalogue's own, whose
    # doubled or trailing spaces (one title in two hundred in the real export) the folded form would miss.
    folded = {normalise(" ".join(title.split()))[:500], normalise(title)[:500]} - {""}
    if not any(text.strip() for text in folded):
        return []
    statement = (
        sa.select(Dataset)
        .where(Dataset.search_title.in_(folded), Dataset.archived.is_(False))
        .order_by(Dataset.id)
        .limit(MAX_CANDIDATES)
    )
    return list(db.session.scalars(statement))


def suggestion_label(dataset: Dataset) -> str:
    """How a suggestion shows a dataset in its field, and names it again when the form is sent."""
    if dataset.organisation is None:
        return dataset.title
    return f"{dataset.title}{SUGGESTION_SEPARATOR}{dataset.organisation.name}"
