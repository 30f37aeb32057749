"""The thread page for each role, in Chromium: the status form shows the fields of the chosen status (all of them,
each saying what it is for, without JavaScript); a file answers a request, with and without JavaScript; the page
with every panel open, and the inbox, fit at 375 px and 1280 px without sideways scrolling; axe finds nothing
serious on the page of the member, the curator and the author."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.accounts.models import Role
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in
from .test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE, _format

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def cast(live_server):
    service = factories.create_organisation(name="Direction départementale des territoires et de la mer du Calvados")
    dataset = factories.create_dataset(
        title="Plan de prévention des risques littoraux, zonage réglementaire, version approuvée", organisation=service
    )
    member = factories.create_user(name="Marie Agent", organisation=service, coordinator=True)
    author = factories.create_user(name="Bureau d'études Littoral-Conseil")
    curator = factories.create_user(name="Claude Curateur", role=Role.CURATOR)
    thread = services.create_thread(
        author,
        services.NewThread(
            kind=ThreadKind.DATA_REQUEST,
            title="Zonage réglementaire du PPRL au format GeoPackage pour une étude d'impact",
            body="Bonjour, https://www.data.gouv.fr/fr/datasets/un-tres-long-identifiant-de-jeu-de-donnees-sans-espace/",
            dataset=dataset,
        ),
    )
    services.post_message(thread, member, "Voici un premier extrait.")
    db.session.commit()
    return {"member": member, "author": author, "curator": curator, "thread": thread.id}


def _open_every_panel(page) -> None:
    page.locator("main details").evaluate_all("panels => panels.forEach((panel) => { panel.open = true; })")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map((e) => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().left) + '-'
       + Math.round(e.getBoundingClientRect().right) + ' in ' + e.parentElement.tagName + '.'
       + e.parentElement.className + ' ' + Math.round(e.parentElement.getBoundingClientRect().right))
  .slice(0, 6)"""


def test_the_status_form_shows_the_fields_of_the_chosen_status(new_page, cast):
    page = new_page()
    log_in(page, cast["member"].email)
    page.goto(f"/fils/{cast['thread']}")
    page.locator("summary", has_text="Changer le statut").click()
    reason = page.get_by_label("Motif du refus (pour « Refusé »)")
    original = page.get_by_label("Fil d'origine (pour « Doublon »)")
    expect(reason).to_be_hidden()
    expect(original).to_be_hidden()

    page.get_by_label("Nouveau statut").select_option("declined")
    expect(reason).to_be_visible()
    expect(original).to_be_hidden()
    page.get_by_label("Nouveau statut").select_option("duplicate")
    expect(reason).to_be_hidden()
    expect(original).to_be_visible()


def test_without_javascript_every_field_shows_and_says_what_it_is_for(new_page, cast):
    page = new_page(java_script_enabled=False)
    log_in(page, cast["member"].email)
    page.goto(f"/fils/{cast['thread']}")
    page.locator("summary", has_text="Changer le statut").click()
    for label in ("Motif du refus (pour « Refusé »)", "Fil d'origine (pour « Doublon »)"):
        expect(page.get_by_label(label)).to_be_visible()
    expect(page.get_by_label("Jeu de données qui répond (pour « Résolu », facultatif)")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_member_answers_with_a_file_and_the_author_finds_it(new_page, cast, tmp_path, javascript):
    path = tmp_path / "extrait-pprl.pdf"
    path.write_bytes(PDF)
    page = new_page(java_script_enabled=javascript)
    log_in(page, cast["member"].email)
    page.goto(f"/fils/{cast['thread']}")
    page.get_by_label("Votre réponse").fill("L'extrait est joint.")
    page.get_by_label("Fichiers joints (facultatif)").set_input_files(str(path))
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("link", name="extrait-pprl.pdf")).to_be_visible()

    author = new_page(java_script_enabled=javascript)
    log_in(author, cast["author"].email)
    author.goto(f"/fils/{cast['thread']}")
    link = author.get_by_role("link", name="extrait-pprl.pdf")
    with author.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "extrait-pprl.pdf"
    assert Path(download.value.path()).read_bytes() == PDF


@pytest.mark.parametrize("who", ["member", "curator", "author"])
@pytest.mark.parametrize("width", [375, 1280])
def test_the_page_with_every_panel_open_fits_the_screen(new_page, cast, who, width, tmp_path):
    page = new_page(viewport={"width": width, "height": 900})
    log_in(page, cast[who].email)
    page.goto(f"/fils/{cast['thread']}")
    _open_every_panel(page)
    page.screenshot(path=str(tmp_path / f"fil-{who}-{width}.png"), full_page=True)
    assert _fits(page), f"the thread page scrolls sideways for the {who} at {width} px: {page.evaluate(WIDEST)}"
    if who == "member":
        page.goto("/boite-de-reception")
        expect(page.locator(".inbox-tabs")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"boite-{width}.png"), full_page=True)
        assert _fits(page), f"the inbox scrolls sideways at {width} px: {page.evaluate(WIDEST)}"


@pytest.mark.parametrize("who", ["member", "curator", "author"])
def test_the_thread_page_has_no_serious_accessibility_violation(new_page, cast, who):
    page = new_page()
    log_in(page, cast[who].email)
    page.goto(f"/fils/{cast['thread']}")
    _open_every_panel(page)
    expect(page.locator("html[data-fr-js='true']")).to_have_count(1)
    page.evaluate(AXE_SOURCE)
    results = page.evaluate(RUN_AXE, AXE_OPTIONS)
    assert results["passes"] > 0
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, _format(blocking)


@pytest.mark.parametrize("javascript", [True, False])
def test_the_preview_shows_the_message_as_it_will_be_and_posts_nothing(new_page, cast, javascript):
    page = new_page(java_script_enabled=javascript)
    log_in(page, cast["author"].email)
    page.goto(f"/fils/{cast['thread']}")
    page.get_by_label("Votre réponse").fill("Une réponse en **gras**")
    page.get_by_role("button", name="Prévisualiser").click()

    expect(page.locator("#reply-preview strong")).to_have_text("gras")
    expect(page.get_by_label("Votre réponse")).to_have_value("Une réponse en **gras**")
    expect(page.locator(".timeline__message")).to_have_count(2)  # the opening and the member's answer only

    page.goto("/fils/nouveau?type=question")
    page.locator("#body").fill("Un *essai*")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.locator("#preview em")).to_have_text("essai")
    expect(page.locator("#body")).to_have_value("Un *essai*")


def test_messages_after_actions_in_place_replace_each_other_in_one_live_region(new_page, cast):
    page = new_page()
    log_in(page, cast["author"].email)
    page.goto("/fils/nouveau?type=question")
    page.get_by_label("Service producteur").select_option(
        label="Direction départementale des territoires et de la mer du Calvados"
    )
    page.locator("#title").fill("Quelle est la fréquence de mise à jour du zonage ?")
    page.locator("#body").fill("Bonjour, à quel rythme le zonage est-il mis à jour ?")
    page.get_by_role("button", name="Publier").click()
    notices = page.locator("#notices")
    expect(notices).to_have_attribute("role", "status")
    expect(notices).to_contain_text("Votre message est publié. Vous serez tenu·e au courant des réponses.")

    page.get_by_label("Votre réponse").fill("Une précision : pour la commune de Honfleur.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".timeline__message")).to_have_count(2)
    expect(notices).to_have_text("Votre message est publié.")  # the confirmation of the page's load is gone
    expect(notices.locator(".fr-alert")).to_be_focused()

    page.get_by_role("button", name="Ne plus suivre").click()
    expect(notices).to_have_text("C'est noté.")
    expect(page.locator("main .fr-alert")).to_have_count(1)
    expect(page.locator("main [role=status]")).to_have_count(1)

    page.get_by_label("Votre réponse").fill("")
    page.get_by_role("button", name="Envoyer").click()  # refused: the error on its field, no confirmation left
    expect(page.get_by_label("Votre réponse")).to_have_attribute("aria-invalid", "true")
    expect(notices).to_have_text("")
