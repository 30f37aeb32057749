"""The requester's daily loop, in Chromium: a consultant names the dataset of a data request by its title, as the
field invites; two services publish a dataset of that title, so the form comes back with both to choose from,
each with its producer and territory; the choice posts the request to the right service, and "Mes fils" then
shows where it stands. Once with JavaScript (the suggestions name a dataset by its title and producer), once
without: the same radio buttons, the same result.

Only the setup is Python (two services, their datasets, an account); the rest is done through the pages.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from feedback.threads.models import Thread
from tests import factories

from .conftest import log_in

TITLE = "Zones humides effectives"
THREAD_TITLE = "Contours des zones humides de 2024"
BODY = "Bonjour,\n\nPourriez-vous nous transmettre la couche des zones humides au format GeoPackage ?"
# Playwright's `expect` waits 5 s by default; an htmx round trip on a loaded machine may need more.
WAIT_MS = 10_000


@pytest.fixture
def two_of_a_title(live_server):
    """Two services that each publish a dataset of the same title, one older dataset of that title archived, and
    a consultant."""
    loiret = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    nievre = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    factories.create_dataset(title=TITLE, organisation=loiret, territories=["D45"])
    wanted = factories.create_dataset(title=TITLE, organisation=nievre, territories=["D58"])
    factories.create_dataset(title=TITLE, organisation=nievre, territories=["D58"], archived=True)
    consultant = factories.create_user(name="Claire Consultante", email="claire.consultante@exemple.fr")
    return {"consultant": consultant.email, "wanted": wanted.catalogue_id, "wanted_producer": nievre.name}


def _watch(page, problems: list[str]) -> None:
    """Collect uncaught exceptions and console errors (a CSP violation is one)."""
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught exception: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: console error: {message.text}") if message.type == "error" else None
        ),
    )


def _dataset_field(page):
    return page.get_by_label(re.compile(r"^Jeu de données\b"))


def _fill_request(page, dataset_text: str) -> None:
    page.goto("/fils/nouveau?type=data_request")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander une donnée")
    _dataset_field(page).fill(dataset_text)
    page.get_by_label(re.compile(r"^Titre\b")).fill(THREAD_TITLE)
    page.get_by_label(re.compile(r"^Votre message\b")).fill(BODY)


def _publish(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Publier").click()


def _choose_among_the_candidates(page, setup) -> None:
    """The form is back with the candidates: both current datasets with their producer and territory, never the
    archived one; choosing one and publishing again posts the request."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander une donnée")
    candidates = page.get_by_role("group", name="Plusieurs jeux de données portent ce titre : choisissez le vôtre.")
    expect(candidates.get_by_role("radio")).to_have_count(2)
    expect(candidates).to_contain_text("DDT du Loiret — Loiret")
    expect(candidates).to_contain_text("DDT de la Nièvre — Nièvre")
    expect(page.locator("#dataset-messages")).to_contain_text("Plusieurs jeux de données portent ce titre")
    # What was typed is kept.
    expect(page.get_by_label(re.compile(r"^Titre\b"))).to_have_value(THREAD_TITLE)
    expect(page.get_by_label(re.compile(r"^Votre message\b"))).to_have_value(re.compile("GeoPackage"))

    candidates.get_by_text(setup["wanted_producer"]).click()
    expect(candidates.get_by_role("radio", name=re.compile(setup["wanted_producer"]))).to_be_checked()
    _publish(page)

    expect(page).to_have_url(re.compile(r"/fils/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Votre message est publié")
    expect(page.get_by_role("heading", level=1)).to_have_text(THREAD_TITLE)
    facts = page.get_by_role("complementary", name="Informations et actions")
    expect(facts).to_contain_text(setup["wanted_producer"])
    expect(facts.get_by_role("link", name=TITLE)).to_have_attribute("href", f"/jeux-de-donnees/{setup['wanted']}")


def _mes_fils_shows_it(page, setup) -> None:
    with page.expect_navigation():
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes fils").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes fils")
    open_threads = page.get_by_role("heading", level=2, name=re.compile(r"^En cours de traitement"))
    expect(open_threads).to_have_text("En cours de traitement (1)")
    item = page.locator(".thread-list__item", has=page.get_by_role("link", name=THREAD_TITLE))
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Nouveau")
    expect(item).to_contain_text(setup["wanted_producer"])
    expect(item).to_contain_text("réponse attendue le")


def _posted(setup) -> Thread:
    db.session.expire_all()
    thread = db.session.scalars(db.select(Thread)).one()
    assert thread.dataset.catalogue_id == setup["wanted"]
    assert thread.organisation.name == setup["wanted_producer"]
    return thread


def test_an_ambiguous_title_offers_its_datasets_and_the_choice_posts(new_page, two_of_a_title):
    problems: list[str] = []
    page = new_page()
    _watch(page, problems)
    log_in(page, two_of_a_title["consultant"])

    # The suggestions, while typing, name each dataset by its title and producer, never a bare identifier.
    page.goto("/fils/nouveau?type=data_request")
    _dataset_field(page).press_sequentially("zones humides")
    options = page.locator("#dataset-options option")
    expect(options).to_have_count(2, timeout=WAIT_MS)
    values = sorted(options.evaluate_all("options => options.map((option) => option.value)"))
    assert values == [f"{TITLE} — DDT de la Nièvre", f"{TITLE} — DDT du Loiret"]

    # The title alone, accents and case aside, names two datasets: the form asks which.
    _fill_request(page, "ZONES HUMIDES EFFECTIVES")
    _publish(page)
    _choose_among_the_candidates(page, two_of_a_title)
    _posted(two_of_a_title)
    _mes_fils_shows_it(page, two_of_a_title)

    assert not problems, "\n".join(problems)


def test_a_suggestion_chosen_names_its_dataset_by_title_and_producer(new_page, two_of_a_title):
    page = new_page()
    log_in(page, two_of_a_title["consultant"])

    # What a chosen suggestion leaves in the field: "Title — Producer", which names one dataset.
    _fill_request(page, f"{TITLE} — {two_of_a_title['wanted_producer']}")
    _publish(page)

    expect(page).to_have_url(re.compile(r"/fils/\d+$"))
    _posted(two_of_a_title)


def test_the_same_without_javascript(new_page, two_of_a_title):
    page = new_page(java_script_enabled=False)
    log_in(page, two_of_a_title["consultant"])

    _fill_request(page, "zones humides effectives")
    _publish(page)
    _choose_among_the_candidates(page, two_of_a_title)
    _posted(two_of_a_title)
    _mes_fils_shows_it(page, two_of_a_title)
