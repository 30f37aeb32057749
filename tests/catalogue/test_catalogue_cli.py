"""`flask --app wsgi catalogue import …`, and `--help` of every command of the platform."""

from __future__ import annotations

import functools
import gzip

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Organisation
from feedback.catalogue import cli, services
from feedback.catalogue.models import Dataset

from .test_import import BAD_FILES, read_export, with_values, write_export, write_with_cp1252_tail

AISNE_BRUIT = "67377126c48b675e7cc25368"
COURS_DEAU = "68c9ff091ffa77c8a4bfc472"
CREATED = "Catalogue : 22 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s) ; 8 organisation(s) créée(s)"
UNCHANGED = "Catalogue : 0 créé(s), 0 mis à jour, 22 inchangé(s), 0 rejeté(s) — rien n'a changé"


def count(db, model, *conditions) -> int:
    db.session.rollback()  # read what was committed, not what the session still holds
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def title_of(db, catalogue_id: str) -> str:
    db.session.rollback()
    return db.session.scalar(sa.select(Dataset.title).where(Dataset.catalogue_id == catalogue_id))


def import_(runner, *paths):
    return runner.invoke(args=["catalogue", "import", *(str(p) for p in paths)])


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 5 rows rather than 1000, so that a 22-row file is written in part before it fails."""
    monkeypatch.setattr(cli, "import_catalogue", functools.partial(services.import_catalogue, batch_size=5))


def test_import_prints_a_summary_and_commits(runner, db, small_export):
    result = import_(runner, small_export)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == CREATED
    assert count(db, Dataset) == 22
    assert count(db, Organisation, Organisation.is_producer) == 8


def test_importing_again_says_nothing_changed(runner, db, small_export):
    assert import_(runner, small_export).exit_code == 0

    result = import_(runner, small_export)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == UNCHANGED


def test_import_of_several_files(runner, db, small_export, tmp_path):
    gz = tmp_path / "export.csv.gz"
    gz.write_bytes(gzip.compress(small_export.read_bytes()))

    result = import_(runner, small_export, gz)

    # The second file holds the same 22 ids as the first: each is a duplicate.
    assert result.exit_code == 0, result.output
    assert "Catalogue : 22 créé(s), 0 mis à jour, 0 inchangé(s), 22 rejeté(s)" in result.stdout
    assert (
        f"Rejeté — export.csv.gz, ligne 2 : identifiant {AISNE_BRUIT} en double "
        "(déjà lu : export-dataset-sample-small.csv, ligne 2)"
    ) in result.stderr
    assert count(db, Dataset) == 22


def test_rejected_lines_are_printed(runner, db, small_export, tmp_path):
    header, rows = read_export(small_export)
    rows = [
        with_values(header, rows[0], id=""),  # line 2
        rows[1],
        with_values(header, rows[2], last_modified="hier"),  # line 4
    ]
    path = write_export(tmp_path / "export.csv", header, rows)

    result = import_(runner, path)

    assert result.exit_code == 0, result.output
    assert "Rejeté — export.csv, ligne 2 : identifiant (« id ») manquant" in result.stderr
    assert "Rejeté — export.csv, ligne 4 : date illisible dans « last_modified » : 'hier'" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "Catalogue : 1 créé(s), 0 mis à jour, 0 inchangé(s), 2 rejeté(s) ; 1 organisation(s) créée(s)"
    )
    assert count(db, Dataset) == 1


def test_only_the_first_fifty_rejections_are_listed(runner, db, small_export, tmp_path):
    header, rows = read_export(small_export)
    bad = [with_values(header, rows[0], id="", title=f"Ligne {n}") for n in range(53)]
    path = write_export(tmp_path / "export.csv", header, bad)

    result = import_(runner, path)

    assert result.exit_code == 0, result.output
    assert result.stderr.count("Rejeté — ") == 50
    assert "Rejeté — export.csv, ligne 51 : identifiant (« id ») manquant" in result.stderr
    assert "ligne 52 :" not in result.stderr
    assert "… et 3 autre(s) ligne(s) rejetée(s)" in result.stderr
    assert "Catalogue : 0 créé(s), 0 mis à jour, 0 inchangé(s), 53 rejeté(s) — rien n'a changé" in result.stdout


def test_a_missing_file_stops_everything(runner, db, small_export, tmp_path):
    absent = tmp_path / "absent.csv"

    result = import_(runner, small_export, absent)

    assert result.exit_code != 0
    assert "Fichier introuvable" in result.output
    assert str(absent) in result.output
    assert count(db, Dataset) == 0


@pytest.mark.parametrize(("build", "message"), BAD_FILES)
def test_an_unreadable_file_exits_non_zero_and_changes_nothing(runner, db, small_export, tmp_path, build, message):
    assert import_(runner, small_export).exit_code == 0
    path = build(tmp_path, small_export)

    result = import_(runner, path)

    assert result.exit_code != 0
    assert message in result.output
    assert "Rien n'a été importé." in result.output
    assert "Catalogue :" not in result.output
    assert count(db, Dataset) == 22
    assert count(db, Organisation) == 8


@pytest.mark.parametrize(("build", "message"), BAD_FILES)
def test_a_good_file_then_a_bad_one_imports_nothing(runner, db, small_export, tmp_path, build, message):
    path = build(tmp_path, small_export)

    result = import_(runner, small_export, path)

    assert result.exit_code != 0
    assert message in result.output
    assert "Rien n'a été importé." in result.output
    assert count(db, Dataset) == 0
    assert count(db, Organisation) == 0


def test_rows_read_before_a_file_turns_out_truncated_are_not_kept(runner, db, small_export, tmp_path, small_batches):
    assert import_(runner, small_export).exit_code == 0
    header, rows = read_export(small_export)
    rows[0] = with_values(header, rows[0], title="Titre modifié")  # first row, read before the break
    rows[1] = with_values(header, rows[1], id="0123456789abcdef01234567")  # a new dataset
    plain = write_export(tmp_path / "export-modifie.csv", header, rows)
    data = gzip.compress(plain.read_bytes())
    path = tmp_path / "export-modifie.csv.gz"
    path.write_bytes(data[: len(data) - 200])

    result = import_(runner, path)

    assert result.exit_code != 0
    assert "fichier compressé tronqué" in result.output
    assert "Rien n'a été importé." in result.output
    assert title_of(db, AISNE_BRUIT) == "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"
    assert count(db, Dataset) == 22


def test_an_export_that_turns_out_not_utf8_changes_nothing(runner, db, small_export, tmp_path, small_batches):
    assert import_(runner, small_export).exit_code == 0
    header, rows = read_export(small_export)
    rows[0] = with_values(header, rows[0], title="Titre modifié")
    rows[1] = with_values(header, rows[1], id="0123456789abcdef01234567")
    path = write_with_cp1252_tail(tmp_path / "export-latin1.csv", header, rows, tail=2)

    result = import_(runner, path)

    assert result.exit_code != 0
    assert "ni un CSV ni un JSON en UTF-8" in result.output
    assert title_of(db, AISNE_BRUIT) == "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"
    assert count(db, Dataset) == 22


def test_import_needs_a_path(runner):
    result = runner.invoke(args=["catalogue", "import"])
    assert result.exit_code != 0
    assert "PATHS" in result.output


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["reference"], "territoires (COG de l'INSEE)"),
        (["reference", "load"], "Charger ou mettre à jour les territoires et les thèmes"),
        (["catalogue"], "Le catalogue des jeux de données"),
        (["catalogue", "import"], "Importer des jeux de données depuis l'export CSV de data.gouv.fr"),
        (["users"], "Gérer les comptes des personnes"),
        (["users", "create"], "--password-stdin"),
        (["users", "add-member"], "Rattacher un compte existant à une organisation"),
        (["demo"], "Données de démonstration"),
        (["demo", "load"], "--sample"),
        (["mail"], "la réception des réponses aux notifications"),
        (["mail", "purge"], "--days"),
        (["users", "delete"], "--yes"),
        (["static", "compress"], ".gz"),
        (["mail", "receive"], "--lmtp"),
        (["deadlines", "check"], "--loop"),
    ],
)
def test_every_command_has_help(runner, db, command, expected):
    result = runner.invoke(args=[*command, "--help"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    # Help text is wrapped to the terminal's width: compare with spaces and line breaks collapsed.
    assert expected in " ".join(result.output.split())
    assert count(db, Dataset) == 0
