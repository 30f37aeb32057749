"""What a person does in a real browser: live search, filters, search without JavaScript, pasted
addresses, sign-up and sign-out, keyboard access, and pages that load cleanly under the CSP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests import factories

from .conftest import log_in

MARKER = "window.__e2eSamePage"


@pytest.fixture
def catalogue(live_server):
    """Two producers and three datasets, committed before the browser asks for them."""
    loiret = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    cher = factories.create_organisation(name="DDT du Cher", territory_code="D18")
    flood = factories.create_dataset(
        title="Zones inondables du Loiret",
        organisation=loiret,
        slug="zones-inondables-du-loiret",
        description="Atlas des zones inondables de la Loire.",
    )
    hedges = factories.create_dataset(
        title="Haies bocagères du Cher", organisation=cher, description="Inventaire des haies."
    )
    wells = factories.create_dataset(
        title="Captages d'eau potable du Loiret", organisation=loiret, description="Points de captage."
    )
    return {
        "loiret": (loiret.slug, loiret.name),
        "cher": (cher.slug, cher.name),
        "flood": (flood.catalogue_id, flood.slug, flood.title),
        "hedges": hedges.title,
        "wells": wells.title,
    }


def _mark_page(page) -> None:
    """Set a marker on `window`: it survives an htmx swap and is lost by any full page load."""
    page.evaluate(f"{MARKER} = true")


def _same_page(page) -> bool:
    return page.evaluate(f"{MARKER} === true")


def _result_titles(page) -> list[str]:
    return page.locator("#results .dataset-list__item h3").all_inner_texts()


def test_typing_in_the_search_box_updates_the_results_in_place(page, catalogue):
    page.goto("/jeux-de-donnees")
    expect(page.locator("#results-count")).to_have_text("3 jeux de données")
    _mark_page(page)

    page.locator("#q").press_sequentially("inondables")

    expect(page.locator("#results-count")).to_have_text("1 jeu de données pour « inondables »")
    assert _result_titles(page) == [catalogue["flood"][2]]
    expect(page).to_have_url(re.compile(r"[?&]q=inondables(&|$)"))
    assert _same_page(page), "the search reloaded the whole page instead of swapping the results"
    expect(page.locator("#q")).to_be_focused()


def test_choosing_a_producer_filters_the_results_in_place(page, catalogue):
    page.goto("/jeux-de-donnees")
    expect(page.locator("#results-count")).to_have_text("3 jeux de données")
    _mark_page(page)

    slug, _ = catalogue["cher"]
    page.get_by_label("Producteur").select_option(slug)

    expect(page.locator("#results-count")).to_have_text("1 jeu de données")
    assert _result_titles(page) == [catalogue["hedges"]]
    expect(page).to_have_url(re.compile(rf"[?&]producteur={re.escape(slug)}(&|$)"))
    assert _same_page(page), "the filter reloaded the whole page instead of swapping the results"

    page.get_by_label("Producteur").select_option(catalogue["loiret"][0])
    expect(page.locator("#results-count")).to_have_text("2 jeux de données")
    assert sorted(_result_titles(page)) == sorted([catalogue["flood"][2], catalogue["wells"]])
    assert _same_page(page)


def test_search_works_without_javascript(new_page, catalogue):
    page = new_page(java_script_enabled=False)
    page.goto("/jeux-de-donnees")
    page.locator("#q").fill("haies")
    with page.expect_navigation():
        page.locator("#q").press("Enter")

    assert urlsplit(page.url).path == "/jeux-de-donnees"
    assert "q=haies" in page.url
    expect(page.locator("#results-count")).to_have_text("1 jeu de données pour « haies »")
    assert _result_titles(page) == [catalogue["hedges"]]
    # The filters' own submit button, shown only without JavaScript.
    expect(page.get_by_role("button", name="Appliquer les filtres")).to_be_visible()


def test_a_pasted_data_gouv_address_leads_to_the_dataset(page, catalogue):
    catalogue_id, slug, title = catalogue["flood"]
    page.goto("/")
    search = page.get_by_label("Rechercher un jeu de données")
    search.fill(f"https://www.data.gouv.fr/fr/datasets/{slug}/")
    with page.expect_navigation():
        search.press("Enter")

    expect(page).to_have_url(re.compile(rf"/jeux-de-donnees/{catalogue_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_sign_up_then_sign_out(page, live_server):
    page.goto("/inscription")
    page.get_by_label("Prénom et nom").fill("Dominique Lefèvre")
    page.get_by_label("Adresse électronique").fill("dominique.lefevre@exemple.fr")
    page.get_by_label("Vous travaillez pour").select_option("consultancy")
    page.get_by_label("Nom de votre organisation").fill("Hydro-Conseil")
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("#password_confirm").fill(factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Créer mon compte").click()

    # The same answer whether the address had an account or not: the person then signs in.
    assert urlsplit(page.url).path == "/inscription/envoyee"
    expect(page.get_by_role("status")).to_contain_text("Un courriel vient d'être envoyé")
    log_in(page, "dominique.lefevre@exemple.fr")
    tools = page.locator(".fr-header__tools-links")
    expect(tools.get_by_role("link", name="Mon compte")).to_be_visible()
    expect(tools.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(tools.get_by_role("link", name="Se connecter")).to_have_count(0)

    tools.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.locator("main")).to_contain_text("dominique.lefevre@exemple.fr")

    with page.expect_navigation():
        tools.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e.")
    expect(tools.get_by_role("link", name="Se connecter")).to_be_visible()
    expect(tools.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    # Signed out for real: the account page now asks to sign in.
    page.goto("/compte")
    assert urlsplit(page.url).path == "/connexion"


def test_first_tab_reaches_the_skip_link_to_the_content(page, catalogue):
    page.goto("/jeux-de-donnees")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Contenu", exact=True)
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()  # DSFR shows the skip links when they have the focus

    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    # The next Tab goes on from the content, not from the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main#contenu').contains(document.activeElement)")


@pytest.mark.parametrize("path", ["/", "/jeux-de-donnees"])
def test_pages_load_without_console_errors_or_failed_requests(page, live_server, catalogue, path):
    origin = urlsplit(live_server).netloc
    problems: list[str] = []
    loaded: list[str] = []

    def on_console(message):
        # A Content-Security-Policy violation is reported here as an error.
        if message.type == "error":
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def on_response(response):
        if urlsplit(response.url).netloc != origin:
            return
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")
        else:
            loaded.append(urlsplit(response.url).path)

    def on_request_failed(request):
        problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)

    page.goto(path, wait_until="networkidle")
    # DSFR's JavaScript marks the document once it has started; htmx defines its global.
    expect(page.locator("html[data-fr-js='true']")).to_have_count(1)
    assert page.evaluate("typeof htmx") == "object"
    if path == "/jeux-de-donnees":
        page.locator("#q").press_sequentially("haies")
        expect(page.locator("#results-count")).to_have_text("1 jeu de données pour « haies »")
        page.wait_for_load_state("networkidle")

    assert not problems, "\n".join(problems)
    for expected in (
        "/static/vendor/dsfr-1.15.3/dsfr.min.css",
        "/static/vendor/dsfr-1.15.3/utility/utility.min.css",
        "/static/vendor/dsfr-1.15.3/dsfr.module.min.js",
        "/static/vendor/htmx-2.0.11/htmx.min.js",
        "/static/app.css",
    ):
        assert expected in loaded, f"{expected} was not loaded"
    assert any(p.startswith("/static/vendor/dsfr-1.15.3/fonts/") for p in loaded), "no Marianne font loaded"
