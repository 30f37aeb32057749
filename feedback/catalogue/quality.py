"""The catalogue's metadata checks: one declarative list, computed for every dataset at each import.

The checks are grouped as the European data portal's Metadata Quality Assessment (MQA) groups its
indicators — findability, accessibility, interoperability, reusability, contextuality — and keep only
what the stored fields of a dataset can tell. Each has a weight; a dataset's score (0–100) is the weighted
share of the checks it passes, a producer's score the mean of its current datasets' scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from feedback.catalogue.models import Dataset, ThemeScheme
from feedback.extensions import db


class CheckGroup:
    FINDABILITY = "findability"
    ACCESSIBILITY = "accessibility"
    INTEROPERABILITY = "interoperability"
    REUSABILITY = "reusability"
    CONTEXTUALITY = "contextuality"


GROUP_LABELS = {
    CheckGroup.FINDABILITY: "Découvrabilité",
    CheckGroup.ACCESSIBILITY: "Accessibilité",
    CheckGroup.INTEROPERABILITY: "Interopérabilité",
    CheckGroup.REUSABILITY: "Réutilisabilité",
    CheckGroup.CONTEXTUALITY: "Contexte",
}


@dataclass(frozen=True)
class MetadataFacts:
    """What the checks read of a dataset: the stored fields, and the number of INSPIRE themes it is filed under."""

    title: str
    description: str
    tags: list[str]
    theme_count: int
    zones: list[str]
    temporal_start: date | None
    frequency: str | None
    modified_at: datetime | None
    licence: str | None
    resources_count: int
    resources_formats: str | None


@dataclass(frozen=True)
class MetadataCheck:
    id: str
    label: str
    group: str
    weight: int
    help: str  # how the producer fixes it in Géo-IDE
    category: str  # the quality issue category (`feedback.threads.taxonomy`) a user files it under
    passes: Callable[[MetadataFacts, date], bool]


MIN_KEYWORDS = 3
MIN_DESCRIPTION_CHARS = 200
# Licences the export writes when the producer gave none.
NO_LICENCE = {"", "license not specified", "notspecified", "other-closed"}
# Open formats a program reads (names as the export's resources_formats column writes them).
OPEN_FORMATS = {
    "csv",
    "json",
    "geojson",
    "xml",
    "gml",
    "kml",
    "gpkg",
    "geopackage",
    "ods",
    "shp",
    "esri shapefile",
    "esri shapefile (shp)",
    "dbf",
    "dbase database file (dbf)",
}
UNKNOWN_FORMATS = {"", "inconnu", "document", "image"}
# udata frequencies with no schedule to compare the last modification with.
UNSCHEDULED = {"punctual", "continuous", "irregular", "notPlanned"}
# The longest a dataset of each frequency should go without a modification, in days (twice its period).
FREQUENCY_MAX_AGE_DAYS = {
    "hourly": 2,
    "fourTimesADay": 2,
    "threeTimesADay": 2,
    "semidaily": 2,
    "severalTimesADay": 2,
    "daily": 2,
    "fourTimesAWeek": 4,
    "threeTimesAWeek": 5,
    "semiweekly": 7,
    "weekly": 14,
    "biweekly": 28,
    "threeTimesAMonth": 21,
    "semimonthly": 31,
    "monthly": 62,
    "bimonthly": 124,
    "quarterly": 184,
    "threeTimesAYear": 244,
    "semiannual": 366,
    "annual": 731,
    "biennial": 1462,
    "triennial": 2192,
    "quinquennial": 3653,
}
# A file name: a title ending in an extension (`zones_inondables.shp`).
FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,4}$")
# A layer code: one word joined by underscores (`N_BRUIT_ZBR_INFRA_F_C_LN_S_002`, `N_communes_DSU_S_091`).
LAYER_CODE = re.compile(r"^\S*_\S*$")


def _formats(facts: MetadataFacts) -> set[str]:
    return {part.strip().lower() for part in (facts.resources_formats or "").split(",")} - {""}


def _frequency_consistent(facts: MetadataFacts, today: date) -> bool:
    if facts.frequency in UNSCHEDULED:
        return True
    max_age = FREQUENCY_MAX_AGE_DAYS.get(facts.frequency or "")
    if max_age is None or facts.modified_at is None:
        return False
    return (today - facts.modified_at.date()).days <= max_age


def _title_readable(facts: MetadataFacts, today: date) -> bool:
    title = facts.title.strip()
    return not (FILE_NAME.search(title) or LAYER_CODE.match(title))


CHECKS: list[MetadataCheck] = [
    MetadataCheck(
        "keywords",
        f"Au moins {MIN_KEYWORDS} mots-clés",
        CheckGroup.FINDABILITY,
        10,
        "Dans Géo-IDE Catalogue, onglet « Identification », ajoutez des mots-clés (thésaurus GEMET ou "
        "mots-clés libres) qui décrivent le sujet et le territoire.",
        "incomplete_metadata",
        lambda facts, today: len(facts.tags) >= MIN_KEYWORDS,
    ),
    MetadataCheck(
        "themes",
        "Classé dans un thème INSPIRE",
        CheckGroup.FINDABILITY,
        10,
        "Dans Géo-IDE Catalogue, choisissez le thème INSPIRE de la donnée (mot-clé du thésaurus « GEMET - "
        "INSPIRE themes »).",
        "incomplete_metadata",
        lambda facts, today: facts.theme_count > 0,
    ),
    MetadataCheck(
        "spatial_coverage",
        "Couverture géographique renseignée",
        CheckGroup.FINDABILITY,
        10,
        "Dans Géo-IDE Catalogue, renseignez l'emprise géographique et le territoire couvert (département, "
        "communes) : data.gouv.fr en tire la couverture spatiale.",
        "incomplete_metadata",
        lambda facts, today: bool(facts.zones),
    ),
    MetadataCheck(
        "temporal_coverage",
        "Couverture temporelle renseignée",
        CheckGroup.FINDABILITY,
        10,
        "Dans Géo-IDE Catalogue, onglet « Identification », indiquez l'étendue temporelle (dates de début "
        "et de fin) des données.",
        "incomplete_metadata",
        lambda facts, today: facts.temporal_start is not None,
    ),
    MetadataCheck(
        "resources",
        "Au moins une ressource publiée",
        CheckGroup.ACCESSIBILITY,
        15,
        "Dans Géo-IDE Catalogue, ajoutez un lien de téléchargement ou un service (WFS, WMS) à la fiche, "
        "puis publiez-la.",
        "dead_link",
        lambda facts, today: facts.resources_count > 0,
    ),
    MetadataCheck(
        "format_declared",
        "Format des ressources indiqué",
        CheckGroup.INTEROPERABILITY,
        5,
        "Dans Géo-IDE Catalogue, onglet « Distribution », indiquez le format de chaque ressource "
        "(CSV, GeoJSON, Shapefile…).",
        "incomplete_metadata",
        lambda facts, today: bool(_formats(facts) - UNKNOWN_FORMATS),
    ),
    MetadataCheck(
        "open_format",
        "Au moins un format ouvert et lisible par une machine",
        CheckGroup.INTEROPERABILITY,
        10,
        "Dans Géo-IDE, publiez la donnée aussi dans un format ouvert (CSV, GeoJSON, GeoPackage, Shapefile) "
        "ou par un service WFS.",
        "unusable_format",
        lambda facts, today: bool(_formats(facts) & OPEN_FORMATS),
    ),
    MetadataCheck(
        "licence",
        "Licence indiquée",
        CheckGroup.REUSABILITY,
        10,
        "Dans Géo-IDE Catalogue, rubrique « Contraintes », indiquez la Licence Ouverte 2.0 (ou la licence "
        "qui s'applique).",
        "missing_licence",
        lambda facts, today: (facts.licence or "").strip().lower() not in NO_LICENCE,
    ),
    MetadataCheck(
        "frequency_declared",
        "Fréquence de mise à jour indiquée",
        CheckGroup.CONTEXTUALITY,
        5,
        "Dans Géo-IDE Catalogue, onglet « Identification », choisissez la fréquence de mise à jour "
        "(annuelle, ponctuelle, pas de mise à jour prévue…).",
        "unknown_frequency",
        lambda facts, today: facts.frequency not in (None, "", "unknown"),
    ),
    MetadataCheck(
        "frequency_consistent",
        "Dernière modification conforme à la fréquence annoncée",
        CheckGroup.CONTEXTUALITY,
        5,
        "Mettez à jour la donnée dans Géo-IDE, ou corrigez la fréquence annoncée si elle n'est plus "
        "tenue : une donnée annuelle ne devrait pas dater de plus de deux ans.",
        "outdated",
        _frequency_consistent,
    ),
    MetadataCheck(
        "description",
        f"Description d'au moins {MIN_DESCRIPTION_CHARS} caractères",
        CheckGroup.CONTEXTUALITY,
        5,
        "Dans Géo-IDE Catalogue, complétez le résumé : ce que contient la donnée, comment elle a été "
        "produite, sa précision et ses limites d'usage.",
        "incomplete_metadata",
        lambda facts, today: len(facts.description.strip()) >= MIN_DESCRIPTION_CHARS,
    ),
    MetadataCheck(
        "readable_title",
        "Titre lisible (ni nom de fichier ni code de couche)",
        CheckGroup.CONTEXTUALITY,
        5,
        "Dans Géo-IDE Catalogue, donnez à la fiche un titre en français qui dit le sujet et le territoire "
        "(« Zones de bruit des voies ferrées de l'Aisne ») plutôt que le nom de la couche.",
        "incomplete_metadata",
        _title_readable,
    ),
]
CHECKS_BY_ID = {check.id: check for check in CHECKS}
TOTAL_WEIGHT = sum(check.weight for check in CHECKS)


def facts_of(dataset: Dataset) -> MetadataFacts:
    """The facts of a stored dataset, as the import gives them to the checks."""
    return MetadataFacts(
        title=dataset.title,
        description=dataset.description,
        tags=dataset.tags,
        theme_count=sum(1 for theme in dataset.themes if theme.scheme == ThemeScheme.INSPIRE),
        zones=dataset.zones,
        temporal_start=dataset.temporal_start,
        frequency=dataset.frequency,
        modified_at=dataset.modified_at,
        licence=dataset.licence,
        resources_count=dataset.resources_count,
        resources_formats=dataset.resources_formats,
    )


def failed_checks(facts: MetadataFacts, today: date) -> list[str]:
    """The ids of the checks the dataset fails, in the list's order."""
    return [check.id for check in CHECKS if not check.passes(facts, today)]


def metadata_score(failed: list[str]) -> int:
    """The weighted share of the checks passed, 0–100 (rounded)."""
    lost = sum(CHECKS_BY_ID[check_id].weight for check_id in failed if check_id in CHECKS_BY_ID)
    return round(100 * (TOTAL_WEIGHT - lost) / TOTAL_WEIGHT)


def metadata_columns(facts: MetadataFacts, today: date) -> dict:
    """The stored result of the checks: the failed ids and the score."""
    failed = failed_checks(facts, today)
    return {"metadata_failed_checks": failed, "metadata_score": metadata_score(failed)}


@dataclass(frozen=True)
class CheckResult:
    check: MetadataCheck
    passed: bool

    @property
    def group_label(self) -> str:
        return GROUP_LABELS[self.check.group]


def check_results(failed: list[str] | None) -> list[CheckResult]:
    """Every check with its result for a dataset, in the list's order."""
    failed_ids = set(failed or [])
    return [CheckResult(check, check.id not in failed_ids) for check in CHECKS]


def producer_metadata_score(organisation_id: int) -> float | None:
    """The mean score of a producer's current datasets (None when none has been checked)."""
    mean = db.session.scalar(
        sa.select(sa.func.avg(Dataset.metadata_score)).where(
            Dataset.organisation_id == organisation_id,
            Dataset.archived.is_(False),
            Dataset.metadata_score.is_not(None),
        )
    )
    return None if mean is None else float(mean)
