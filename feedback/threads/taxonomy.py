"""Why people write about a dataset's quality: the categories a quality issue is filed under.

Built on the BercyHub study of 1,284 data.gouv.fr messages (`feedback/reference_data/feedback-motifs-
bercyhub.csv`): each category names the study's sub-motif it stands for and the motif (Accessibilité,
Actualisation, Fiabilité, Exploitabilité, Compréhension, Autre) it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QualityCategory:
    code: str
    label: str
    motif: str
    sub_motif: str


QUALITY_CATEGORIES = [
    QualityCategory("dead_link", "Lien mort ou service indisponible", "Accessibilité", "Lien mort"),
    QualityCategory("unusable_format", "Format inexploitable", "Accessibilité", "Format incompatible"),
    QualityCategory("outdated", "Données non mises à jour", "Actualisation", "Absence de mise à jour"),
    QualityCategory(
        "unknown_frequency",
        "Fréquence de mise à jour inconnue",
        "Actualisation",
        "Absence d'information sur les mises à jour",
    ),
    QualityCategory("data_error", "Erreur dans les données", "Fiabilité", "Erreur dans les données fournies"),
    QualityCategory("insufficient_precision", "Précision insuffisante", "Fiabilité", "Incertitude des données"),
    QualityCategory("unsuitable_granularity", "Granularité inadaptée", "Exploitabilité", "Problème de granularité"),
    QualityCategory("inconsistent_formatting", "Formatage non respecté", "Exploitabilité", "Formatage non respecté"),
    QualityCategory(
        "undocumented_variables",
        "Variables non documentées",
        "Compréhension",
        "Absence de description des variables",
    ),
    QualityCategory("incomplete_metadata", "Métadonnées incomplètes", "Compréhension", "Descriptions imprécises"),
    QualityCategory("missing_licence", "Licence absente ou imprécise", "Accessibilité", "Données non-ouvertes"),
    QualityCategory("other", "Autre problème", "Autre", "Questions ou remarques d'usagers"),
]
CATEGORIES_BY_CODE = {category.code: category for category in QUALITY_CATEGORIES}
MOTIFS = ["Accessibilité", "Actualisation", "Fiabilité", "Exploitabilité", "Compréhension", "Autre"]


def category_label(code: str | None) -> str | None:
    category = CATEGORIES_BY_CODE.get(code or "")
    return category.label if category else None
