"""The reference lists: territories (INSEE COG), themes (INSPIRE, Ecosphères), and the DDT/DREAL services.

The files are bundled in `feedback/reference_data/` (see its README for their sources); `load_reference`
also reads them from another folder laid out the same way.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from feedback.accounts.services import AccountError, check_siret
from feedback.catalogue.models import Territory, TerritoryKind, Theme, ThemeScheme
from feedback.extensions import db
from feedback.search import normalise

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "reference_data"

REFERENCE_FILES = {
    "regions": "cog2024_regions.csv",
    "departements": "cog2024_departements.csv",
    "inspire": "inspire_themes_fr.csv",
    "ecospheres": "ecospheres-themes.csv",
}
SERVICES_FILE = "services-ddt-dreal.csv"

# The services list names régions by their usual abbreviation; the platform uses INSEE codes.
REGION_ABBREVIATIONS = {
    "GLP": "R01",
    "MTQ": "R02",
    "GUF": "R03",
    "REU": "R04",
    "MYT": "R06",
    "IDF": "R11",
    "CVL": "R24",
    "BFC": "R27",
    "NOR": "R28",
    "HDF": "R32",
    "GES": "R44",
    "PDL": "R52",
    "BRE": "R53",
    "NAQ": "R75",
    "OCC": "R76",
    "ARA": "R84",
    "PAC": "R93",
    "COR": "R94",
}


class ReferenceError(Exception):
    """A reference file is missing or not in the expected shape."""


@dataclass
class ReferenceSummary:
    territories: int = 0
    themes: int = 0
    created: int = 0
    updated: int = 0


def _read_csv(path: Path, required: set[str], delimiter: str = ",") -> list[dict[str, str]]:
    if not path.is_file():
        raise ReferenceError(f"{path} : fichier introuvable")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ReferenceError(f"{path} : colonnes manquantes : {', '.join(sorted(missing))}")
        return list(reader)


def load_reference(directory: Path | None = None) -> ReferenceSummary:
    """Insert or update territories and themes; running it twice changes nothing the second time.

    Everything is read and checked before anything is written."""
    directory = Path(directory) if directory else BUNDLED_DIR
    regions = _read_csv(directory / REFERENCE_FILES["regions"], {"REG", "CHEFLIEU", "LIBELLE"})
    departements = _read_csv(directory / REFERENCE_FILES["departements"], {"DEP", "REG", "CHEFLIEU", "LIBELLE"})
    inspire = _read_csv(directory / REFERENCE_FILES["inspire"], {"code", "uri", "label_fr", "tag_slug"})
    ecospheres = _read_csv(
        directory / REFERENCE_FILES["ecospheres"], {"id", "uri", "prefLabel_fr", "broader", "altLabels_fr"}
    )

    summary = ReferenceSummary()
    territories = [dict(code="FR", kind=TerritoryKind.COUNTRY.value, name="France", parent_code=None, chef_lieu=None)]
    territories += [
        dict(
            code=f"R{r['REG']}",
            kind=TerritoryKind.REGION.value,
            name=r["LIBELLE"],
            parent_code="FR",
            chef_lieu=r["CHEFLIEU"],
        )
        for r in regions
    ]
    territories += [
        dict(
            code=f"D{d['DEP']}",
            kind=TerritoryKind.DEPARTEMENT.value,
            name=d["LIBELLE"],
            parent_code=f"R{d['REG']}",
            chef_lieu=d["CHEFLIEU"],
        )
        for d in departements
    ]
    existing = {t.code: t for t in db.session.scalars(sa.select(Territory))}
    for values in territories:  # parents come before their children in this list
        _upsert(summary, existing.get(str(values["code"])), Territory, values)
        summary.territories += 1
    db.session.flush()

    themes = [
        dict(
            scheme=ThemeScheme.INSPIRE.value,
            code=t["code"],
            label=t["label_fr"],
            uri=t["uri"],
            tag_slug=t["tag_slug"] or None,
            alt_labels=None,
        )
        for t in inspire
    ]
    themes += [
        dict(
            scheme=ThemeScheme.ECOSPHERES.value,
            code=t["id"],
            label=t["prefLabel_fr"],
            uri=t["uri"],
            tag_slug=None,
            alt_labels=t["altLabels_fr"] or None,
        )
        for t in ecospheres
    ]
    existing_themes = {(t.scheme, t.code): t for t in db.session.scalars(sa.select(Theme))}
    for values in themes:
        _upsert(summary, existing_themes.get((str(values["scheme"]), str(values["code"]))), Theme, values)
        summary.themes += 1
    db.session.flush()

    # Ecosphères sub-themes point to their top theme.
    by_code = {t.code: t for t in db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.ECOSPHERES))}
    for row in ecospheres:
        parent = by_code.get(row["broader"]) if row["broader"] else None
        theme = by_code[row["id"]]
        parent_id = parent.id if parent else None
        if theme.parent_id != parent_id:
            theme.parent_id = parent_id
    db.session.flush()
    return summary


def _upsert(summary: ReferenceSummary, row, model, values: dict) -> None:
    if row is None:
        db.session.add(model(**values))
        summary.created += 1
        return
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        summary.updated += 1


@dataclass(frozen=True)
class ServiceRecord:
    """One line of the DDT/DREAL services list, with its territory as an INSEE code."""

    label: str
    full_name: str
    territory_code: str | None
    email: str | None
    phone: str | None
    website: str | None
    datagouv_id: str | None
    contact_page: str | None = None  # some services give a contact form instead of an address
    siret: str | None = None  # the optional `siret` column: what ProConnect's `siret` claim names


def service_territory_code(value: str) -> str | None:
    """`D45` → `D45`, `D2b` → `D2B`, `ARA` → `R84`, `National` → `FR`; several or a maritime zone → None."""
    value = value.strip()
    if value == "National":
        return "FR"
    if value in REGION_ABBREVIATIONS:
        return REGION_ABBREVIATIONS[value]
    if value.startswith("D") and "|" not in value and len(value) in (3, 4):
        return value.upper()
    return None


def read_services(directory: Path | None = None) -> dict[str, ServiceRecord]:
    """The services list keyed by data.gouv.fr organisation id (services without one are left out)."""
    path = (Path(directory) if directory else BUNDLED_DIR) / SERVICES_FILE
    rows = _read_csv(path, {"title", "label", "territoire", "email", "datagouv_org_id"}, delimiter=";")
    services = {}
    for line, row in enumerate(rows, start=2):
        if not row["datagouv_org_id"]:
            continue
        siret = (row.get("siret") or "").strip() or None
        if siret is not None:
            try:
                siret = check_siret(siret)
            except AccountError as error:
                raise ReferenceError(f"{path}, ligne {line} : SIRET « {row['siret']} » refusé. {error}") from None
        contact = row["email"].strip()
        is_address = "@" in contact and "://" not in contact
        services[row["datagouv_org_id"]] = ServiceRecord(
            label=row["title"],
            full_name=row["label"],
            territory_code=service_territory_code(row["territoire"]),
            email=contact if is_address else None,
            contact_page=contact if contact.startswith(("http://", "https://")) else None,
            phone=row.get("telephone") or None,
            website=row.get("site_internet") or None,
            datagouv_id=row["datagouv_org_id"],
            siret=siret,
        )
    return services


def territory_lookup() -> dict[str, str]:
    """Normalised names of régions and départements → their codes, to read the export's `spatial.zones`."""
    lookup: dict[str, str] = {}
    rows = db.session.execute(
        sa.select(Territory.code, Territory.name)
        .where(Territory.kind.in_([TerritoryKind.REGION, TerritoryKind.DEPARTEMENT]))
        # Régions first (R… after D… in descending order), so a name that is both keeps the région.
        .order_by(Territory.code.desc())
    )
    for code, name in rows:
        lookup.setdefault(normalise(name), code)
    lookup["france"] = "FR"
    return lookup
