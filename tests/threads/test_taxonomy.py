"""The quality categories stand on the BercyHub study: each names a motif and a sub-motif that the study's
file (feedback/reference_data/feedback-motifs-bercyhub.csv) holds, the sub-motif under that motif."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from feedback.threads.forms import NewThreadForm
from feedback.threads.taxonomy import CATEGORIES_BY_CODE, MOTIFS, QUALITY_CATEGORIES, category_label

STUDY = Path(__file__).resolve().parents[2] / "feedback" / "reference_data" / "feedback-motifs-bercyhub.csv"


def read_study() -> tuple[set[str], dict[str, str]]:
    """The motifs, and each sub-motif with its parent motif ("" where the study gives none)."""
    with STUDY.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the study file is empty"
    motifs = {row["label"] for row in rows if row["level"] == "motif"}
    sub_motifs = {row["label"]: row["parent_motif_most_frequent"] for row in rows if row["level"] == "sous_motif"}
    return motifs, sub_motifs


def test_the_study_file_has_its_six_motifs():
    motifs, sub_motifs = read_study()

    assert motifs == {"Fiabilité", "Autre", "Actualisation", "Accessibilité", "Compréhension", "Exploitabilité"}
    assert len(sub_motifs) == 26


@pytest.mark.parametrize("category", QUALITY_CATEGORIES, ids=lambda c: c.code)
def test_each_category_names_a_motif_and_a_sub_motif_of_the_study(category):
    motifs, sub_motifs = read_study()

    assert category.motif in motifs
    assert category.sub_motif in sub_motifs
    parent = sub_motifs[category.sub_motif]
    if parent:
        assert parent == category.motif


def test_the_motifs_listed_are_those_of_the_study():
    motifs, _ = read_study()

    assert set(MOTIFS) == motifs
    assert {category.motif for category in QUALITY_CATEGORIES} <= motifs


def test_codes_and_labels_are_unique():
    codes = [category.code for category in QUALITY_CATEGORIES]
    labels = [category.label for category in QUALITY_CATEGORIES]

    assert len(set(codes)) == len(codes)
    assert len(set(labels)) == len(labels)
    assert set(CATEGORIES_BY_CODE) == set(codes)


def test_category_labels():
    assert category_label("dead_link") == "Lien mort ou service indisponible"
    assert category_label("other") == "Autre problème"
    assert category_label("nothing") is None
    assert category_label(None) is None


def test_the_form_offers_every_category(app):
    with app.test_request_context():
        form = NewThreadForm(meta={"csrf": False})

    offered = [value for value, _ in form.quality_category.choices if value]
    assert offered == [category.code for category in QUALITY_CATEGORIES]
