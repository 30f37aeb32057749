"""Who may see and change an organisation's members, and what attaching and removing them does."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from wtforms.i18n import get_translations

from feedback.accounts.models import Membership, MembershipRole, Role, User

from .. import factories

NO_ACCOUNT = "Aucun compte n'existe avec cette adresse : la personne doit d'abord s'inscrire."


# --- helpers ---------------------------------------------------------------------------------------------


def fresh_get(app, client, url: str):
    """GET in a new application context, so that nothing cached on `g` by earlier requests is reused."""
    with app.app_context():
        return client.get(url)


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def member_rows(response) -> list[tuple[str, str, str]]:
    """(name, address, role) of each row of the members table."""
    html = response.get_data(as_text=True)
    table = re.search(r"<caption>Membres de .*?</caption>(.*?)</table>", html, re.S)
    if table is None:
        return []
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if cells:
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def field_errors(response, field_id: str) -> list[str]:
    html = response.get_data(as_text=True)
    group = re.search(rf'<div class="fr-messages-group" id="{field_id}-messages"[^>]*>(.*?)</div>', html, re.S)
    assert group, f"no messages group for the field {field_id!r}"
    return [unescape(m) for m in re.findall(r'<p class="fr-message fr-message--error">(.*?)</p>', group.group(1))]


def memberships(db, organisation=None) -> list[tuple[str, str]]:
    """(address, role) of the memberships stored, read afresh from the database."""
    db.session.expire_all()
    statement = sa.select(User.email, Membership.role).join(Membership.user).order_by(User.email)
    if organisation is not None:
        statement = statement.where(Membership.organisation_id == organisation.id)
    return [tuple(row) for row in db.session.execute(statement)]


@pytest.fixture
def organisation(db):
    return factories.create_organisation(name="DDT du Loiret")


@pytest.fixture
def member(organisation):
    return factories.create_user(email="dominique@exemple.fr", name="Dominique Petit", organisation=organisation)


# --- pages that need an account --------------------------------------------------------------------------


PROTECTED = [
    pytest.param("GET", lambda org, membership: "/compte", id="compte"),
    pytest.param("POST", lambda org, membership: f"/organisations/{org.slug}/membres", id="rattacher"),
    pytest.param(
        "POST", lambda org, membership: f"/organisations/{org.slug}/membres/{membership.id}/retrait", id="retirer"
    ),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_anonymous_visitor_is_sent_to_the_login_page(db, client, organisation, member, method, url):
    membership = member.memberships[0]
    path = url(organisation, membership)

    response = client.open(path, method=method, data={"email": "camille@exemple.fr", "role": "member"})

    assert response.status_code in (302, 303)
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/connexion"
    assert parse_qs(location.query) == {"next": [path]}
    assert memberships(db) == [("dominique@exemple.fr", "member")]


def test_login_page_explains_why_it_was_shown(app, client):
    response = client.get("/compte", follow_redirects=True)

    assert response.request.path == "/connexion"
    assert "Connectez-vous pour accéder à cette page." in text(response)


# --- people who are not curators -------------------------------------------------------------------------


@pytest.fixture(params=["usager", "coordinateur"])
def non_curator(request, organisation):
    """A plain user, or the coordinator of the organisation itself: neither manages its members."""
    if request.param == "usager":
        return factories.create_user(email="usager@exemple.fr")
    return factories.create_user(email="coordination@exemple.fr", organisation=organisation, coordinator=True)


def test_non_curator_cannot_attach_a_member(db, client, login, organisation, member, non_curator):
    outsider = factories.create_user(email="camille@exemple.fr")
    login(non_curator)
    before = memberships(db)

    response = client.post(f"/organisations/{organisation.slug}/membres", data={"email": outsider.email})

    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    assert memberships(db) == before


def test_non_curator_cannot_remove_a_member(db, client, login, organisation, member, non_curator):
    membership_id = member.memberships[0].id
    login(non_curator)
    before = memberships(db)

    response = client.post(f"/organisations/{organisation.slug}/membres/{membership_id}/retrait")

    assert response.status_code == 403
    assert memberships(db) == before


def test_non_curator_sees_no_member_list(client, login, organisation, member, non_curator):
    login(non_curator)

    response = client.get(f"/organisations/{organisation.slug}")

    assert response.status_code == 200
    page = text(response)
    assert "DDT du Loiret" in page
    assert "Membres (" not in page
    assert "dominique@exemple.fr" not in page
    assert "Rattacher une personne" not in page


def test_anonymous_visitor_sees_no_member_list(client, organisation, member):
    response = client.get(f"/organisations/{organisation.slug}")

    assert response.status_code == 200
    assert "Membres (" not in text(response)
    assert "dominique@exemple.fr" not in text(response)


# --- curators --------------------------------------------------------------------------------------------


@pytest.fixture(params=[Role.CURATOR, Role.ADMIN])
def curator(request, db):
    return factories.create_user(email="curation@exemple.fr", name="Claude Curateur", role=request.param)


def test_curator_sees_the_members_and_the_form_to_attach_one(client, login, organisation, member, curator):
    coordinator = factories.create_user(
        email="alex@exemple.fr", name="Alex Bernard", organisation=organisation, coordinator=True
    )
    login(curator)

    response = client.get(f"/organisations/{organisation.slug}")

    assert response.status_code == 200
    page = text(response)
    assert "Membres (2)" in page
    assert member_rows(response) == [
        ("Alex Bernard", coordinator.email, "Coordinateur"),
        ("Dominique Petit", "dominique@exemple.fr", "Membre"),
    ]
    assert "Rattacher une personne" in page
    html = response.get_data(as_text=True)
    assert f'action="/organisations/{organisation.slug}/membres"' in html
    assert f'action="/organisations/{organisation.slug}/membres/{member.memberships[0].id}/retrait"' in html


def test_curator_sees_an_empty_member_list(client, login, organisation, curator):
    login(curator)

    response = client.get(f"/organisations/{organisation.slug}")

    assert "Membres (0)" in text(response)
    assert "Personne n'est encore rattaché à cette organisation." in text(response)


@pytest.mark.parametrize(
    ("role", "label"), [(MembershipRole.MEMBER, "membre"), (MembershipRole.COORDINATOR, "coordinateur")]
)
def test_curator_attaches_an_existing_account_by_address(app, db, client, login, organisation, curator, role, label):
    factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    login(curator)

    response = client.post(
        f"/organisations/{organisation.slug}/membres", data={"email": "Camille@Exemple.FR", "role": role.value}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{organisation.slug}#membres"
    assert memberships(db, organisation) == [("camille@exemple.fr", role.value)]
    page = fresh_get(app, client, f"/organisations/{organisation.slug}")
    assert f"Camille Martin est maintenant {label} de DDT du Loiret." in text(page)
    assert ("Camille Martin", "camille@exemple.fr", label.capitalize()) in member_rows(page)


def test_attaching_someone_already_member_changes_their_role(db, client, login, organisation, member, curator):
    login(curator)

    response = client.post(
        f"/organisations/{organisation.slug}/membres", data={"email": member.email, "role": "coordinator"}
    )

    assert response.status_code == 303
    assert memberships(db, organisation) == [("dominique@exemple.fr", "coordinator")]


def test_attaching_an_address_without_account_is_refused_in_french(db, client, login, organisation, curator):
    login(curator)

    response = client.post(
        f"/organisations/{organisation.slug}/membres", data={"email": "inconnu@exemple.fr", "role": "member"}
    )

    assert response.status_code == 200
    assert field_errors(response, "email") == [NO_ACCOUNT]
    assert 'value="inconnu@exemple.fr"' in response.get_data(as_text=True)
    assert memberships(db) == []


def test_attaching_with_an_invalid_address_is_refused_in_french(db, client, login, organisation, curator):
    login(curator)

    response = client.post(f"/organisations/{organisation.slug}/membres", data={"email": "pas-une-adresse"})

    assert response.status_code == 200
    assert field_errors(response, "email") == ["Saisissez une adresse électronique valide, par exemple nom@exemple.fr."]
    assert memberships(db) == []


def test_attaching_with_an_unknown_role_is_refused_in_french(db, client, login, organisation, curator):
    factories.create_user(email="camille@exemple.fr")
    login(curator)

    response = client.post(
        f"/organisations/{organisation.slug}/membres", data={"email": "camille@exemple.fr", "role": "chef"}
    )

    assert response.status_code == 200
    assert field_errors(response, "role") == [get_translations(["fr_FR", "fr"]).gettext("Not a valid choice.")]
    assert memberships(db) == []


def test_attaching_to_an_unknown_organisation_is_not_found(db, client, login, curator):
    factories.create_user(email="camille@exemple.fr")
    login(curator)

    response = client.post("/organisations/ddt-inexistante/membres", data={"email": "camille@exemple.fr"})

    assert response.status_code == 404
    assert memberships(db) == []


def test_curator_removes_a_membership(app, db, client, login, organisation, member, curator):
    other = factories.create_organisation(name="DREAL Centre-Val de Loire")
    factories.create_user(email="alex@exemple.fr", organisation=other)
    membership_id = member.memberships[0].id
    login(curator)

    response = client.post(f"/organisations/{organisation.slug}/membres/{membership_id}/retrait")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{organisation.slug}#membres"
    assert memberships(db, organisation) == []
    assert memberships(db, other) == [("alex@exemple.fr", "member")]
    assert db.session.scalar(sa.select(User).where(User.email == "dominique@exemple.fr")) is not None
    page = fresh_get(app, client, f"/organisations/{organisation.slug}")
    assert "Dominique Petit ne fait plus partie de DDT du Loiret." in text(page)


def test_removing_a_membership_of_another_organisation_is_not_found(db, client, login, organisation, curator):
    other = factories.create_organisation(name="DREAL Centre-Val de Loire")
    elsewhere = factories.create_user(email="alex@exemple.fr", organisation=other)
    login(curator)

    response = client.post(f"/organisations/{organisation.slug}/membres/{elsewhere.memberships[0].id}/retrait")

    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    assert memberships(db, other) == [("alex@exemple.fr", "member")]


def test_removing_an_unknown_membership_is_not_found(db, client, login, organisation, member, curator):
    login(curator)

    response = client.post(f"/organisations/{organisation.slug}/membres/999999/retrait")

    assert response.status_code == 404
    assert memberships(db) == [("dominique@exemple.fr", "member")]


def test_account_page_lists_the_organisations_one_belongs_to(app, client, login, organisation):
    user = factories.create_user(email="camille@exemple.fr", organisation=organisation, coordinator=True)
    login(user)

    response = fresh_get(app, client, "/compte")

    assert response.status_code == 200
    assert "DDT du Loiret — Coordinateur" in text(response)
    assert f'href="/organisations/{organisation.slug}"' in response.get_data(as_text=True)
