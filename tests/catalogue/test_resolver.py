"""Finding a dataset from what a person pastes: ids, slugs, data.gouv.fr / Ecosphères / Géo-IDE URLs, titles.

The datasets are the real rows of `tests/fixtures/export-dataset-sample-small.csv`, imported for each test.
"""

from __future__ import annotations

import pytest

from feedback.catalogue.resolver import (
    Identifier,
    Lookup,
    look_up_dataset,
    parse_identifier,
    resolve_dataset,
    suggestion_label,
)
from feedback.catalogue.services import import_catalogue
from feedback.search import normalise

# "Cours d'eau validés police de l'eau", DDT Ardennes (fixture line 43).
COURS_DEAU_ID = "68c9ff091ffa77c8a4bfc472"
COURS_DEAU_SLUG = "cours-deau-valides-police-de-leau-1"
COURS_DEAU_RECORD = "fr-120066022-jdd-045c3c0d-5786-4e56-8c1f-63bf60e8f9c8"
GEOIDE_CATALOGUE = "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search#/metadata/"
# "N_BRUIT_ZBR_INFRA_F_C_LN_S_002", DDT Aisne (fixture line 2).
AISNE_BRUIT_ID = "67377126c48b675e7cc25368"
AISNE_BRUIT_SLUG = "n-bruit-zbr-infra-f-c-ln-s-002"


@pytest.fixture
def imported(db, small_export):
    summary = import_catalogue([small_export])
    db.session.commit()
    assert summary.created == 22
    return summary


@pytest.mark.parametrize(
    ("text", "catalogue_id"),
    [
        # data.gouv.fr id, whatever its case
        (COURS_DEAU_ID, COURS_DEAU_ID),
        (COURS_DEAU_ID.upper(), COURS_DEAU_ID),
        (AISNE_BRUIT_ID, AISNE_BRUIT_ID),
        # slug
        (COURS_DEAU_SLUG, COURS_DEAU_ID),
        (AISNE_BRUIT_SLUG, AISNE_BRUIT_ID),
        # data.gouv.fr pages
        (f"https://www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/datasets/{COURS_DEAU_ID}", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/datasets/{COURS_DEAU_ID}/", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/datasets/{COURS_DEAU_ID}?utm_source=ecospheres&page=2", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/?tab=discussions#resources", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/en/datasets/{COURS_DEAU_SLUG}/", COURS_DEAU_ID),
        (f"http://data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/", COURS_DEAU_ID),
        (f"www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/", COURS_DEAU_ID),
        # the landing URL the export itself gives
        ("https://www.data.gouv.fr/datasets/cours-deau-valides-police-de-leau-1", COURS_DEAU_ID),
        # udata API
        (f"https://www.data.gouv.fr/api/1/datasets/{COURS_DEAU_ID}/", COURS_DEAU_ID),
        (f"https://www.data.gouv.fr/api/1/datasets/{COURS_DEAU_SLUG}/", COURS_DEAU_ID),
        # Ecosphères
        (f"https://ecologie.data.gouv.fr/datasets/{COURS_DEAU_ID}", COURS_DEAU_ID),
        (f"https://ecologie.data.gouv.fr/datasets/{COURS_DEAU_SLUG}", COURS_DEAU_ID),
        (f"https://ecologie.data.gouv.fr/datasets/{AISNE_BRUIT_ID}/", AISNE_BRUIT_ID),
        # Géo-IDE record id and catalogue URL
        (COURS_DEAU_RECORD, COURS_DEAU_ID),
        (COURS_DEAU_RECORD.upper(), COURS_DEAU_ID),
        (GEOIDE_CATALOGUE + COURS_DEAU_RECORD, COURS_DEAU_ID),
        (
            "https://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/api/records/"
            + COURS_DEAU_RECORD
            + "/formatters/xml",
            COURS_DEAU_ID,
        ),
        # whitespace around what was pasted
        (f"  {COURS_DEAU_ID}\n", COURS_DEAU_ID),
        (f"\t https://www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/  ", COURS_DEAU_ID),
        (f" {GEOIDE_CATALOGUE}{COURS_DEAU_RECORD} \r\n", COURS_DEAU_ID),
    ],
)
def test_resolves_what_a_person_may_paste(imported, text, catalogue_id):
    found = resolve_dataset(text)
    assert found is not None, text
    assert found.catalogue_id == catalogue_id


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   \n",
        "zones inondables du Loiret",
        "Cours d'eau validés",
        "0123456789abcdef01234567",  # well formed, unknown
        "jeu-qui-n-existe-pas",
        "fr-120066022-jdd-00000000-0000-0000-0000-000000000000",
        f"https://www.example.com/datasets/{COURS_DEAU_ID}/",
        f"https://www.data.gouv.fr.example.com/fr/datasets/{COURS_DEAU_SLUG}/",
        f"https://geo.data.gouv.fr/fr/datasets/{COURS_DEAU_ID}",
        "https://www.data.gouv.fr/fr/organizations/ddt-ardennes/",
        f"https://www.data.gouv.fr/fr/reuses/{COURS_DEAU_ID}/",
        "https://www.data.gouv.fr/fr/datasets/",
        "https://www.data.gouv.fr/fr/datasets/r/3e9bfb8d-2b96-46fb-ae1e-d3e9c8aa0f5f",
        "https://www.data.gouv.fr/",
        "https://ecologie.data.gouv.fr/organizations/ddt-ardennes",
        f"mailto:ddt@ardennes.gouv.fr?subject={COURS_DEAU_ID}",
    ],
)
def test_names_no_dataset(imported, text):
    assert resolve_dataset(text) is None


def test_parse_identifier_says_what_the_text_names(db):
    assert parse_identifier(COURS_DEAU_ID.upper()) == Identifier("catalogue_id", COURS_DEAU_ID)
    assert parse_identifier(f" {COURS_DEAU_SLUG} ") == Identifier("slug", COURS_DEAU_SLUG)
    assert parse_identifier(f"https://www.data.gouv.fr/fr/datasets/{COURS_DEAU_SLUG}/") == Identifier(
        "slug", COURS_DEAU_SLUG
    )
    assert parse_identifier(f"https://www.data.gouv.fr/api/1/datasets/{COURS_DEAU_ID.upper()}/") == Identifier(
        "catalogue_id", COURS_DEAU_ID
    )
    assert parse_identifier(f"https://ecologie.data.gouv.fr/datasets/{COURS_DEAU_ID}") == Identifier(
        "catalogue_id", COURS_DEAU_ID
    )
    assert parse_identifier(GEOIDE_CATALOGUE + COURS_DEAU_RECORD.upper()) == Identifier(
        "geoide_record_id", COURS_DEAU_RECORD
    )
    # Nothing is looked up: an id nobody holds still parses.
    assert parse_identifier("0123456789abcdef01234567") == Identifier("catalogue_id", "0123456789abcdef01234567")
    for text in (None, "", "  ", "zones inondables", "https://www.example.com/datasets/x/", "a" * 2001):
        assert parse_identifier(text) is None, text


def test_a_geoide_record_harvested_twice_resolves_to_the_live_dataset(db, imported):
    """Lines 5 and 8 of the fixture come from the same Géo-IDE record (jdd-b06a5913…): the first was
    archived on 2025-04-13 when the record was harvested again as 67ca3937…, which is the live one."""
    record = "fr-120066022-jdd-b06a5913-d5d2-4b4f-a0d2-268b03feb17a"
    found = resolve_dataset(GEOIDE_CATALOGUE + record)
    assert found is not None
    assert found.catalogue_id == "67ca39378390ac5beaf0c411"
    assert found.archived_at is None


def test_an_archived_dataset_is_still_found_by_its_own_id(db, imported):
    found = resolve_dataset("https://www.data.gouv.fr/datasets/6737712ac48b675e7cc25374/")
    assert found is not None
    assert found.catalogue_id == "6737712ac48b675e7cc25374"
    assert found.archived_at is not None


# A dataset field also takes a title (`look_up_dataset`), accents, case and spaces aside. -----------------------


@pytest.mark.parametrize(
    "text",
    [
        "Cours d'eau validés police de l'eau",
        "COURS D'EAU VALIDES POLICE DE L'EAU",
        "  cours   d’eau  validés police de l’eau ",  # spaces as typed, typographic apostrophes
        "Cours d'eau validés police de l'eau — DDT Ardennes",  # as a suggestion fills the field
        COURS_DEAU_RECORD.removeprefix("fr-120066022-jdd-"),  # the bare Géo-IDE record UUID
        COURS_DEAU_RECORD.removeprefix("fr-120066022-jdd-").upper(),
    ],
)
def test_a_title_or_a_bare_geoide_uuid_names_its_dataset(imported, text):
    found = look_up_dataset(text)
    assert found.dataset is not None, text
    assert found.dataset.catalogue_id == COURS_DEAU_ID
    assert found.candidates == ()


def test_a_title_of_several_current_datasets_gives_them_to_choose_and_never_an_archived_one(imported):
    """N_ZONE_REG_PPRN_L_002 is three rows of DDT Aisne: two current (67f46b6b…, 67ca3937…) and one archived."""
    found = look_up_dataset("n_zone_reg_pprn_l_002")

    assert found.dataset is None
    assert sorted(d.catalogue_id for d in found.candidates) == ["67ca39378390ac5beaf0c411", "67f46b6b176705d9908b8c5e"]


def test_a_title_of_archived_datasets_only_names_none(imported):
    # The three N_ZONE_REG_PPRN_S_002 rows are archived; the archived one is still found by its own id.
    assert look_up_dataset("N_ZONE_REG_PPRN_S_002") == Lookup()
    assert look_up_dataset("6737712ac48b675e7cc25375").dataset is not None


def test_a_suggestion_of_a_title_with_doubled_spaces_names_it_again(imported):
    dataset = resolve_dataset(COURS_DEAU_ID)
    dataset.title = "Cours d'eau  validés police de l'eau "  # as some titles of the catalogue are written
    dataset.search_title = normalise(dataset.title)
    assert look_up_dataset(suggestion_label(dataset)).dataset == dataset  # (the look-up's query flushes the row)


@pytest.mark.parametrize("text", ["Cours d'eau", "police de l'eau", "Cours d'eau validés — DDT Aisne", "—", "  "])
def test_a_part_of_a_title_or_a_wrong_producer_names_none(imported, text):
    assert look_up_dataset(text) == Lookup()
