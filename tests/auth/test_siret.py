"""Organisations carry their SIRET: checked (14 digits, check digit), edited by curators, loaded from the services
list's `siret` column by `catalogue import`."""

from __future__ import annotations

import csv
import html

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Organisation, Role
from feedback.accounts.services import AccountError, check_siret
from feedback.catalogue.reference import SERVICES_FILE
from tests import factories

from .conftest import DDT_SIRET, UNKNOWN_SIRET


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("written", "kept"),
    [("13000548100010", "13000548100010"), ("130 005 481 00010", "13000548100010"), ("35600000012346", None)],
)
def test_a_siret_is_written_without_spaces(written, kept):
    if kept is None:  # a La Poste establishment: the sum of its digits is a multiple of 5
        assert sum(int(digit) for digit in written) % 5 == 0
        kept = written
    assert check_siret(written) == kept


@pytest.mark.parametrize("wrong", ["13000548100011", "1300054810001", "1300054810001A", "", "130005481000100"])
def test_a_wrong_siret_is_refused(wrong):
    with pytest.raises(AccountError, match="14 chiffres"):
        check_siret(wrong)


def test_a_curator_edits_the_siret(client, db, login):
    organisation = factories.create_organisation(name="DDT du Loiret")
    login(factories.create_user(role=Role.CURATOR))
    page = text(client.get(f"/organisations/{organisation.slug}"))
    assert "SIRET : non renseigné" in page and "Modifier le SIRET" in page

    assert "SIRET du service" in text(client.get(f"/organisations/{organisation.slug}/siret"))
    response = client.post(f"/organisations/{organisation.slug}/siret", data={"siret": "130 005 481 00010"})

    assert response.status_code == 303
    db.session.refresh(organisation)
    assert organisation.siret == DDT_SIRET
    assert f"SIRET : {DDT_SIRET}" in text(client.get(f"/organisations/{organisation.slug}"))


def test_a_wrong_or_taken_siret_is_explained_next_to_the_field(client, db, login):
    holder = factories.create_organisation(name="DDT du Cher")
    holder.siret = DDT_SIRET
    organisation = factories.create_organisation(name="DDT du Loiret")
    db.session.commit()
    login(factories.create_user(role=Role.CURATOR))

    response = client.post(f"/organisations/{organisation.slug}/siret", data={"siret": "13000548100011"})
    assert response.status_code == 200
    assert "Le SIRET doit compter 14 chiffres et être valide (clé de contrôle)." in text(response)
    response = client.post(f"/organisations/{organisation.slug}/siret", data={"siret": DDT_SIRET})
    assert "Ce SIRET est déjà celui de l'organisation « DDT du Cher »." in text(response)
    db.session.refresh(organisation)
    assert organisation.siret is None


def test_only_curators_edit_the_siret(client, db, login):
    organisation = factories.create_organisation()
    coordinator = factories.create_user(organisation=organisation, coordinator=True)
    assert client.get(f"/organisations/{organisation.slug}/siret").status_code == 302
    login(coordinator)
    assert "Modifier le SIRET" not in text(client.get(f"/organisations/{organisation.slug}"))
    assert client.post(f"/organisations/{organisation.slug}/siret", data={"siret": DDT_SIRET}).status_code == 403


def _services_list(folder, rows):
    with (folder / SERVICES_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["title", "label", "territoire", "email", "datagouv_org_id", "siret"])
        writer.writerows(rows)


def test_catalogue_import_loads_the_siret_column(runner, db, small_export, tmp_path):
    _services_list(
        tmp_path,
        [
            ["DDT 26", "DDT - Drôme", "D26", "", "58aed7b188ee38779b2b7560", DDT_SIRET],
            ["DDT 02", "DDT - Aisne", "D02", "", "58ad720388ee381d53318fb0", ""],
        ],
    )
    result = runner.invoke(args=["catalogue", "import", "--services", str(tmp_path), str(small_export)])

    assert result.exit_code == 0, result.output
    sirets = dict(db.session.execute(sa.select(Organisation.datagouv_id, Organisation.siret)).all())
    assert sirets["58aed7b188ee38779b2b7560"] == DDT_SIRET
    assert sirets["58ad720388ee381d53318fb0"] is None

    # A SIRET a curator gave stays when the file says another.
    drome = db.session.scalars(sa.select(Organisation).where(Organisation.siret == DDT_SIRET)).one()
    drome.siret = UNKNOWN_SIRET
    db.session.commit()
    assert runner.invoke(args=["catalogue", "import", "--services", str(tmp_path), str(small_export)]).exit_code == 0
    db.session.refresh(drome)
    assert drome.siret == UNKNOWN_SIRET


def test_catalogue_import_refuses_a_wrong_siret_with_its_line(runner, db, small_export, tmp_path):
    _services_list(tmp_path, [["DDT 26", "DDT Drôme", "D26", "", "58aed7b188ee38779b2b7560", "123"]])

    result = runner.invoke(args=["catalogue", "import", "--services", str(tmp_path), str(small_export)])

    assert result.exit_code != 0
    assert "ligne 2 : SIRET « 123 » refusé" in result.output and "Rien n'a été importé." in result.output
    assert db.session.scalars(sa.select(sa.func.count(Organisation.id))).one() == 0
