"""Personal API tokens in Chromium: create one on « Mon compte », see its secret once, call the API with it from
another client, revoke it, and see it refused; the pages of the tokens and the API's documentation pass axe-core."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import factories

from .conftest import log_in
from .test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE


def blocking_violations(page) -> list[dict]:
    """axe-core's serious and critical violations of the page as rendered (see test_accessibility.py)."""
    page.evaluate(AXE_SOURCE)
    results = page.evaluate(RUN_AXE, AXE_OPTIONS)
    return [violation for violation in results["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def test_create_see_once_use_and_revoke_a_token(page, new_page):
    person = factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    log_in(page, person.email)

    page.goto("/compte")
    section = page.locator("main")
    expect(section.get_by_role("heading", name="Jetons d'accès à l'API")).to_be_visible()
    expect(section).to_contain_text("Vous n'avez aucun jeton actif.")
    section.get_by_label("Nom du jeton").fill("Tableau de bord")
    with page.expect_navigation():
        section.get_by_role("button", name="Créer un jeton").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Jeton « Tableau de bord » créé")
    secret = page.get_by_label("Votre jeton").input_value()
    assert secret.startswith("fbk_")
    assert blocking_violations(page) == []

    with page.expect_navigation():
        page.get_by_role("link", name="Revenir à mon compte").click()
    table = page.locator("#jetons")
    expect(table).to_contain_text("Tableau de bord")
    expect(table).to_contain_text("Jamais")
    assert secret not in page.content()  # shown once: only its first characters are listed
    assert blocking_violations(page) == []

    program = new_page().request  # another client, without the browser's cookies
    answer = program.get("/api/v1/notifications", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200
    assert answer.json()["data"] == []

    page.reload()
    expect(page.locator("#jetons")).not_to_contain_text("Jamais")  # its last use is recorded
    with page.expect_navigation():
        page.get_by_role("button", name="Révoquer le jeton « Tableau de bord »").click()
    expect(page.get_by_role("status")).to_contain_text("Le jeton « Tableau de bord » est révoqué")
    expect(page.locator("main")).to_contain_text("Vous n'avez aucun jeton actif.")

    refused = program.get("/api/v1/notifications", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401
    assert refused.json()["error"] == "unauthorized"


def test_the_documentation_page_is_readable(page):
    page.goto("/api/v1/docs")

    expect(page.get_by_role("heading", level=1)).to_have_text("Documentation de l'API")
    expect(page.get_by_role("heading", name="POST /api/v1/threads/{thread_id}/status")).to_be_visible()
    assert blocking_violations(page) == []
