"""Files on messages in Chromium, with and without JavaScript: a file refused for its content leaves the reply
unposted, the error on the field and the text kept; the files chosen again are posted and listed under the
message; a new thread carries its files too."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 16
CSV = b"commune;surface\nGien;12,5\nBriare;8\n"
GEOJSON = json.dumps({"type": "FeatureCollection", "features": []}).encode()


@pytest.fixture
def cast(live_server):
    service = factories.create_organisation(name="DDT du Loiret")
    dataset = factories.create_dataset(title="Haies du bocage du Loiret", organisation=service)
    member = factories.create_user(name="Mathilde Agent", organisation=service)
    author = factories.create_user(name="Bureau d'études Bocage")
    thread = services.create_thread(
        author,
        services.NewThread(
            kind=ThreadKind.DATA_REQUEST,
            title="Les haies du Loiret au format GeoPackage",
            body="Bonjour, pourriez-vous nous transmettre les haies ?",
            dataset=dataset,
        ),
    )
    db.session.commit()
    return {"member": member, "author": author, "thread": thread.id, "dataset": dataset}


def _files(tmp_path, **contents: bytes) -> list[str]:
    paths = []
    for name, content in contents.items():
        path = tmp_path / name.replace("_", ".")
        path.write_bytes(content)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("javascript", [True, False])
def test_a_refused_file_keeps_the_reply_then_the_files_chosen_again_are_posted(new_page, cast, tmp_path, javascript):
    page = new_page(java_script_enabled=javascript)
    log_in(page, cast["member"].email)
    page.goto(f"/fils/{cast['thread']}")
    messages = page.locator(".timeline__message")
    expect(messages).to_have_count(1)
    files = page.get_by_label("Fichiers joints (facultatif)")
    expect(files).to_have_attribute("multiple", "")
    expect(page.locator(".fr-upload-group .fr-hint-text")).to_contain_text("5 fichiers au plus, 20 Mo chacun.")

    page.get_by_label("Votre réponse").fill("Voici les haies et un tableau des surfaces.")
    files.set_input_files(_files(tmp_path, haies_pdf=b"<!doctype html><title>Pas un PDF</title>"))
    page.get_by_role("button", name="Envoyer").click()

    expect(page.locator("#files-messages")).to_contain_text("« haies.pdf » n'est pas d'un type accepté")
    expect(page.get_by_label("Votre réponse")).to_have_value("Voici les haies et un tableau des surfaces.")
    expect(messages).to_have_count(1)

    page.get_by_label("Fichiers joints (facultatif)").set_input_files(_files(tmp_path, carte_png=PNG, surfaces_csv=CSV))
    page.get_by_role("button", name="Envoyer").click()

    expect(messages).to_have_count(2)
    answer = messages.nth(1)
    expect(answer).to_contain_text("Voici les haies et un tableau des surfaces.")
    links = answer.locator("a.fr-link--download")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text(re.compile(r"^carte\.png\s+PNG – 1 ko$"))
    expect(links.nth(1)).to_have_text(re.compile(r"^surfaces\.csv\s+CSV – 1 ko$"))
    expect(links.nth(1)).to_have_attribute("href", re.compile(rf"^/fils/{cast['thread']}/fichiers/\d+/surfaces\.csv$"))
    expect(page.locator("#files-messages")).to_have_text("")
    expect(page.get_by_label("Votre réponse")).to_have_value("")


def test_a_new_thread_carries_its_file_without_javascript(new_page, cast, tmp_path):
    page = new_page(java_script_enabled=False)
    log_in(page, cast["author"].email)
    page.goto(f"/fils/nouveau?type=question&jeu={cast['dataset'].catalogue_id}")
    page.get_by_label(re.compile(r"^Titre\b")).fill("Les haies de ce périmètre sont-elles dans le jeu ?")
    page.get_by_label(re.compile(r"^Votre message\b")).fill("Le périmètre est dans le fichier joint.")
    page.get_by_label("Fichiers joints (facultatif)").set_input_files(_files(tmp_path, perimetre_geojson=GEOJSON))
    with page.expect_navigation():
        page.get_by_role("button", name="Publier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Les haies de ce périmètre sont-elles dans le jeu ?")
    link = page.locator(".timeline__message").first.locator("a.fr-link--download")
    expect(link).to_have_text(re.compile(r"^perimetre\.geojson\s+GeoJSON – 1 ko$"))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "perimetre.geojson"
