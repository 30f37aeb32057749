"""Reference lists: territories (INSEE COG 2024), INSPIRE and Ecosphères themes, the DDT/DREAL services.

conftest loads them once per session and keeps both tables between tests: a test that changes them puts
the bundled lists back before it ends.
"""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from feedback.catalogue.models import Territory, TerritoryKind, Theme, ThemeScheme
from feedback.catalogue.reference import (
    BUNDLED_DIR,
    REFERENCE_FILES,
    ReferenceError,
    load_reference,
    read_services,
    service_territory_code,
    territory_lookup,
)

NOTHING_CHANGED = "Référentiels : 120 territoires, 130 thèmes — 0 ajouté(s), 0 mis à jour — rien n'a changé"


def replace_in(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def count(db, model, *conditions) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


@pytest.fixture
def restore_reference(db):
    """Puts the bundled lists back after a test that loads other ones."""
    yield
    db.session.rollback()
    load_reference()
    db.session.commit()


@pytest.fixture
def reference_copy(tmp_path):
    folder = tmp_path / "reference"
    folder.mkdir()
    for name in REFERENCE_FILES.values():
        shutil.copy(BUNDLED_DIR / name, folder / name)
    return folder


def test_reference_load_is_idempotent(runner, db):
    first = runner.invoke(args=["reference", "load"])
    second = runner.invoke(args=["reference", "load"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    # Already loaded by conftest: both runs find everything in place.
    assert second.output.strip() == NOTHING_CHANGED
    assert first.output.strip() == NOTHING_CHANGED
    assert count(db, Territory) == 120
    assert count(db, Theme) == 130


def test_territories(db):
    assert count(db, Territory, Territory.kind == TerritoryKind.DEPARTEMENT) == 101
    assert count(db, Territory, Territory.kind == TerritoryKind.REGION) == 18
    assert count(db, Territory, Territory.kind == TerritoryKind.COUNTRY) == 1
    loiret = db.session.get(Territory, "D45")
    assert (loiret.name, loiret.parent_code, loiret.chef_lieu) == ("Loiret", "R24", "45234")
    assert loiret.label == "Loiret (45)"
    centre = db.session.get(Territory, "R24")
    assert (centre.name, centre.parent_code, centre.chef_lieu) == ("Centre-Val de Loire", "FR", "45234")
    assert db.session.get(Territory, "D2A").parent_code == "R94"
    assert db.session.get(Territory, "D976").parent_code == "R06"
    france = db.session.get(Territory, "FR")
    assert (france.name, france.parent_code) == ("France", None)
    # Every département belongs to a région, every région to France.
    parents = dict(db.session.execute(sa.select(Territory.code, Territory.parent_code)).all())
    assert all(parents[code].startswith("R") for code in parents if code.startswith("D"))
    assert {parents[code] for code in parents if code.startswith("R")} == {"FR"}


def test_themes(db):
    assert count(db, Theme, Theme.scheme == ThemeScheme.INSPIRE) == 34
    assert count(db, Theme, Theme.scheme == ThemeScheme.ECOSPHERES) == 96
    land_use = db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code == "lu")).one()
    assert (land_use.label, land_use.tag_slug, land_use.uri) == (
        "Usage des sols",
        "usage-des-sols",
        "http://inspire.ec.europa.eu/theme/lu",
    )
    # Every INSPIRE theme has the tag slug data.gouv.fr uses.
    assert count(db, Theme, Theme.scheme == ThemeScheme.INSPIRE, Theme.tag_slug.is_(None)) == 0
    # Ecosphères: 14 top themes, the 82 others under one of them.
    ecospheres = {t.code: t for t in db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.ECOSPHERES))}
    assert sum(1 for t in ecospheres.values() if t.parent_id is None) == 14
    water_supply = ecospheres["alimentation-en-eau-potable"]
    assert water_supply.label == "Alimentation en eau potable"
    assert water_supply.parent_id == ecospheres["eau"].id
    assert "Eau/AEP" in water_supply.alt_labels


def test_loading_another_folder_updates_what_changed(runner, db, reference_copy, restore_reference):
    replace_in(
        reference_copy / REFERENCE_FILES["departements"],
        "45,24,45234,2,LOIRET,Loiret,Loiret",
        "45,24,45234,2,LOIRET,Loiret,Le Loiret",
    )

    result = runner.invoke(args=["reference", "load", str(reference_copy)])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Référentiels : 120 territoires, 130 thèmes — 0 ajouté(s), 1 mis à jour"
    db.session.rollback()
    assert db.session.get(Territory, "D45").name == "Le Loiret"

    back = runner.invoke(args=["reference", "load"])
    assert back.output.strip() == "Référentiels : 120 territoires, 130 thèmes — 0 ajouté(s), 1 mis à jour"
    db.session.rollback()
    assert db.session.get(Territory, "D45").name == "Loiret"


@pytest.mark.parametrize("missing", sorted(REFERENCE_FILES.values()))
def test_a_folder_missing_a_file_is_refused(runner, db, reference_copy, restore_reference, missing):
    # Change a file that is read before the missing one could be: nothing of it may be written.
    if missing != REFERENCE_FILES["regions"]:
        replace_in(reference_copy / REFERENCE_FILES["regions"], ",Corse\n", ",Île de Beauté\n")
    (reference_copy / missing).unlink()

    result = runner.invoke(args=["reference", "load", str(reference_copy)])

    assert result.exit_code != 0
    assert missing in result.output
    assert "fichier introuvable" in result.output
    db.session.rollback()
    assert db.session.get(Territory, "R94").name == "Corse"
    assert count(db, Territory) == 120


def test_a_file_missing_a_column_is_refused(db, reference_copy, restore_reference):
    replace_in(reference_copy / REFERENCE_FILES["inspire"], ",tag_slug,", ",slug,")
    with pytest.raises(ReferenceError, match="colonnes manquantes : tag_slug"):
        load_reference(reference_copy)


def test_a_missing_folder_is_refused(runner, tmp_path):
    result = runner.invoke(args=["reference", "load", str(tmp_path / "absent")])
    assert result.exit_code != 0
    assert "fichier introuvable" in result.output


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("D45", "D45"),
        ("D2b", "D2B"),
        ("D2A", "D2A"),
        ("D974", "D974"),
        ("ARA", "R84"),
        ("CVL", "R24"),
        ("GUF", "R03"),
        ("National", "FR"),
        ("D75|D77|D78|D91|D92|D93|D94|D95", None),
        ("Manche Est - Mer du Nord", None),
    ],
)
def test_service_territory_code(value, code):
    assert service_territory_code(value) == code


def test_services_list():
    services = read_services()
    # 138 services, 104 of them matched to a data.gouv.fr organisation.
    assert len(services) == 104
    aisne = services["58ad720388ee381d53318fb0"]
    assert aisne.label == "DDT 02"
    assert aisne.full_name == "Direction départementale des territoires (DDT) - Aisne"
    assert aisne.territory_code == "D02"
    assert aisne.email == "ddt@aisne.gouv.fr"
    assert aisne.phone == "03 23 24 64 00"
    loiret = services["55b0f23788ee3838d73ca289"]
    assert (loiret.label, loiret.territory_code, loiret.email) == ("DDT 45", "D45", "ddt@loiret.gouv.fr")
    assert services["5882a05d88ee3835c59b81a4"].territory_code == "R84"


def test_territory_lookup_reads_names_without_accents_or_case(db):
    lookup = territory_lookup()
    assert lookup["cote-d'or"] == "D21"
    assert lookup["auvergne-rhone-alpes"] == "R84"
    assert lookup["corse"] == "R94"
    assert lookup["corse-du-sud"] == "D2A"
    assert lookup["france"] == "FR"
    # A région and a département of the same name: the région is kept.
    assert lookup["guyane"] == "R03"
