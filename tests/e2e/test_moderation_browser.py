"""Moderation in Chromium: a reader reports a message, a curator hides it from the queue, the reader sees the
notice and the outcome among their notifications, and a signed-out visitor without JavaScript sees the notice."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from feedback.accounts.models import Role
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in

INSULT = "Bande d'incompétents, vous ne servez à rien."
NOTICE = "Message masqué par la modération"


def _thread_with_an_insult():
    producer = factories.create_organisation(name="DDT du Loiret")
    dataset = factories.create_dataset(title="Zones inondables du Loiret", organisation=producer)
    reader = factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    troll = factories.create_user(email="troll@exemple.fr", name="Dominique Troll")
    curator = factories.create_user(email="curatrice@exemple.fr", name="Céline Curatrice", role=Role.CURATOR)
    thread = services.create_thread(
        reader,
        services.NewThread(
            kind=ThreadKind.QUESTION, title="Source des zones inondables", body="D'où viennent-elles ?", dataset=dataset
        ),
    )
    services.post_message(thread, troll, INSULT)
    db.session.commit()
    return thread.id, reader, curator


def test_a_reported_message_is_hidden_from_the_queue_and_replaced_by_a_notice(page, new_page):
    thread_id, reader, curator = _thread_with_an_insult()

    log_in(page, reader.email)
    page.goto(f"/fils/{thread_id}")
    page.get_by_role("link", name="Signaler ce message de Dominique Troll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signaler un message")
    page.get_by_label("Motif du signalement").select_option(label="Propos injurieux")
    page.get_by_label("Commentaire").fill("Insulte gratuite envers le service.")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_role("status")).to_contain_text("votre signalement est transmis")

    moderator = new_page()
    log_in(moderator, curator.email)
    moderator.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name=re.compile(r"^Modération \(1\s*signalement en attente\s*\)$")
    ).click()
    item = moderator.locator("main li.moderation-item").filter(has_text=INSULT)
    expect(item).to_contain_text("Propos injurieux")
    expect(item).to_contain_text("Camille Martin")
    expect(item).to_contain_text("Insulte gratuite envers le service.")
    item.get_by_label("Motif du masquage").fill("Propos injurieux envers le service.")
    with moderator.expect_navigation():
        item.get_by_role("button", name="Masquer le message").click()
    expect(moderator.get_by_role("status")).to_contain_text("Le message est masqué")
    expect(moderator.locator("main")).to_contain_text("Aucun signalement en attente")
    moderator.goto(f"/fils/{thread_id}")
    expect(moderator.locator("main")).to_contain_text(INSULT)  # the curators still read it, marked
    expect(moderator.locator("main")).to_contain_text("a masqué un message : « Propos injurieux envers le service. »")

    page.goto(f"/fils/{thread_id}")
    expect(page.locator("main")).to_contain_text(NOTICE)
    expect(page.locator("main")).not_to_contain_text(INSULT)
    expect(page.locator("main")).not_to_contain_text("a masqué un message")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("a été masqué par la modération")

    visitor = new_page(java_script_enabled=False)
    visitor.goto(f"/fils/{thread_id}")
    expect(visitor.locator("main")).to_contain_text(NOTICE)
    expect(visitor.locator("main")).not_to_contain_text(INSULT)


def test_the_queue_has_no_serious_accessibility_violation(page, new_page):
    from .test_accessibility import AXE_OPTIONS, AXE_SOURCE, BLOCKING_IMPACTS, RUN_AXE

    thread_id, reader, curator = _thread_with_an_insult()
    log_in(page, reader.email)
    page.goto(f"/fils/{thread_id}")
    page.get_by_role("link", name="Signaler ce fil").click()
    page.get_by_label("Motif du signalement").select_option(label="Spam")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer le signalement").click()
    page = new_page()
    log_in(page, curator.email)

    page.goto("/moderation")
    expect(page.locator("main li.moderation-item")).to_have_count(1)
    expect(page.locator("html[data-fr-js='true']")).to_have_count(1)
    page.evaluate(AXE_SOURCE)
    results = page.evaluate(RUN_AXE, AXE_OPTIONS)
    assert results["passes"] > 0
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in blocking]
