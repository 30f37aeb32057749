"""« Mon compte » in Chromium: change one's name and password, then log out everywhere — a second browser
holding a copy of the cookies is signed out with the first."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests import factories

from .conftest import log_in

NEW_PASSWORD = "un-nouveau-mot-de-passe-2026"


def test_name_password_and_log_out_everywhere(page, new_page, smtp_server):
    person = factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    log_in(page, person.email)

    page.goto("/compte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    name = page.get_by_label("Prénom et nom")
    expect(name).to_have_value("Camille Martin")
    name.fill("Camille Martin-Durand")
    with page.expect_navigation():
        name.press("Enter")  # the keyboard submits the form
    expect(page.get_by_role("status")).to_contain_text("Vos informations sont enregistrées.")
    expect(page.locator("main")).to_contain_text("Camille Martin-Durand")

    page.locator("#current_password").fill(factories.PASSWORD)
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#password_confirm").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est changé.")
    deadline = time.monotonic() + 10
    while not smtp_server.to("camille@exemple.fr") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp_server.to("camille@exemple.fr")[0]["Subject"] == "Votre mot de passe a été changé"

    # Someone copies the cookies of this browser into another one: it is signed in as long as the session lasts.
    copy = new_page()
    copy.context.add_cookies(page.context.cookies())
    copy.goto("/compte")
    expect(copy.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(copy.locator("#sessions")).to_contain_text("(ce navigateur)")

    button = page.get_by_role("button", name="Se déconnecter partout")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e de tous vos navigateurs")
    tools = page.locator(".fr-header__tools-links")
    expect(tools.get_by_role("link", name="Se connecter")).to_be_visible()

    copy.goto("/compte")
    assert urlsplit(copy.url).path == "/connexion"
    expect(copy.get_by_role("heading", level=1)).to_have_text("Se connecter")

    # The new password opens the account again.
    log_in(new_page(), person.email, NEW_PASSWORD)


def test_the_account_page_has_no_serious_accessibility_violation(page, new_page):
    from .test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE, _format

    person = factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    log_in(new_page(), person.email)  # a second browser in the list
    log_in(page, person.email)
    page.goto("/compte")
    page.locator("#current_password").fill("pas-le-bon-mot-de-passe")
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#password_confirm").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.locator("#current_password-messages")).to_contain_text("Le mot de passe actuel n'est pas le bon.")
    expect(page.locator("#sessions tbody tr")).to_have_count(2)
    expect(page.locator("html[data-fr-js='true']")).to_have_count(1)

    page.evaluate(AXE_SOURCE)
    results = page.evaluate(RUN_AXE, AXE_OPTIONS)

    assert results["passes"] > 0
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, _format(blocking)
