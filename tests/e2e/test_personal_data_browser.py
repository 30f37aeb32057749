"""Personal data in Chromium: from « Mon compte », see one's data and download it as a JSON file, then delete
one's account: the thread stays, signed « Compte supprimé », and the browser is signed out."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import expect

from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in


def test_download_then_delete_ones_account(page):
    producer = factories.create_organisation(name="DDT du Loiret")
    dataset = factories.create_dataset(title="Zones inondables du Loiret", organisation=producer)
    person = factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    thread = services.create_thread(
        person,
        services.NewThread(
            kind=ThreadKind.QUESTION,
            title="Source des zones inondables",
            body="D'où viennent ces zones ?",
            dataset=dataset,
        ),
    )
    db.session.commit()
    thread_id = thread.id
    log_in(page, person.email)

    page.goto("/compte")
    page.get_by_role("link", name="Voir et télécharger mes données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données personnelles")
    expect(page.locator("#my-threads")).to_contain_text("Source des zones inondables")
    expect(page.locator("#my-messages")).to_contain_text("D'où viennent ces zones ?")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger mes données (JSON)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["account"]["email"] == "camille@exemple.fr"
    assert [t["title"] for t in data["threads"]] == ["Source des zones inondables"]

    page.get_by_role("link", name="Supprimer mon compte").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer mon compte")
    expect(page.locator("main")).to_contain_text("signés « Compte supprimé »")
    page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(page.locator("main")).to_contain_text("Saisissez votre mot de passe pour confirmer.")
    page.get_by_label("Mot de passe actuel").fill(factories.PASSWORD)
    page.get_by_text("J'ai compris que la suppression est définitive").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(page.get_by_role("status")).to_contain_text("Votre compte est supprimé.")
    tools = page.locator(".fr-header__tools-links")
    expect(tools.get_by_role("link", name="Se connecter")).to_be_visible()

    page.goto(f"/fils/{thread_id}")
    expect(page.locator("main")).to_contain_text("Compte supprimé")
    expect(page.locator("main")).not_to_contain_text("Camille Martin")

    page.goto("/compte/mes-donnees")
    assert urlsplit(page.url).path == "/connexion"
    log_in_again = page.locator("main")
    page.get_by_label("Adresse électronique").fill("camille@exemple.fr")
    page.get_by_label("Mot de passe").fill(factories.PASSWORD)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(log_in_again).to_contain_text("incorrect")


def test_the_personal_data_pages_have_no_serious_accessibility_violation(page):
    from .test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE

    person = factories.create_user(email="dominique@exemple.fr", name="Dominique Lefèvre")

    def audit() -> None:
        expect(page.locator("html[data-fr-js='true']")).to_have_count(1)
        page.evaluate(AXE_SOURCE)
        results = page.evaluate(RUN_AXE, AXE_OPTIONS)
        assert results["passes"] > 0
        blocking = [v["id"] for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"{page.url}: {blocking}"

    page.goto("/donnees-personnelles")
    expect(page.get_by_role("heading", level=1)).to_have_text("Données personnelles")
    audit()
    log_in(page, person.email)
    page.goto("/compte/mes-donnees")
    audit()
    page.goto("/compte/supprimer")
    with page.expect_navigation():
        page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    expect(page.locator("main")).to_contain_text("Cochez cette case pour confirmer la suppression.")
    audit()
