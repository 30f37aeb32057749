"""Readers of the catalogue's sources: the data.gouv.fr export-dataset CSV and udata API JSON.

Each reader yields `SourceRow`s: a `DatasetRecord` ready to be stored, or the reason a row was rejected,
with where it stands in the file. A file that cannot be read at all raises `UnreadableFile`.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import json
import operator
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from feedback import clock

# Géo-IDE metadata records: a dataset ("jdd", jeu de données) or a dataset series ("ldd", lot de données).
GEOIDE_RECORD_ID = re.compile(r"fr-120066022-[jl]dd-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
CATALOGUE_ID = re.compile(r"^[0-9a-f]{24}$")
REQUIRED_CSV_COLUMNS = {"id", "title"}

# udata licence ids, as the API gives them, and the labels the export uses.
LICENCE_LABELS = {
    "lov2": "Licence Ouverte / Open Licence version 2.0",
    "fr-lo": "Licence Ouverte / Open Licence",
    "notspecified": "License Not Specified",
    "odc-odbl": "Open Data Commons Open Database License (ODbL)",
    "other-open": "Other (Open)",
    "cc-by": "Creative Commons Attribution",
}

csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, in French."""


class RejectedRow(Exception):
    """One row cannot be imported; the message says why, in French."""


@dataclass
class DatasetRecord:
    catalogue_id: str
    title: str
    slug: str
    acronym: str | None = None
    description: str = ""
    organisation_id: str | None = None  # data.gouv.fr id of the producer
    organisation_name: str | None = None
    organisation_slug: str | None = None
    landing_url: str | None = None
    geoide_record_id: str | None = None
    geoide_url: str | None = None
    tags: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    zone_codes: list[str] = field(default_factory=list)  # territory codes already known (udata zone ids)
    spatial_granularity: str | None = None
    licence: str | None = None
    frequency: str | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    archived_at: datetime | None = None
    resources_count: int = 0
    resources_formats: str | None = None
    # Digest of the source fields the record was read from: the same digest, the same stored row.
    source_digest: str = ""


class SourceRow:
    """One row of a source file, where it stands, and the digest of what it says.

    The record is built only when asked for (`record`, `error`): an import compares digests first and
    leaves alone the rows it already holds, without reading them further."""

    __slots__ = ("_build", "_error", "_record", "catalogue_id", "digest", "where")

    def __init__(
        self,
        where: str,
        *,
        catalogue_id: str = "",
        digest: str = "",
        build: Callable[[], DatasetRecord] | None = None,
        error: str | None = None,
    ):
        self.where = where  # "ligne 12", "élément 3"
        self.catalogue_id = catalogue_id
        self.digest = digest
        self._build = build
        self._record: DatasetRecord | None = None
        self._error = error

    def _outcome(self) -> None:
        if self._build is None:
            return
        build, self._build = self._build, None
        try:
            self._record = build()
            self._record.source_digest = self.digest
        except RejectedRow as exc:
            self._error = str(exc)

    @property
    def record(self) -> DatasetRecord | None:
        self._outcome()
        return self._record

    @property
    def error(self) -> str | None:
        self._outcome()
        return self._error


def parse_datetime(value: str | None, column: str) -> datetime | None:
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RejectedRow(f"date illisible dans « {column} » : {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: str | None, column: str) -> date | None:
    parsed = parse_datetime(value, column)
    return parsed.date() if parsed else None


def geoide_record_id(url: str | None) -> str | None:
    if not url:
        return None
    found = GEOIDE_RECORD_ID.search(url)
    return found.group(0).lower() if found else None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _check_identity(catalogue_id: str, title: str) -> None:
    if not catalogue_id:
        raise RejectedRow("identifiant (« id ») manquant")
    if not CATALOGUE_ID.match(catalogue_id):
        raise RejectedRow(f"identifiant invalide : {catalogue_id!r} (24 caractères hexadécimaux attendus)")
    if not title:
        raise RejectedRow("titre (« title ») manquant")


def _int(value, column: str) -> int:
    value = _text(value)
    if not value:
        return 0
    try:
        return int(float(value))
    except ValueError:
        raise RejectedRow(f"nombre illisible dans « {column} » : {value!r}") from None


def digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


# Columns of the export that change every week without changing the dataset (audience metrics).
_VOLATILE_COLUMNS = ("metric.", "quality_score", "featured")


def record_from_export_row(row: dict[str, str]) -> DatasetRecord:
    """One row of the data.gouv.fr export-dataset CSV."""
    catalogue_id = _text(row.get("id")).lower()
    title = _text(row.get("title"))
    _check_identity(catalogue_id, title)
    archived = _text(row.get("archived"))
    archived_at = None
    if archived and archived.lower() not in ("false", "0", "none"):
        archived_at = (
            parse_datetime(row.get("last_modified"), "last_modified") or clock.now()
            if archived.lower() == "true"
            else parse_datetime(archived, "archived")
        )
    remote_url = _text(row.get("harvest.remote_url")) or None
    record_id = geoide_record_id(remote_url)
    zones = [z.strip() for z in _text(row.get("spatial.zones")).split(",") if z.strip()]
    return DatasetRecord(
        catalogue_id=catalogue_id,
        title=title,
        slug=_text(row.get("slug")) or catalogue_id,
        acronym=_text(row.get("acronym")) or None,
        description=_text(row.get("description")),
        organisation_id=_text(row.get("organization_id")).lower() or None,
        organisation_name=_text(row.get("organization")) or None,
        landing_url=_text(row.get("url")) or None,
        geoide_record_id=record_id,
        geoide_url=remote_url if record_id else None,
        tags=[t.strip() for t in _text(row.get("tags")).split(",") if t.strip()],
        zones=zones,
        spatial_granularity=_text(row.get("spatial.granularity")) or None,
        licence=_text(row.get("license")) or None,
        frequency=_text(row.get("frequency")) or None,
        temporal_start=parse_date(row.get("temporal_coverage.start"), "temporal_coverage.start"),
        temporal_end=parse_date(row.get("temporal_coverage.end"), "temporal_coverage.end"),
        published_at=parse_datetime(row.get("created_at"), "created_at"),
        modified_at=parse_datetime(row.get("last_modified"), "last_modified"),
        archived_at=archived_at,
        resources_count=_int(row.get("resources_count"), "resources_count"),
        resources_formats=_text(row.get("resources_formats"))[:500] or None,
    )


_UDATA_ZONE = re.compile(r"^(?:fr:(departement|region):([0-9ab]+)|country:fr)(?:@.*)?$", re.I)


def _udata_zone_codes(zones: list[str]) -> list[str]:
    codes = []
    for zone in zones:
        found = _UDATA_ZONE.match(zone)
        if not found:
            continue
        kind, number = found.groups()
        codes.append("FR" if kind is None else ("D" if kind.lower() == "departement" else "R") + number.upper())
    return codes


def record_from_udata(item: dict) -> DatasetRecord:
    """One dataset as the udata API (`GET /api/1/datasets/{id}/`) describes it."""
    if not isinstance(item, dict):
        raise RejectedRow("un jeu de données udata doit être un objet JSON")
    catalogue_id = _text(item.get("id")).lower()
    title = _text(item.get("title"))
    _check_identity(catalogue_id, title)
    organisation = item.get("organization") or {}
    harvest = item.get("harvest") or {}
    spatial = item.get("spatial") or {}
    temporal = item.get("temporal_coverage") or {}
    resources = item.get("resources") or []
    remote_url = _text(harvest.get("remote_url")) or None
    record_id = geoide_record_id(remote_url) or geoide_record_id(_text(harvest.get("remote_id")))
    zones = [str(z) for z in spatial.get("zones") or []]
    licence = _text(item.get("license"))
    formats = sorted({_text(r.get("format")).lower() for r in resources if isinstance(r, dict) and r.get("format")})
    archived = item.get("archived")
    return DatasetRecord(
        catalogue_id=catalogue_id,
        title=title,
        slug=_text(item.get("slug")) or catalogue_id,
        acronym=_text(item.get("acronym")) or None,
        description=_text(item.get("description")),
        organisation_id=_text(organisation.get("id")).lower() or None,
        organisation_name=_text(organisation.get("name")) or None,
        organisation_slug=_text(organisation.get("slug")) or None,
        landing_url=_text(item.get("page")) or None,
        geoide_record_id=record_id,
        geoide_url=remote_url if record_id else None,
        tags=[_text(t) for t in item.get("tags") or [] if _text(t)],
        zones=zones,
        zone_codes=_udata_zone_codes(zones),
        spatial_granularity=_text(spatial.get("granularity")) or None,
        licence=LICENCE_LABELS.get(licence, licence) or None,
        frequency=_text(item.get("frequency")) or None,
        temporal_start=parse_date(temporal.get("start"), "temporal_coverage.start"),
        temporal_end=parse_date(temporal.get("end"), "temporal_coverage.end"),
        published_at=parse_datetime(item.get("created_at"), "created_at"),
        modified_at=parse_datetime(item.get("last_modified"), "last_modified"),
        archived_at=parse_datetime(archived, "archived") if archived else None,
        resources_count=len(resources),
        resources_formats=", ".join(formats)[:500] or None,
        source_digest=digest(
            json.dumps({k: v for k, v in item.items() if k != "metrics"}, sort_keys=True, default=str)
        ),
    )


class _ProgressReader(io.RawIOBase):
    """Wraps a binary file and reports how many bytes of it were read, for a progress bar."""

    def __init__(self, raw, on_read: Callable[[int], None] | None):
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        if self._on_read and data:
            self._on_read(len(data))
        return len(data)


def read_source(path: Path, on_read: Callable[[int], None] | None = None) -> Iterator[SourceRow]:
    """The rows of one source file, whatever its kind (CSV export, plain or gzip; udata JSON)."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"{path} : fichier introuvable")
    with path.open("rb") as raw:
        binary = io.BufferedReader(_ProgressReader(raw, on_read), buffer_size=1 << 16)
        try:
            if binary.peek(2)[:2] == b"\x1f\x8b":
                binary = gzip.GzipFile(fileobj=binary)  # type: ignore[assignment]
            head = binary.peek(4096)[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            if head in (b"{", b"["):
                yield from _read_udata_json(path, text.read())
            elif head:
                yield from _read_export_csv(path, text)
            else:
                raise UnreadableFile(f"{path} : fichier vide")
        except (EOFError, OSError, zlib.error):
            raise UnreadableFile(f"{path} : fichier compressé tronqué ou illisible") from None
        except UnicodeDecodeError:
            raise UnreadableFile(f"{path} : ce n'est ni un CSV ni un JSON en UTF-8") from None
        except csv.Error as exc:
            raise UnreadableFile(f"{path} : CSV illisible ({exc})") from None


def _read_export_csv(path: Path, text: io.TextIOWrapper) -> Iterator[SourceRow]:
    reader = csv.reader(text, delimiter=";", quotechar='"')
    header = next(reader, None)
    while header == []:  # blank lines before the header
        header = next(reader, None)
    if not header or not set(header) >= REQUIRED_CSV_COLUMNS:
        hint = " (le séparateur attendu est « ; »)" if header and len(header) == 1 else ""
        raise UnreadableFile(
            f"{path} : colonnes « id » et « title » introuvables dans l'en-tête{hint} : "
            "ce n'est pas un export-dataset de data.gouv.fr"
        )
    width = len(header)
    id_column = header.index("id")
    stable = operator.itemgetter(*(i for i, name in enumerate(header) if not name.startswith(_VOLATILE_COLUMNS)))
    previous_end = reader.line_num
    for values in reader:
        where = f"ligne {previous_end + 1}"
        previous_end = reader.line_num
        if not values:
            continue
        if len(values) != width:
            yield SourceRow(where, error=f"{len(values)} colonnes au lieu de {width}")
            continue
        yield SourceRow(
            where,
            catalogue_id=values[id_column].strip().lower(),
            digest=digest("\x1f".join(stable(values))),
            build=functools.partial(_export_record, header, values),
        )


def _export_record(header: list[str], values: list[str]) -> DatasetRecord:
    return record_from_export_row(dict(zip(header, values, strict=True)))


def _read_udata_json(path: Path, content: str) -> Iterator[SourceRow]:
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{path} : JSON illisible (erreur ligne {exc.lineno}, colonne {exc.colno})") from None
    items = list(_udata_items(path, document))
    for number, item in enumerate(items, start=1):
        where = f"élément {number}"
        if not isinstance(item, dict):
            yield SourceRow(where, error="un jeu de données udata doit être un objet JSON")
            continue
        yield SourceRow(
            where,
            catalogue_id=_text(item.get("id")).lower(),
            digest=digest(json.dumps({k: v for k, v in item.items() if k != "metrics"}, sort_keys=True, default=str)),
            build=functools.partial(record_from_udata, item),
        )


def _udata_items(path: Path, document) -> Iterator[dict]:
    """A dataset, `{status, data: dataset}`, a page `{data: [...], next_page}`, or a list of any of these."""
    if isinstance(document, list):
        for part in document:
            yield from _udata_items(path, part)
        return
    if not isinstance(document, dict):
        raise UnreadableFile(f"{path} : JSON inattendu (ni objet ni liste)")
    if "data" in document and (
        "status" in document or "page" in document or "next_page" in document or "total" in document
    ):
        data = document["data"]
        if isinstance(data, list):
            yield from data
        else:
            yield data
        return
    if "id" in document or "title" in document:
        yield document
        return
    raise UnreadableFile(f"{path} : JSON inattendu : ni jeu de données udata, ni page de résultats")
