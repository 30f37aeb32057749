"""Importing the catalogue: the data.gouv.fr export-dataset CSV (plain or gzip) and udata API JSON.

Expected values are read off the files by hand: `tests/fixtures/export-dataset-sample-small.csv` (22 rows
of 8 producers), `feedback/reference_data/services-ddt-dreal.csv`, `inspire_themes_fr.csv`, and the
905-row sample of the shared data folder.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Organisation, OrganisationKind
from feedback.accounts.services import organisation_kind_from_name
from feedback.catalogue.models import Dataset, Theme, ThemeScheme
from feedback.catalogue.queries import DatasetFilters, search_datasets
from feedback.catalogue.services import import_catalogue
from feedback.catalogue.sources import UnreadableFile, read_source
from feedback.search import normalise, query_words

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UDATA_FIXTURE = FIXTURES / "udata-dataset.json"
SAMPLE = Path("catalogue") / "export-dataset-20260116-sample.csv"

# Datasets of the small fixture, by data.gouv.fr id (file order; "line" is where the row starts).
AISNE_BRUIT = "67377126c48b675e7cc25368"  # line 2, DDT Aisne, Géo-IDE jdd-204da6ac…
AISNE_PPRN_L = "67f46b6b176705d9908b8c5e"  # line 3
AISNE_PPRN_S_ARCHIVED = "67f85d86fdff9225989ac72f"  # line 4, archived 2025-04-25T00:07:19.361
AISNE_PPRN_L_ARCHIVED = "6737712ac48b675e7cc25374"  # line 5, archived, same Géo-IDE record as line 8
AISNE_BRUIT_ROUTE = "67377127c48b675e7cc2536a"  # line 7
AISNE_PPRN_L_LIVE = "67ca39378390ac5beaf0c411"  # line 8, not archived
TRI_BORDEAUX_COMMUNES = "55f18efbc751df5b2e1f92b8"  # lines 10-20, DDT Ardennes, zone "Libourne"
BOIS_RONDS = "5a09987688ee3824462fee0a"  # lines 21-31, DDT Ardennes
EPCI_ARDENNES = "67373fac3a5c7bfb9cc25380"  # line 32
COURS_DEAU = "68c9ff091ffa77c8a4bfc472"  # lines 43-49
PLU_LA_LAUPIE = "660bf7ef616b3073a900c54a"  # line 86, DDT Drôme, "License Not Specified"
BRUIT_AERIEN_VAUCLUSE = "6737837ca5b40bca61c40a8c"  # lines 96-115, Géo-IDE "ldd" record
TACHE_URBAINE = "56ec2e8a88ee38265ee1a630"  # lines 116-135, DREAL Aquitaine
ATLAS_GARONNE = "56ec2e63c751df5944cc7145"  # lines 136-154, DREAL Aquitaine
URBANISME_ARA = "637217221ae9b93f27fd6aa1"  # lines 155-157, DREAL Auvergne-Rhône-Alpes

# The eight producers of the small fixture: data.gouv.fr id → (name, kind, territory, datasets).
SMALL_PRODUCERS = {
    "58ad720388ee381d53318fb0": ("DDT Aisne", "ddt", "D02", 8),
    "58adb51688ee381d3ba6d43e": ("DDT Ardennes", "ddt", "D08", 6),
    "58aec19a88ee385837ea9abe": ("DDT Côte-d'Or", "ddt", "D21", 2),
    "58aed7b188ee38779b2b7560": ("DDT Drôme", "ddt", "D26", 1),
    "58aeee1688ee382134fb5212": ("DDT Hautes-Pyrénées", "ddt", "D65", 1),
    "58aef6d188ee382d1749c425": ("DDT Vaucluse", "ddt", "D84", 1),
    "55bba52788ee387495a46ec1": ("DREAL Aquitaine", "dreal", None, 2),
    "5882a05d88ee3835c59b81a4": ("DREAL Auvergne-Rhône-Alpes", "dreal", "R84", 1),
}
ARCHIVED_IN_SMALL = 14  # rows whose "archived" column holds a date rather than "False"


# Helpers ---------------------------------------------------------------------------------------------


def read_export(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return rows[0], rows[1:]


def export_text(rows: list[list[str]], delimiter: str = ";") -> str:
    """Written like the real export: every field quoted, CRLF between rows."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_export(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ";") -> Path:
    path.write_bytes(export_text([header, *rows], delimiter).encode("utf-8"))
    return path


def write_with_cp1252_tail(path: Path, header: list[str], rows: list[list[str]], tail: int) -> Path:
    """UTF-8 but for the last `tail` rows, saved in Windows-1252 (as a spreadsheet may do)."""
    head, end = rows[:-tail], rows[-tail:]
    path.write_bytes(export_text([header, *head]).encode("utf-8") + export_text(end).encode("cp1252", "replace"))
    return path


def row_by_id(header: list[str], rows: list[list[str]], catalogue_id: str) -> list[str]:
    return next(list(row) for row in rows if row[header.index("id")] == catalogue_id)


def with_values(header: list[str], row: list[str], **values: str) -> list[str]:
    """A copy of `row` with some columns changed; `spatial__zones=` stands for `spatial.zones`."""
    row = list(row)
    for column, value in values.items():
        row[header.index(column.replace("__", "."))] = value
    return row


def dataset(db, catalogue_id: str) -> Dataset:
    found = db.session.scalars(sa.select(Dataset).where(Dataset.catalogue_id == catalogue_id)).one_or_none()
    assert found is not None, f"dataset {catalogue_id} not imported"
    return found


def organisation(db, datagouv_id: str) -> Organisation:
    found = db.session.scalars(sa.select(Organisation).where(Organisation.datagouv_id == datagouv_id)).one_or_none()
    assert found is not None, f"organisation {datagouv_id} not created"
    return found


def count(db, model, *conditions) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def territory_codes(item: Dataset) -> list[str]:
    return sorted(t.code for t in item.territories)


def theme_codes(item: Dataset) -> list[str]:
    return sorted(t.code for t in item.themes if t.scheme == ThemeScheme.INSPIRE)


def found_ids(query: str) -> set[str]:
    page = search_datasets(DatasetFilters(q=query, archived=True), 1, 100)
    return {item.catalogue_id for item in page.items}


@pytest.fixture
def imported(db, small_export):
    summary = import_catalogue([small_export])
    db.session.commit()
    return summary


# Bad files: each builder writes one in tmp_path; the CLI tests reuse them. ---------------------------


def _binary(tmp_path: Path, small_export: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    return path


def _comma_separated(tmp_path: Path, small_export: Path) -> Path:
    header, rows = read_export(small_export)
    return write_export(tmp_path / "export-virgules.csv", header, rows, delimiter=",")


def _without_id_and_title(tmp_path: Path, small_export: Path) -> Path:
    header, rows = read_export(small_export)
    header = ["identifiant" if c == "id" else "titre" if c == "title" else c for c in header]
    return write_export(tmp_path / "export-renomme.csv", header, rows)


def _truncated_gzip(tmp_path: Path, small_export: Path) -> Path:
    data = gzip.compress(small_export.read_bytes())
    path = tmp_path / "export.csv.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _empty(tmp_path: Path, small_export: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(b"")
    return path


def _malformed_json(tmp_path: Path, small_export: Path) -> Path:
    path = tmp_path / "jeu.json"
    path.write_text('{"status": 200, "data": {"id": "5de8f397634f4164071119c5", "title": ', encoding="utf-8")
    return path


def _json_error_response(tmp_path: Path, small_export: Path) -> Path:
    path = tmp_path / "jeu.json"
    path.write_text(json.dumps({"message": "Not found", "status": 404}), encoding="utf-8")
    return path


def _json_list_of_numbers(tmp_path: Path, small_export: Path) -> Path:
    path = tmp_path / "jeux.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    return path


BAD_FILES = [
    pytest.param(_binary, "ni un CSV ni un JSON", id="binary"),
    pytest.param(_comma_separated, "le séparateur attendu est « ; »", id="comma-separated"),
    pytest.param(_without_id_and_title, "colonnes « id » et « title » introuvables", id="no-id-title-columns"),
    pytest.param(_truncated_gzip, "fichier compressé tronqué", id="truncated-gzip"),
    pytest.param(_empty, "fichier vide", id="empty"),
    pytest.param(_malformed_json, "JSON illisible", id="malformed-json"),
    pytest.param(_json_error_response, "JSON inattendu", id="json-not-a-dataset"),
    pytest.param(_json_list_of_numbers, "JSON inattendu", id="json-list-of-numbers"),
]


# 1. The small fixture --------------------------------------------------------------------------------


def test_small_export_creates_every_row(db, small_export):
    summary = import_catalogue([small_export])
    db.session.commit()

    assert (summary.created, summary.updated, summary.unchanged) == (22, 0, 0)
    assert summary.rejected == []
    assert summary.organisations_created == 8
    assert summary.line() == "22 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s) ; 8 organisation(s) créée(s)"
    assert count(db, Dataset) == 22
    assert count(db, Dataset, Dataset.archived_at.isnot(None)) == ARCHIVED_IN_SMALL


def test_producers_are_created_with_their_datagouv_id_kind_and_territory(db, imported):
    organisations = {o.datagouv_id: o for o in db.session.scalars(sa.select(Organisation))}
    assert set(organisations) == set(SMALL_PRODUCERS)
    for datagouv_id, (name, kind, territory, datasets) in SMALL_PRODUCERS.items():
        producer = organisations[datagouv_id]
        assert producer.name == name
        assert producer.kind == kind, name
        assert producer.is_producer, name
        if territory is not None:
            assert producer.territory_code == territory, name
        assert count(db, Dataset, Dataset.organisation_id == producer.id) == datasets, name
    assert dataset(db, COURS_DEAU).organisation.name == "DDT Ardennes"


def test_services_list_enriches_a_known_service(db, imported):
    # services-ddt-dreal.csv, line 55: "DDT 02", territoire D02, datagouv_org_id 58ad720388ee381d53318fb0.
    aisne = organisation(db, "58ad720388ee381d53318fb0")
    assert aisne.territory_code == "D02"
    assert aisne.full_name == "Direction départementale des territoires (DDT) - Aisne"
    assert aisne.email == "ddt@aisne.gouv.fr"
    assert aisne.phone == "03 23 24 64 00"
    assert aisne.website == (
        "https://www.aisne.gouv.fr/Services-de-l-Etat/Presentation-des-services/Direction-Departementale-des-Territoires-DDT"
    )
    assert aisne.slug == "ddt-aisne"
    # Line 102: a DREAL whose territory is given as a région abbreviation (ARA → INSEE R84).
    ara = organisation(db, "5882a05d88ee3835c59b81a4")
    assert ara.territory_code == "R84"
    assert ara.email == "dir.dreal-auvergne-rhone-alpes@developpement-durable.gouv.fr"
    # DREAL Aquitaine is not in the list: nothing to copy.
    aquitaine = organisation(db, "55bba52788ee387495a46ec1")
    assert (aquitaine.full_name, aquitaine.email, aquitaine.phone) == (None, None, None)


def test_geoide_record_id_is_taken_from_the_harvest_remote_url(db, imported):
    item = dataset(db, AISNE_BRUIT)
    assert item.geoide_record_id == "fr-120066022-jdd-204da6ac-4f64-421a-9045-e985ca66a029"
    assert item.geoide_url == (
        "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search"
        "#/metadata/fr-120066022-jdd-204da6ac-4f64-421a-9045-e985ca66a029"
    )
    assert dataset(db, COURS_DEAU).geoide_record_id == "fr-120066022-jdd-045c3c0d-5786-4e56-8c1f-63bf60e8f9c8"
    # Harvested from another catalogue, or not harvested at all: no Géo-IDE record.
    other = dataset(db, URBANISME_ARA)
    assert (other.geoide_record_id, other.geoide_url) == (None, None)
    assert dataset(db, BOIS_RONDS).geoide_record_id is None
    # Ten rows of the fixture point at a "jdd" Géo-IDE record (lines 2-9, 32 and 43), two at an "ldd" one.
    assert count(db, Dataset, Dataset.geoide_record_id.isnot(None)) == 12


def test_geoide_lot_record_id_is_taken_too(db, imported):
    """A Géo-IDE "lot de données" record (`fr-120066022-ldd-…`) is a Géo-IDE record like a `jdd` one: the
    shared data README counts them among the 24,530 rows "carrying a Géo-IDE record URL"."""
    item = dataset(db, BRUIT_AERIEN_VAUCLUSE)
    assert item.geoide_record_id == "fr-120066022-ldd-16254847-9fbd-440d-ae32-9d80b80e832e"
    assert item.geoide_url.endswith("#/metadata/fr-120066022-ldd-16254847-9fbd-440d-ae32-9d80b80e832e")


def test_tags_are_kept_in_order(db, imported):
    assert dataset(db, TACHE_URBAINE).tags == [
        "donnees-ouvertes",
        "foncier-sol-occupation-du-sol",
        "imagery-base-maps-earth-cover",
        "occupation-des-terres",
        "tache",
        "urbaine",
    ]
    assert dataset(db, COURS_DEAU).tags == ["cours-deau", "donnees-ouvertes", "eau", "eau-masse-deau", "police"]


@pytest.mark.parametrize(
    ("catalogue_id", "themes"),
    [
        (TACHE_URBAINE, ["lc"]),  # occupation-des-terres
        (ATLAS_GARONNE, ["nz"]),  # zones-a-risque-naturel
        (TRI_BORDEAUX_COMMUNES, ["nz"]),  # zones-a-risque-naturel
        (EPCI_ARDENNES, ["au"]),  # unites-administratives
        (PLU_LA_LAUPIE, ["lu"]),  # usage-des-sols
        # zones-de-gestion-de-restriction-ou-de-reglementation-et-unites-de-declaration
        (BRUIT_AERIEN_VAUCLUSE, ["am"]),
        (URBANISME_ARA, ["am"]),
        (AISNE_BRUIT, []),  # "zone-de-gestion", "zone-de-bruit": not INSPIRE tag slugs
    ],
)
def test_inspire_themes_come_from_the_tags(db, imported, catalogue_id, themes):
    assert theme_codes(dataset(db, catalogue_id)) == themes


def test_spatial_zones_that_are_communes_fall_back_on_the_producers_territory(db, imported):
    # "Libourne" is a commune, not a département or a région: DDT Ardennes' territory is used.
    item = dataset(db, TRI_BORDEAUX_COMMUNES)
    assert item.zones == ["Libourne"]
    assert territory_codes(item) == ["D08"]
    assert dataset(db, "58aec2dcc751df0e9c1cc566").zones == ["Lusigny-sur-Ouche"]
    assert territory_codes(dataset(db, "58aec2dcc751df0e9c1cc566")) == ["D21"]
    # No zone at all: the producer's territory too.
    assert territory_codes(dataset(db, AISNE_BRUIT)) == ["D02"]
    assert territory_codes(dataset(db, URBANISME_ARA)) == ["R84"]


def test_spatial_zones_naming_a_departement_or_a_region_become_territories(db, small_export, tmp_path):
    header, rows = read_export(small_export)
    rows = [
        with_values(header, row_by_id(header, rows, AISNE_BRUIT), spatial__zones="Loiret"),
        with_values(header, row_by_id(header, rows, AISNE_PPRN_L), spatial__zones="Auvergne-Rhône-Alpes"),
        with_values(header, row_by_id(header, rows, AISNE_BRUIT_ROUTE), spatial__zones="CÔTE-D’OR,Cher"),
        with_values(header, row_by_id(header, rows, COURS_DEAU), spatial__zones="Libourne,Gironde"),
    ]
    import_catalogue([write_export(tmp_path / "zones.csv", header, rows)])
    db.session.commit()

    # The zone wins over the producer's territory (DDT Aisne: D02).
    assert territory_codes(dataset(db, AISNE_BRUIT)) == ["D45"]
    assert territory_codes(dataset(db, AISNE_PPRN_L)) == ["R84"]
    # Case, accents and a typographic apostrophe do not matter; several zones give several territories.
    assert territory_codes(dataset(db, AISNE_BRUIT_ROUTE)) == ["D18", "D21"]
    assert dataset(db, AISNE_BRUIT_ROUTE).zones == ["CÔTE-D’OR", "Cher"]
    # A commune next to a département: only the département is a territory (not DDT Ardennes' D08).
    assert territory_codes(dataset(db, COURS_DEAU)) == ["D33"]


def test_archived_rows_get_their_archive_date(db, imported):
    assert dataset(db, AISNE_PPRN_S_ARCHIVED).archived_at == datetime(2025, 4, 25, 0, 7, 19, 361000, tzinfo=UTC)
    assert dataset(db, TACHE_URBAINE).archived_at == datetime(2024, 10, 4, 13, 48, 54, 745000, tzinfo=UTC)
    assert dataset(db, AISNE_BRUIT).archived_at is None
    assert dataset(db, AISNE_PPRN_L_LIVE).archived_at is None


def test_licences_are_kept_as_written(db, imported):
    assert dataset(db, PLU_LA_LAUPIE).licence == "License Not Specified"
    assert count(db, Dataset, Dataset.licence == "License Not Specified") == 3
    assert dataset(db, AISNE_BRUIT).licence == "Licence Ouverte / Open Licence version 2.0"
    assert dataset(db, TACHE_URBAINE).licence == "Licence Ouverte / Open Licence"


def test_descriptions_are_stored_raw(db, small_export, imported):
    header, rows = read_export(small_export)
    raw = row_by_id(header, rows, TRI_BORDEAUX_COMMUNES)[header.index("description")]
    stored = dataset(db, TRI_BORDEAUX_COMMUNES).description
    assert stored == raw
    assert "d&#x27;habitants" in stored  # the HTML entity is kept, not decoded
    assert stored.count("\n") == 10
    # What search reads has no markup: the entity is decoded there.
    assert "d'habitants" in dataset(db, TRI_BORDEAUX_COMMUNES).search_text


def test_html_descriptions_are_stored_raw_and_searched_as_text(db, small_export, tmp_path):
    header, rows = read_export(small_export)
    html = '<p>Zones <strong>inondables</strong> du Loiret</p>\n<ul><li>aléa fort</li></ul><a href="x">lien</a>'
    row = with_values(header, row_by_id(header, rows, COURS_DEAU), description=html)
    import_catalogue([write_export(tmp_path / "html.csv", header, [row])])
    db.session.commit()

    item = dataset(db, COURS_DEAU)
    assert item.description == html
    assert "<strong>" not in item.search_text
    assert "zones inondables du loiret" in item.search_text
    assert found_ids("inondables loiret") == {COURS_DEAU}


def test_other_columns(db, imported):
    plu = dataset(db, PLU_LA_LAUPIE)
    assert plu.slug == (
        "plu-de-la-laupie-26157-mise-a-jour-17-07-2017-fin-de-validite-26-01-2018-caractere-executoire-"
        "de-la-mise-en-compatibilite-approuvee-le-18-12-2017"
    )
    assert plu.title == (
        "PLU de LA LAUPIE 26157 - Mise à jour 17/07/2017 - FIN de VALIDITE : 26/01/2018 caractère exécutoire "
        "de la Mise en compatibilité approuvée le 18/12/2017"
    )
    assert plu.frequency is None
    assert (plu.temporal_start, plu.temporal_end) == (date(2017, 7, 17), date(2018, 1, 26))
    assert plu.published_at == datetime(2018, 6, 4, tzinfo=UTC)
    assert plu.modified_at == datetime(2024, 4, 2, 12, 19, 59, 425000, tzinfo=UTC)
    assert plu.resources_count == 0
    cours = dataset(db, COURS_DEAU)
    assert cours.title == "Cours d'eau validés police de l'eau"
    assert cours.frequency == "severalTimesADay"
    assert cours.resources_count == 6
    assert cours.landing_url == "https://www.data.gouv.fr/datasets/cours-deau-valides-police-de-leau-1"
    bordeaux = dataset(db, TRI_BORDEAUX_COMMUNES)
    assert bordeaux.title == (
        "Aquitaine : TRI de Bordeaux (aléa débordement) - Communes ayant servi à calculer les enjeux humains "
        "d'un scénario d’inondation, Directive inondation"
    )
    assert bordeaux.frequency == "unknown"


# 2. Importing again ---------------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(db, small_export, imported):
    before = {item.catalogue_id: item.updated_at for item in db.session.scalars(sa.select(Dataset))}

    summary = import_catalogue([small_export])
    db.session.commit()

    assert (summary.created, summary.updated, summary.unchanged, summary.rejected) == (0, 0, 22, [])
    assert summary.organisations_created == 0
    assert summary.line() == "0 créé(s), 0 mis à jour, 22 inchangé(s), 0 rejeté(s) — rien n'a changé"
    assert {item.catalogue_id: item.updated_at for item in db.session.scalars(sa.select(Dataset))} == before
    assert count(db, Organisation) == 8


def test_a_modified_copy_updates_only_the_changed_rows(db, small_export, imported, tmp_path):
    assert found_ids("N_BRUIT_ZBR_INFRA_F_C_LN_S_002") == {AISNE_BRUIT}
    assert found_ids("Sonnenblumen") == set()
    before = {item.catalogue_id: item.updated_at for item in db.session.scalars(sa.select(Dataset))}
    header, rows = read_export(small_export)
    changed = {
        AISNE_BRUIT: {"title": "Sonnenblumen : zones de bruit ferroviaire de l'Aisne"},
        COURS_DEAU: {"archived": "2026-01-10T08:00:00"},
        # Audience figures change every week without changing the dataset.
        EPCI_ARDENNES: {"metric.views": "999999", "quality_score": "0.1"},
    }
    rows = [
        with_values(header, row, **changed[row[0]]) if row[0] in changed else row
        for row in rows  # "id" is the first column
    ]

    summary = import_catalogue([write_export(tmp_path / "export-modifie.csv", header, rows)])
    db.session.commit()

    assert (summary.created, summary.updated, summary.unchanged, summary.rejected) == (0, 2, 20, [])
    assert summary.line() == "0 créé(s), 2 mis à jour, 20 inchangé(s), 0 rejeté(s)"
    assert dataset(db, AISNE_BRUIT).title == "Sonnenblumen : zones de bruit ferroviaire de l'Aisne"
    assert dataset(db, COURS_DEAU).archived_at == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    after = {item.catalogue_id: item.updated_at for item in db.session.scalars(sa.select(Dataset))}
    assert {key for key in after if after[key] != before[key]} == {AISNE_BRUIT, COURS_DEAU}
    # The updated row keeps its links and its place in the search index, under its new title only.
    assert territory_codes(dataset(db, AISNE_BRUIT)) == ["D02"]
    assert territory_codes(dataset(db, COURS_DEAU)) == ["D08"]
    assert dataset(db, AISNE_BRUIT).geoide_record_id == "fr-120066022-jdd-204da6ac-4f64-421a-9045-e985ca66a029"
    assert found_ids("sonnenblumen") == {AISNE_BRUIT}
    assert found_ids("N_BRUIT_ZBR_INFRA_F_C_LN_S_002") == set()
    assert count(db, Dataset) == 22
    assert count(db, Dataset, Dataset.archived_at.isnot(None)) == ARCHIVED_IN_SMALL + 1


# 3. Bad rows ----------------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_their_line_and_a_reason(db, small_export, tmp_path):
    header, rows = read_export(small_export)
    row = {values[0]: values for values in rows}  # "id" is the first column
    assert row[TRI_BORDEAUX_COMMUNES][header.index("description")].count("\n") == 10
    assert row[BOIS_RONDS][header.index("description")].count("\n") == 10
    lines = [
        row[AISNE_BRUIT],  # line 2: good
        with_values(header, row[AISNE_PPRN_L], id=""),  # line 3: no id
        row[TRI_BORDEAUX_COMMUNES],  # lines 4-14: good, description over 11 lines
        with_values(header, row[AISNE_PPRN_S_ARCHIVED], title="  "),  # line 15: no title
        with_values(header, row[BOIS_RONDS], created_at="16/01/2026"),  # lines 16-26: bad date, multi-line
        row[AISNE_BRUIT_ROUTE][:-1],  # line 27: 39 columns
        with_values(header, row[AISNE_BRUIT], title="Doublon"),  # line 28: same id as line 2
        with_values(header, row[AISNE_PPRN_L_LIVE], id="pas-un-identifiant"),  # line 29
        row[EPCI_ARDENNES],  # line 30: good
    ]
    path = write_export(tmp_path / "lignes.csv", header, lines)

    summary = import_catalogue([path])
    db.session.commit()

    assert summary.created == 3
    rejected = sorted(((r.source, r.where, r.reason) for r in summary.rejected), key=lambda r: int(r[1][6:]))
    assert rejected == [
        ("lignes.csv", "ligne 3", "identifiant (« id ») manquant"),
        ("lignes.csv", "ligne 15", "titre (« title ») manquant"),
        ("lignes.csv", "ligne 16", "date illisible dans « created_at » : '16/01/2026'"),
        ("lignes.csv", "ligne 27", "39 colonnes au lieu de 40"),
        (
            "lignes.csv",
            "ligne 28",
            f"identifiant {AISNE_BRUIT} en double (déjà lu : lignes.csv, ligne 2)",
        ),
        (
            "lignes.csv",
            "ligne 29",
            "identifiant invalide : 'pas-un-identifiant' (24 caractères hexadécimaux attendus)",
        ),
    ]
    assert "lignes.csv, ligne 3 : identifiant (« id ») manquant" in {str(r) for r in summary.rejected}
    assert summary.line() == "3 créé(s), 0 mis à jour, 0 inchangé(s), 6 rejeté(s) ; 2 organisation(s) créée(s)"
    stored = set(db.session.scalars(sa.select(Dataset.catalogue_id)))
    assert stored == {AISNE_BRUIT, TRI_BORDEAUX_COMMUNES, EPCI_ARDENNES}
    assert dataset(db, AISNE_BRUIT).title == "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"  # the first one read


def test_line_numbers_follow_the_real_file(db, small_export):
    # In the fixture itself, rows start at lines 2-9, 10, 21, 32, 33, 43, 50, 61, 76, 86, 87, 96, 116, 136, 155.
    starts = [row.where for row in read_source(small_export)]
    assert starts == [
        f"ligne {n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 21, 32, 33, 43, 50, 61, 76, 86, 87, 96, 116, 136, 155)
    ]


# 4. Bad files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "message"), BAD_FILES)
def test_unreadable_files_are_refused_with_a_french_message(db, small_export, tmp_path, build, message):
    path = build(tmp_path, small_export)

    with pytest.raises(UnreadableFile) as raised:
        list(read_source(path))
    assert message in str(raised.value)
    assert path.name in str(raised.value)

    with pytest.raises(UnreadableFile, match=re.escape(message)):
        import_catalogue([path])
    db.session.rollback()
    assert count(db, Dataset) == 0
    assert count(db, Organisation) == 0


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile, match="fichier introuvable"):
        list(read_source(tmp_path / "absent.csv"))


def test_a_file_that_is_not_utf8_is_refused(db, small_export, tmp_path):
    path = tmp_path / "export-latin1.csv"
    path.write_bytes(small_export.read_text(encoding="utf-8").encode("cp1252", errors="replace"))
    with pytest.raises(UnreadableFile, match="ni un CSV ni un JSON en UTF-8"):
        import_catalogue([path])
    db.session.rollback()
    assert count(db, Dataset) == 0


def test_rows_written_before_a_file_turns_out_unreadable_go_with_the_callers_rollback(
    db, small_export, imported, tmp_path
):
    header, rows = read_export(small_export)
    rows[0] = with_values(header, rows[0], title="Titre modifié")
    rows[1] = with_values(header, rows[1], id="0123456789abcdef01234567")  # a new dataset
    path = write_with_cp1252_tail(tmp_path / "export.csv", header, rows, tail=2)

    # Small batches: the first rows are written to the session before the bad bytes are reached.
    with pytest.raises(UnreadableFile, match="ni un CSV ni un JSON en UTF-8"):
        import_catalogue([path], batch_size=5)
    assert db.session.scalar(sa.select(Dataset.title).where(Dataset.catalogue_id == AISNE_BRUIT)) == "Titre modifié"
    db.session.rollback()

    assert dataset(db, AISNE_BRUIT).title == "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"
    assert count(db, Dataset) == 22
    assert found_ids("titre modifie") == set()


# 5. gzip --------------------------------------------------------------------------------------------


def test_a_gzipped_export_imports_like_the_plain_one(db, small_export, tmp_path):
    path = tmp_path / "export-dataset.csv.gz"
    path.write_bytes(gzip.compress(small_export.read_bytes()))

    summary = import_catalogue([path])
    db.session.commit()
    assert (summary.created, summary.rejected, summary.organisations_created) == (22, [], 8)
    assert dataset(db, AISNE_BRUIT).geoide_record_id == "fr-120066022-jdd-204da6ac-4f64-421a-9045-e985ca66a029"
    assert theme_codes(dataset(db, TACHE_URBAINE)) == ["lc"]

    # The plain file holds exactly the same rows.
    again = import_catalogue([small_export])
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 22)


def test_byte_order_mark_and_line_endings_do_not_matter(db, small_export, tmp_path):
    header, rows = read_export(small_export)
    with_bom = tmp_path / "export-bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + small_export.read_bytes())
    unix = tmp_path / "export-lf.csv.gz"
    with gzip.open(unix, "wt", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *rows])

    first = import_catalogue([with_bom])
    db.session.commit()
    assert (first.created, first.rejected) == (22, [])
    assert dataset(db, AISNE_BRUIT).title == "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"

    again = import_catalogue([unix])
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 22, [])


def test_gzipped_udata_json(db, tmp_path):
    path = tmp_path / "udata.json.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf\n  " + UDATA_FIXTURE.read_bytes()))

    summary = import_catalogue([path])

    assert (summary.created, summary.rejected) == (1, [])
    assert dataset(db, "5de8f397634f4164071119c5").title == "Fichier des personnes décédées"


# 6. udata JSON --------------------------------------------------------------------------------------

UDATA_ID = "5de8f397634f4164071119c5"


def _udata_dataset() -> dict:
    return json.loads(UDATA_FIXTURE.read_text(encoding="utf-8"))["data"]


def _udata_file(tmp_path: Path, shape: str) -> Path:
    item = _udata_dataset()
    document = {
        "wrapped": {"status": 200, "data": item},
        "bare": item,
        "list": [item],
        "page": {"data": [item], "next_page": None, "page": 1, "page_size": 20, "total": 1},
    }[shape]
    path = tmp_path / f"udata-{shape}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", ["fixture", "wrapped", "bare", "list", "page"])
def test_udata_dataset_is_imported_whatever_the_wrapping(db, tmp_path, shape):
    path = UDATA_FIXTURE if shape == "fixture" else _udata_file(tmp_path, shape)

    summary = import_catalogue([path])
    db.session.commit()

    assert (summary.created, summary.rejected, summary.organisations_created) == (1, [], 1)
    item = dataset(db, UDATA_ID)
    assert item.title == "Fichier des personnes décédées"
    assert item.slug == "fichier-des-personnes-decedees"
    assert item.acronym == "Décès"
    assert item.licence == "Licence Ouverte / Open Licence version 2.0"  # "lov2"
    assert item.zones == ["country:fr"]
    assert territory_codes(item) == ["FR"]
    assert item.tags == ["deces", "etat-civil"]
    assert item.frequency == "monthly"
    assert (item.temporal_start, item.temporal_end) == (date(1970, 1, 1), date(2022, 12, 31))
    assert item.published_at == datetime(2019, 12, 5, 13, 9, 59, 495000, tzinfo=UTC)
    assert item.modified_at == datetime(2023, 10, 12, 15, 5, 34, 765000, tzinfo=UTC)
    assert item.archived_at is None
    assert item.landing_url == "https://www.data.gouv.fr/fr/datasets/fichier-des-personnes-decedees/"
    assert item.resources_count == 129
    assert item.resources_formats == "csv, txt"
    assert item.geoide_record_id is None
    producer = item.organisation
    assert producer.name == "Institut National de la Statistique et des Etudes Economiques (Insee)"
    assert producer.datagouv_id == "534fff81a3a7292c64a77e5c"
    assert producer.datagouv_slug == "institut-national-de-la-statistique-et-des-etudes-economiques-insee"
    assert producer.kind == OrganisationKind.PUBLIC_BODY
    assert producer.is_producer


def test_udata_page_of_several_datasets(db, tmp_path):
    first = _udata_dataset()
    second = dict(
        _udata_dataset(),
        id="5DE8F397634F4164071119C6",
        slug="zonages-loiret",
        title="Zonages réglementaires du Loiret",
        license="notspecified",
        spatial={"granularity": "fr:departement", "zones": ["fr:departement:45", "fr:region:24", "fr:departement:2a"]},
        archived="2025-02-01T10:00:00+01:00",
        harvest={
            "remote_url": "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search"
            "#/metadata/fr-120066022-jdd-045c3c0d-5786-4e56-8c1f-63bf60e8f9c8"
        },
    )
    path = tmp_path / "page.json"
    page = {"data": [first, second], "next_page": "https://www.data.gouv.fr/api/1/datasets/?page=2", "page": 1}
    path.write_text(json.dumps(page | {"page_size": 2, "total": 3}), encoding="utf-8")

    summary = import_catalogue([path])
    db.session.commit()

    assert (summary.created, summary.rejected, summary.organisations_created) == (2, [], 1)
    other = dataset(db, "5de8f397634f4164071119c6")
    assert other.licence == "License Not Specified"
    assert territory_codes(other) == ["D2A", "D45", "R24"]
    assert other.archived_at == datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
    assert other.geoide_record_id == "fr-120066022-jdd-045c3c0d-5786-4e56-8c1f-63bf60e8f9c8"
    assert other.organisation_id == dataset(db, UDATA_ID).organisation_id


def test_udata_items_that_are_not_datasets_are_rejected_one_by_one(db, tmp_path):
    path = tmp_path / "page.json"
    no_title = dict(_udata_dataset(), id="5de8f397634f4164071119c7", title="")
    page = {"data": [_udata_dataset(), "pas un objet", no_title], "page": 1, "total": 3}
    path.write_text(json.dumps(page), encoding="utf-8")

    summary = import_catalogue([path])

    assert summary.created == 1
    assert [(r.where, r.reason) for r in summary.rejected] == [
        ("élément 2", "un jeu de données udata doit être un objet JSON"),
        ("élément 3", "titre (« title ») manquant"),
    ]


def test_reimporting_udata_json_changes_nothing(db, imported):
    first = import_catalogue([UDATA_FIXTURE])
    db.session.commit()
    again = import_catalogue([UDATA_FIXTURE])
    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert "rien n'a changé" in again.line()


# 7. The real 905-row sample -------------------------------------------------------------------------


@pytest.fixture
def sample_rows(shared_data) -> list[dict[str, str]]:
    with (shared_data / SAMPLE).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture
def sample_imported(db, shared_data):
    summary = import_catalogue([shared_data / SAMPLE])
    db.session.commit()
    return summary


def test_the_real_sample_imports_whole(db, sample_rows, sample_imported):
    producers = {row["organization_id"] for row in sample_rows}
    geoide = re.compile(r"#/metadata/fr-120066022-[jl]dd-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    with_geoide = sum(1 for row in sample_rows if geoide.search(row["harvest.remote_url"]))
    not_specified = sum(1 for row in sample_rows if row["license"] == "License Not Specified")
    assert (len(sample_rows), len(producers), with_geoide, not_specified) == (905, 117, 587, 51)

    assert (sample_imported.created, sample_imported.updated, sample_imported.unchanged) == (905, 0, 0)
    assert sample_imported.rejected == []
    assert sample_imported.organisations_created == 117
    assert count(db, Dataset) == 905
    assert count(db, Organisation, Organisation.is_producer) == 117
    assert set(db.session.scalars(sa.select(Organisation.datagouv_id))) == producers
    assert count(db, Dataset, Dataset.geoide_record_id.isnot(None)) == with_geoide
    assert count(db, Dataset, Dataset.licence == "License Not Specified") == not_specified
    assert count(db, Dataset, Dataset.licence.is_(None)) == 10


def test_the_real_sample_links_inspire_themes_and_zones(db, sample_rows, sample_imported):
    # Two DREAL Corse rows have the zone "Corse", a région.
    corse = [row["id"] for row in sample_rows if row["spatial.zones"] == "Corse"]
    assert corse == ["67bd75b27340c202eeb0933d", "67bd71b53dc917a1515b3399"]
    for catalogue_id in corse:
        assert territory_codes(dataset(db, catalogue_id)) == ["R94"]
    # Every row tagged "usage-des-sols" is filed under INSPIRE "lu" (Usage des sols), and no other.
    tagged = {row["id"] for row in sample_rows if "usage-des-sols" in row["tags"].split(",")}
    land_use = db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code == "lu")).one()
    filed = set(db.session.scalars(sa.select(Dataset.catalogue_id).where(Dataset.themes.any(Theme.id == land_use.id))))
    assert tagged and filed == tagged


def test_state_services_of_the_sample_get_a_kind(db, sample_imported):
    kinds = dict(db.session.execute(sa.select(Organisation.name, Organisation.kind)).all())
    assert kinds["DDT de la Marne (DDT51)"] == "ddt"
    assert kinds["Direction Départementale des Territoire du Puy-de-Dôme"] == "ddt"
    assert kinds["Direction Départementale et des Territoires du Cantal"] == "ddt"
    assert kinds["DDTM Côtes d'Armor"] == "ddtm"
    assert kinds["Direction Départementale des Territoires et de la Mer du Var"] == "ddtm"
    assert kinds["Direction régionale de l'Environnement, de l'Aménagement et du Logement de Normandie"] == "dreal"
    assert kinds["DEAL Martinique"] == "deal"
    assert (
        kinds[
            "Direction régionale et interdépartementale de l’environnement, de l’aménagement et des transports "
            "d'Île-de-France"
        ]
        == "drieat"
    )
    assert kinds["Ministère de la Transition écologique"] == "public_body"
    counts = {kind: list(kinds.values()).count(kind) for kind in set(kinds.values())}
    assert counts == {"ddt": 67, "ddtm": 26, "dreal": 18, "deal": 4, "drieat": 1, "public_body": 1}


def test_overseas_deal_services_get_their_territory(db, sample_imported):
    """DEAL Guadeloupe gets R01 from the services list; the three DEAL absent from it (no data.gouv.fr id
    there) name their territory just as plainly, and Guyane, Martinique and La Réunion are in the
    reference list (as a région and as a département of the same name)."""
    territories = dict(
        db.session.execute(
            sa.select(Organisation.name, Organisation.territory_code).where(Organisation.kind == "deal")
        ).all()
    )
    assert territories["DEAL Guadeloupe"] == "R01"
    assert territories["DEAL Guyane"] in ("R03", "D973")
    assert territories["DEAL Martinique"] in ("R02", "D972")
    assert territories["DEAL La Réunion"] in ("R04", "D974")


def test_organisation_emails_copied_from_the_services_list_are_addresses(db, sample_imported):
    """The services list has contact-page URLs in its email column for a few services (DDT 78, DREAL
    Grand Est, Hauts-de-France, Nouvelle-Aquitaine, Bourgogne-Franche-Comté); the organisation page makes
    `mailto:` links of `Organisation.email`."""
    emails = dict(db.session.execute(sa.select(Organisation.name, Organisation.email)).all())
    assert emails["DDT Aisne"] == "ddt@aisne.gouv.fr"
    not_addresses = {name: email for name, email in emails.items() if email and ("@" not in email or "://" in email)}
    assert not_addresses == {}


# Organisation kinds from names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("DDT Aisne", OrganisationKind.DDT),
        ("DDT de la Marne (DDT51)", OrganisationKind.DDT),
        ("Direction Départementale des Territoires du Loiret", OrganisationKind.DDT),
        ("Direction Départementale des Territoire du Puy-de-Dôme", OrganisationKind.DDT),
        ("Direction Départementale et des Territoires du Cantal", OrganisationKind.DDT),
        ("DDTM Gironde", OrganisationKind.DDTM),
        ("DDTM DU FINISTÈRE", OrganisationKind.DDTM),
        ("Direction Départementale des Territoires et de la Mer du Var", OrganisationKind.DDTM),
        ("DREAL Auvergne-Rhône-Alpes", OrganisationKind.DREAL),
        ("Direction régionale de l’environnement, de l’aménagement et du logement de Bretagne", OrganisationKind.DREAL),
        ("DEAL Guadeloupe", OrganisationKind.DEAL),
        ("DRIEAT Île-de-France", OrganisationKind.DRIEAT),
        (
            "Direction régionale et interdépartementale de l’environnement, de l’aménagement et des transports "
            "d'Île-de-France",
            OrganisationKind.DRIEAT,
        ),
        ("DIR Centre-Est", OrganisationKind.DIR),
        ("DIRIF", OrganisationKind.DIR),
        ("Direction interdépartementale des routes Méditerranée", OrganisationKind.DIR),
        ("Ministère de la Transition écologique", OrganisationKind.PUBLIC_BODY),
        ("Institut National de la Statistique et des Etudes Economiques (Insee)", OrganisationKind.PUBLIC_BODY),
        ("Association DDT amis", OrganisationKind.PUBLIC_BODY),  # "DDT" must start the name
    ],
)
def test_organisation_kind_from_name(name, kind):
    assert organisation_kind_from_name(name) == kind


# 11. Search text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Église, Œuvre", "eglise, oeuvre"),
        ("cœur de ville", "coeur de ville"),
        ("ŒUVRE", "oeuvre"),
        ("Ex æquo", "ex aequo"),
        ("Straße", "strasse"),
        ("L’été à Côte-d’Or", "l'ete a cote-d'or"),
        ("‘Aléa’", "'alea'"),
        ("ZONES INONDABLES", "zones inondables"),
        ("Zones\u00a0inondables", "zones inondables"),
        ("ﬁchier", "fichier"),
        ("« Périmètre »", " perimetre "),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("L’Œuvre d’art", ["l", "oeuvre", "d", "art"]),
        ("Côte-d’Or : PPRI", ["cote", "d", "or", "ppri"]),
        ("Zones INONDABLES zones inondables", ["zones", "inondables"]),
        ("aléa, crue; 2024", ["alea", "crue", "2024"]),
        ("  ", []),
        (None, []),
        (" ".join(f"mot{n}" for n in range(15)), [f"mot{n}" for n in range(12)]),
    ],
)
def test_query_words(query, words):
    assert query_words(query) == words


def test_search_ignores_accents_case_and_apostrophes(db, imported):
    # Titles "Aquitaine : TRI de Bordeaux (aléa débordement) - …" (two rows, DDT Ardennes).
    both = {TRI_BORDEAUX_COMMUNES, "55f18f0388ee380c7fa46eca"}
    assert found_ids("aléa débordement") == both
    assert found_ids("ALEA DEBORDEMENT") == both
    assert found_ids("Alea Débord") == both  # a word is also the start of one
    # "Cours d'eau validés police de l'eau", written with a typographic apostrophe and no accent.
    assert found_ids("cours d’eau valides") == {COURS_DEAU}
    # The stored text is normalised.
    assert dataset(db, COURS_DEAU).search_text.startswith("cours d'eau valides police de l'eau ddt ardennes")
