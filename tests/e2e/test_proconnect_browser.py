"""ProConnect in Chromium, against a real OpenID provider (`tests/oidc_provider`, started for each test with the
live server as its client): the first sign-in creates the account and offers to join the agent's service, its
coordinator accepts, and logging out ends the session at the provider too; an existing account is linked by its
verified address."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from feedback.accounts.models import Membership, MembershipRole, Role, User
from feedback.auth import proconnect
from feedback.auth.models import ProConnectIdentity
from feedback.extensions import db
from tests import factories
from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, client, running_provider

SERVICE_SIRET = "13000548100010"
ACCOUNTS = {
    "camille": {
        "email": "camille.martin@loiret.gouv.fr",
        "email_verified": True,
        "given_name": "Camille",
        "usual_name": "Martin",
        "siret": SERVICE_SIRET,
    },
    "dominique": {
        "email": "dominique.leroy@developpement-durable.gouv.fr",
        "email_verified": True,
        "given_name": "Dominique",
        "usual_name": "Leroy",
        "siret": "11000201100044",
    },
}


@pytest.fixture
def provider(app, live_server, monkeypatch):
    with running_provider(clients=[client([live_server])], accounts=ACCOUNTS) as issuer:
        monkeypatch.setitem(app.config, "PROCONNECT_ISSUER", issuer)
        monkeypatch.setitem(app.config, "PROCONNECT_CLIENT_ID", CLIENT_ID)
        monkeypatch.setitem(app.config, "PROCONNECT_CLIENT_SECRET", CLIENT_SECRET)
        proconnect._cache.metadata.clear()
        proconnect._cache.keys.clear()
        yield issuer


def assert_accessible(page) -> None:
    """axe-core finds nothing serious or critical on the page (as tests/e2e/test_accessibility.py runs it)."""
    page.evaluate(AXE_SOURCE)
    violations = page.evaluate(RUN_AXE, AXE_OPTIONS)["violations"]
    assert [v for v in violations if v["impact"] in BLOCKING_IMPACTS] == []


def sign_in_with_proconnect(page, account: str, provider: str, *, audit: bool = False) -> None:
    page.goto("/connexion")
    if audit:
        assert_accessible(page)
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    expect(page).to_have_url(re.compile(re.escape(provider) + "/interaction/"))
    page.get_by_label("Identifiant").fill(account)
    page.get_by_label("Mot de passe").fill("peu importe")
    page.get_by_role("button", name="Se connecter").click()


def test_first_sign_in_join_confirmation_and_logout(page, new_page, live_server, provider):
    service = factories.create_organisation(name="DDT du Loiret")
    service.siret = SERVICE_SIRET
    db.session.commit()
    coordinator = factories.create_user(email="coordination@loiret.gouv.fr", organisation=service, coordinator=True)

    sign_in_with_proconnect(page, "camille", provider, audit=True)

    # Back on the platform, signed in with a new account, and offered to join the service of the SIRET.
    expect(page.get_by_role("heading", level=1)).to_have_text("Rejoindre DDT du Loiret ?")
    expect(page.get_by_role("status")).to_contain_text("votre compte a été créé avec ProConnect")
    assert_accessible(page)
    page.get_by_role("button", name="Demander à rejoindre DDT du Loiret").click()
    expect(page.get_by_role("status")).to_contain_text("Votre demande pour rejoindre DDT du Loiret est envoyée")
    agent = db.session.scalars(sa.select(User).where(User.email == ACCOUNTS["camille"]["email"])).one()
    identity = db.session.scalars(sa.select(ProConnectIdentity).where(ProConnectIdentity.user_id == agent.id)).one()
    assert (identity.subject, identity.acr) == ("camille", "eidas1")

    # Logging out ends the session here, then at the provider, and comes back to the home page.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(re.escape(provider) + "/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("status")).to_contain_text("Vous êtes aussi déconnecté·e de ProConnect.")
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
    # The provider forgot the person: signing in again asks who they are.
    page.goto("/connexion")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    expect(page.get_by_label("Identifiant")).to_be_visible()

    # The coordinator is told, and accepts from the organisation's page.
    coordinator_page = new_page()
    log_in(coordinator_page, coordinator.email)
    coordinator_page.goto("/notifications")
    expect(coordinator_page.locator("main")).to_contain_text("Camille Martin")
    # An unread notification is a button that marks it read and leads to its page.
    coordinator_page.get_by_role("button", name=re.compile("demande à rejoindre DDT du Loiret")).click()
    expect(coordinator_page.get_by_role("heading", name="Demandes pour rejoindre le service (1)")).to_be_visible()
    assert_accessible(coordinator_page)
    coordinator_page.get_by_role("button", name="Accepter la demande de Camille Martin").click()
    expect(coordinator_page.get_by_role("status")).to_contain_text("Camille Martin est maintenant membre")
    membership = db.session.scalars(sa.select(Membership).where(Membership.user_id == agent.id)).one()
    assert (membership.organisation_id, membership.role) == (service.id, MembershipRole.MEMBER)


def test_an_existing_account_is_linked_by_its_verified_address(page, live_server, provider):
    existing = factories.create_user(email=ACCOUNTS["dominique"]["email"], name="Dominique Leroy")

    sign_in_with_proconnect(page, "dominique", provider)

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("status")).to_contain_text("ProConnect est maintenant rattaché à votre compte")
    assert db.session.scalars(sa.select(ProConnectIdentity.user_id)).one() == existing.id
    assert db.session.scalars(sa.select(sa.func.count(User.id))).one() == 1


def test_a_curator_gives_a_service_its_siret(page, live_server):
    service = factories.create_organisation(name="DDT du Loiret")
    curator = factories.create_user(role=Role.CURATOR)
    log_in(page, curator.email)

    page.goto(f"/organisations/{service.slug}")
    page.get_by_role("link", name="Modifier le SIRET de DDT du Loiret").click()
    page.get_by_label("SIRET du service").fill("130 005 481 00011")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("main")).to_contain_text("Le SIRET doit compter 14 chiffres et être valide")
    assert_accessible(page)
    page.get_by_label("SIRET du service").fill("130 005 481 00010")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("status")).to_contain_text("Le SIRET de DDT du Loiret est enregistré.")
    expect(page.locator("main")).to_contain_text(f"SIRET : {SERVICE_SIRET}")
