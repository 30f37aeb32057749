"""The metadata checks (`feedback.catalogue.quality`), on real rows of the 905-row sample of the shared data folder.

Every expected value is read off the sample's CSV by hand (`export-dataset-20260116-sample.csv`):

- 67377126c48b675e7cc25368 "N_BRUIT_ZBR_INFRA_F_C_LN_S_002" (DDT Aisne): 14 tags, none an INSPIRE tag slug; no
  zone; no temporal coverage; no frequency; last modified 2022-05-09; Licence Ouverte 2.0; 6 resources,
  "esri shapefile (shp)"; description "Zone de bruit - département de l'Aisne - Voie ferrée - type C - LN" (66
  characters). Fails themes 10, spatial 10, temporal 10, frequency declared 5, frequency consistent 5,
  description 5, readable title 5 = 50 lost: score 50.
- 67bd71b53dc917a1515b3399 "Plan de Gestion des Risques d’Inondation (PGRI) 2022-2027" (DREAL Corse): tags "hvd",
  "observation-de-la-terre-et-environnement" (2, no INSPIRE slug); zone "Corse"; no temporal coverage; "punctual";
  "License Not Specified"; 1 resource, "pdf"; description of 495 characters. Fails keywords 10, themes 10,
  temporal 10, open format 10, licence 10 = 50 lost: score 50.
- 67bd75b27340c202eeb0933d "Evaluation préliminaire des risques d’inondation (EPRI) de Corse" (DREAL Corse): the
  same tags, zone and licence; "unknown" frequency; 2 resources, "pdf"; description of 256 characters. Fails
  keywords 10, themes 10, temporal 10, open format 10, licence 10, frequency declared 5, frequency consistent 5
  = 60 lost: score 40.
- 660bf7ef616b3073a900c54a "PLU de LA LAUPIE 26157 - …" (DDT Drôme): tags "amenagement-urbanisme-zonages-
  planification", "donnees-ouvertes", "usage-des-sols" (INSPIRE "lu"); no zone; temporal start 2017-07-17; no
  frequency; "License Not Specified"; 0 resources, no format; description of 265 characters. Fails spatial 10,
  resources 15, format declared 5, open format 10, licence 10, frequency declared 5, frequency consistent 5 = 60
  lost: score 40.
- 673785e8676cb14d38c40b33 "Foncier public du Val d'Oise": 2 tags, no INSPIRE slug; no zone; temporal start
  2017-01-01; "annual", last modified 2024-05-16 (more than two years before the import); Licence Ouverte 2.0;
  6 resources, shapefile; 374 characters. Fails keywords 10, themes 10, spatial 10, frequency consistent 5 = 35
  lost: score 65.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Organisation
from feedback.catalogue.models import Dataset
from feedback.catalogue.quality import (
    CHECKS,
    CHECKS_BY_ID,
    TOTAL_WEIGHT,
    check_results,
    facts_of,
    failed_checks,
    metadata_score,
    producer_metadata_score,
)
from feedback.catalogue.services import import_catalogue
from feedback.threads.taxonomy import CATEGORIES_BY_CODE

from .. import factories

SAMPLE = Path("catalogue") / "export-dataset-20260116-sample.csv"
EXPORT_DAY = date(2026, 1, 16)

AISNE_BRUIT = "67377126c48b675e7cc25368"
PGRI_CORSE = "67bd71b53dc917a1515b3399"
EPRI_CORSE = "67bd75b27340c202eeb0933d"
PLU_LA_LAUPIE = "660bf7ef616b3073a900c54a"
FONCIER_VAL_D_OISE = "673785e8676cb14d38c40b33"
ENR_ARDENNES = "68de2dc34cc9706769b5e510"  # "annual", last modified 2025-09-30
PLANS_D_EAU_LOZERE = "67eca006cb535526c0cba3e6"  # "annual", last modified 2015-07-16
COMMUNES_DSU_ESSONNE = "6737851a2ddfd17942c40b1d"  # title "N_communes_DSU_S_091"

EXPECTED = {
    AISNE_BRUIT: (
        [
            "themes",
            "spatial_coverage",
            "temporal_coverage",
            "frequency_declared",
            "frequency_consistent",
            "description",
            "readable_title",
        ],
        50,
    ),
    PGRI_CORSE: (["keywords", "themes", "temporal_coverage", "open_format", "licence"], 50),
    EPRI_CORSE: (
        [
            "keywords",
            "themes",
            "temporal_coverage",
            "open_format",
            "licence",
            "frequency_declared",
            "frequency_consistent",
        ],
        40,
    ),
    PLU_LA_LAUPIE: (
        [
            "spatial_coverage",
            "resources",
            "format_declared",
            "open_format",
            "licence",
            "frequency_declared",
            "frequency_consistent",
        ],
        40,
    ),
    FONCIER_VAL_D_OISE: (["keywords", "themes", "spatial_coverage", "frequency_consistent"], 65),
}

# For each check: a row of the sample that passes it and one that fails it (see the module docstring).
PASS_AND_FAIL = {
    "keywords": (AISNE_BRUIT, PGRI_CORSE),
    "themes": (PLU_LA_LAUPIE, AISNE_BRUIT),
    "spatial_coverage": (PGRI_CORSE, AISNE_BRUIT),
    "temporal_coverage": (PLU_LA_LAUPIE, AISNE_BRUIT),
    "resources": (AISNE_BRUIT, PLU_LA_LAUPIE),
    "format_declared": (PGRI_CORSE, PLU_LA_LAUPIE),
    "open_format": (AISNE_BRUIT, PGRI_CORSE),
    "licence": (AISNE_BRUIT, PGRI_CORSE),
    "frequency_declared": (PGRI_CORSE, AISNE_BRUIT),
    "frequency_consistent": (PGRI_CORSE, AISNE_BRUIT),
    "description": (PGRI_CORSE, AISNE_BRUIT),
    "readable_title": (PGRI_CORSE, AISNE_BRUIT),
}


@pytest.fixture
def sample_imported(db, shared_data):
    import_catalogue([shared_data / SAMPLE])
    db.session.commit()


def stored(db, catalogue_id: str) -> Dataset:
    return db.session.scalars(sa.select(Dataset).where(Dataset.catalogue_id == catalogue_id)).one()


def test_the_checks_are_one_list_of_weighted_groups_with_a_quality_category():
    assert len(CHECKS) == len(CHECKS_BY_ID) == 12
    assert TOTAL_WEIGHT == 100
    groups = {check.group for check in CHECKS}
    assert groups == {"findability", "accessibility", "interoperability", "reusability", "contextuality"}
    for check in CHECKS:
        assert check.category in CATEGORIES_BY_CODE
        assert "Géo-IDE" in check.help


def test_every_check_has_a_row_that_passes_and_one_that_fails(db, sample_imported):
    assert set(PASS_AND_FAIL) == set(CHECKS_BY_ID)
    for check_id, (passing, failing) in PASS_AND_FAIL.items():
        assert check_id not in stored(db, passing).metadata_failed_checks, (check_id, passing)
        assert check_id in stored(db, failing).metadata_failed_checks, (check_id, failing)


@pytest.mark.parametrize("catalogue_id", list(EXPECTED))
def test_the_import_stores_the_failed_checks_and_the_score(db, sample_imported, catalogue_id):
    failed, score = EXPECTED[catalogue_id]
    dataset = stored(db, catalogue_id)
    assert (dataset.metadata_failed_checks, dataset.metadata_score) == (failed, score)
    assert metadata_score(failed) == score


def test_every_imported_row_is_scored(db, sample_imported):
    unscored = db.session.scalar(sa.select(sa.func.count()).where(Dataset.metadata_score.is_(None)))
    assert unscored == 0


def test_the_frequency_is_compared_with_the_last_modification(db, sample_imported):
    # On the export's day: annual, modified 2025-09-30 (108 days before) or 2024-05-16 (610 days, under two
    # years) is kept; annual, modified 2015-07-16, is not.
    assert "frequency_consistent" not in failed_checks(facts_of(stored(db, ENR_ARDENNES)), EXPORT_DAY)
    assert "frequency_consistent" not in failed_checks(facts_of(stored(db, FONCIER_VAL_D_OISE)), EXPORT_DAY)
    assert "frequency_consistent" in failed_checks(facts_of(stored(db, PLANS_D_EAU_LOZERE)), EXPORT_DAY)
    # 2024-05-16 is more than 731 days before 2026-06-01.
    assert "frequency_consistent" in failed_checks(facts_of(stored(db, FONCIER_VAL_D_OISE)), date(2026, 6, 1))


def test_a_mixed_case_layer_code_is_not_a_readable_title(db, sample_imported):
    assert "readable_title" in failed_checks(facts_of(stored(db, COMMUNES_DSU_ESSONNE)), EXPORT_DAY)


def test_a_producers_score_is_the_mean_of_its_datasets(db, sample_imported):
    # DREAL Corse has two rows in the sample: PGRI (50) and EPRI (40).
    corse = db.session.scalars(sa.select(Organisation).where(Organisation.name == "DREAL Corse")).one()
    assert producer_metadata_score(corse.id) == pytest.approx(45.0)


def test_an_unknown_producer_has_no_score(db):
    assert producer_metadata_score(123456) is None


def test_the_dataset_page_shows_the_checks_and_links_a_failed_one_to_a_quality_issue(db, client, sample_imported):
    page = client.get(f"/jeux-de-donnees/{PGRI_CORSE}").get_data(as_text=True)
    assert "Score : <strong>50 / 100</strong>" in page
    assert page.count("À corriger") == 5
    assert page.count("Réussi") == 7
    assert CHECKS_BY_ID["licence"].help.replace("'", "&#39;") in page
    assert "type=quality_issue" in page and "categorie=missing_licence" in page
    assert "Signaler ce problème" in page


def test_a_dataset_not_yet_checked_says_so(db, client, sample_imported):
    dataset = stored(db, AISNE_BRUIT)
    dataset.metadata_score = None
    dataset.metadata_failed_checks = None
    db.session.commit()
    page = client.get(f"/jeux-de-donnees/{AISNE_BRUIT}").get_data(as_text=True)
    assert "pas encore été évaluées" in page
    assert "Signaler ce problème" not in page


def test_check_results_follow_the_list(db):
    results = check_results(["licence"])
    assert [result.check.id for result in results] == [check.id for check in CHECKS]
    assert [result.check.id for result in results if not result.passed] == ["licence"]


def test_signaler_ce_probleme_opens_the_quality_issue_form_with_the_category_chosen(db, client, login, sample_imported):
    page = client.get(f"/jeux-de-donnees/{PGRI_CORSE}").get_data(as_text=True)
    link = re.search(r'href="([^"]*categorie=missing_licence[^"]*)"', page).group(1).replace("&amp;", "&")
    login(factories.create_user())
    form = client.get(link).get_data(as_text=True)
    chosen = re.search(r'<option([^>]*)value="missing_licence"([^>]*)>', form)
    assert chosen and "selected" in chosen.group(1) + chosen.group(2)
    assert PGRI_CORSE in form  # the dataset, carried in too
