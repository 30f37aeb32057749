"""The pages around mail, in Chromium: the mail preferences (with the keyboard only), the forgotten password
and the address confirmation (each followed through the link of the mail the application really sent to a
loopback SMTP server), and the "Suivre" buttons that decide who is mailed about new threads.

Account mails leave once the response that queued them is closed, so a test waits a moment for them.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests import factories

from .conftest import log_in

WAIT_MS = 10_000
NEW_PASSWORD = "un-nouveau-mot-de-passe-2026"
SAME_ANSWER = "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé."


@pytest.fixture
def base_url_is_live_server(app, live_server, monkeypatch):
    """The links of the mails point at the server the browser uses."""
    monkeypatch.setitem(app.config, "FEEDBACK_BASE_URL", live_server)
    return live_server


def _mails_to(smtp_server, address: str, count: int = 1) -> list:
    """The mails the server received for `address`, once there are `count` of them (within 10 s)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while len(smtp_server.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    mails = smtp_server.to(address)
    assert len(mails) == count, f"{len(mails)} mails to {address}, {count} expected"
    return mails


def _link(mail, path: str) -> str:
    text = mail.get_body(preferencelist=("plain",)).get_content()
    found = re.findall(rf"https?://\S+{re.escape(path)}\S+", text)
    assert len(found) == 1, text
    return found[0]


def _tab_to(page, target, limit: int = 40) -> int:
    """Press Tab until `target` has the focus; how many presses it took (fails past `limit`)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def test_mail_preferences_are_changed_with_the_keyboard_only(page):
    person = factories.create_user(name="Dominique Lefèvre")
    log_in(page, person.email)
    page.goto("/notifications/preferences")
    answers = page.get_by_label("Réponses sur les fils que vous suivez")
    expect(answers).to_have_value("immediate")

    # Skip the header with the first link of the page, then on through the form.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    _tab_to(page, answers)
    page.keyboard.press("Space")  # opens the list of choices
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(answers).to_have_value("daily")
    _tab_to(page, page.get_by_role("button", name="Enregistrer mes préférences"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Vos préférences de courriels sont enregistrées.")
    page.reload()
    expect(page.get_by_label("Réponses sur les fils que vous suivez")).to_have_value("daily")
    expect(page.get_by_label("Changements de statut")).to_have_value("immediate")
    expect(page.get_by_role("status")).to_have_count(0)


def test_a_forgotten_password_is_reset_through_the_link_of_the_mail(new_page, smtp_server, base_url_is_live_server):
    person = factories.create_user(name="Dominique Lefèvre", email="dominique.lefevre@exemple.fr")
    page = new_page()
    page.goto("/connexion")
    with page.expect_navigation():
        page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")

    # An address without an account and one with an account get the same answer.
    answers = []
    for address in ("personne.inconnue@exemple.fr", "Dominique.Lefevre@exemple.fr"):
        page.goto("/mot-de-passe/oubli")
        page.get_by_label("Adresse électronique").fill(address)
        with page.expect_navigation():
            page.get_by_role("button", name="Recevoir un lien").click()
        expect(page.get_by_role("status")).to_contain_text(SAME_ANSWER)
        answers.append((urlsplit(page.url).path, page.locator("main").inner_text()))
    assert answers[0] == answers[1]

    mail = _mails_to(smtp_server, person.email)[0]
    assert len(smtp_server.messages) == 1, "a mail went to the address without an account"
    link = _link(mail, "/mot-de-passe/nouveau/")
    assert link.startswith(f"{base_url_is_live_server}/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#password_confirm").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est changé. Vous êtes connecté·e.")

    # The link served once; the new password opens the account in another browser.
    response = page.goto(link)
    assert response is not None and response.status == 400
    expect(page.locator("main")).to_contain_text("a déjà servi")
    log_in(new_page(), person.email, NEW_PASSWORD)


def test_an_address_is_confirmed_through_the_link_of_the_mail(page, smtp_server, base_url_is_live_server):
    page.goto("/inscription")
    page.get_by_label("Prénom et nom").fill("Sacha Nouvel")
    page.get_by_label("Adresse électronique").fill("sacha.nouvel@exemple.fr")
    page.get_by_label("Vous travaillez pour").select_option(index=1)
    page.get_by_label("Nom de votre organisation").fill("Hydro-Conseil")
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#password_confirm").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status")).to_contain_text("Un courriel vient d'être envoyé à l'adresse indiquée")
    log_in(page, "sacha.nouvel@exemple.fr", NEW_PASSWORD)
    page.goto("/compte")
    expect(page.locator("#confirmation-email")).to_contain_text("Adresse électronique à confirmer")

    link = _link(_mails_to(smtp_server, "sacha.nouvel@exemple.fr")[0], "/compte/confirmer/")
    page.goto(link)
    assert urlsplit(page.url).path == "/compte"
    expect(page.get_by_role("status")).to_contain_text("Votre adresse électronique est confirmée. Merci !")
    expect(page.locator("#confirmation-email")).to_have_count(0)


def test_a_dataset_and_a_producer_are_followed_in_place(page):
    producer = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    dataset = factories.create_dataset(title="Zones inondables du Loiret", organisation=producer)
    person = factories.create_user(name="Dominique Lefèvre")
    log_in(page, person.email)

    page.goto(f"/jeux-de-donnees/{dataset.catalogue_id}")
    page.evaluate("window.__e2eSamePage = true")
    button = page.locator("#follow-dataset-button")
    expect(button).to_have_text("Suivre")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_text("Ne plus suivre", timeout=WAIT_MS)
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_be_focused()
    expect(page.locator("#follow-dataset-hint")).to_have_text(
        "Vous êtes averti·e des nouveaux fils sur ce jeu de données."
    )
    assert page.evaluate("window.__e2eSamePage === true"), "following reloaded the page"
    page.reload()
    expect(page.locator("#follow-dataset-button")).to_have_attribute("aria-pressed", "true")

    # The dataset's Atom feed is linked from its page.
    feed = page.get_by_role("link", name="S'abonner au flux Atom des fils de ce jeu de données")
    response = page.request.get(feed.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/atom+xml")

    page.goto(f"/organisations/{producer.slug}")
    button = page.locator("#follow-organisation-button")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)
    expect(button).to_have_text("Suivre")
    page.reload()
    expect(page.locator("#follow-organisation-button")).to_have_text("Suivre")
