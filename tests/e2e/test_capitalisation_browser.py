"""The capitalisation pages in Chromium: a curator narrows the dashboard with its filters (in place with htmx,
and by the submit button without JavaScript), follows a figure to the threads it counts, then turns the
dashboard's scope into a report, reworks its recommendations in place, publishes it, and the public reads it.

The scene, all in the second quarter of 2025 and all on one dataset of the DDT du Loiret: two dead links and
two undocumented-variables reports (quality issues), two data requests and a question, so 7 threads. The two
quality rules of the recommendations fire on it (two reports of a category at one producer): « Vérifier les
liens… » (high priority), then « Publier les dictionnaires de données… » (medium).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from feedback.accounts.models import Role
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in

QUARTER = "du=2025-04-01&au=2025-06-30"
PRODUCER = "DDT du Loiret"
DEAD_LINKS = f"Vérifier les liens de téléchargement et les services de diffusion — {PRODUCER}"
DICTIONARIES = f"Publier les dictionnaires de données — {PRODUCER}"
EDITED_TITLE = "Documenter chaque variable des jeux du Loiret"
MARKER = "window.__e2eSamePage"
WAIT_MS = 10_000

QI, DR, Q = ThreadKind.QUALITY_ISSUE, ThreadKind.DATA_REQUEST, ThreadKind.QUESTION
THREADS = [
    (QI, "Lien de téléchargement mort", "dead_link", datetime(2025, 4, 10, 8, tzinfo=UTC)),
    (DR, "Demande des contours des zones humides", None, datetime(2025, 4, 15, 8, tzinfo=UTC)),
    (Q, "Quelle est la source des relevés ?", None, datetime(2025, 5, 5, 8, tzinfo=UTC)),
    (QI, "Le service WFS ne répond plus", "dead_link", datetime(2025, 5, 12, 8, tzinfo=UTC)),
    (QI, "Colonnes sans description", "undocumented_variables", datetime(2025, 5, 20, 8, tzinfo=UTC)),
    (QI, "Codes de la colonne TYPE inexpliqués", "undocumented_variables", datetime(2025, 6, 3, 8, tzinfo=UTC)),
    (DR, "Demande de l'historique 2010-2020", None, datetime(2025, 6, 10, 8, tzinfo=UTC)),
]
DATA_REQUESTS = {"Demande des contours des zones humides", "Demande de l'historique 2010-2020"}


@pytest.fixture
def scene(live_server):
    producer = factories.create_organisation(name=PRODUCER, territory_code="D45")
    dataset = factories.create_dataset(title="Zones humides du Loiret", organisation=producer)
    author = factories.create_user(name="Alice Usagère")
    curator = factories.create_user(name="Céline Curatrice", role=Role.CURATOR)
    for kind, title, category, received in THREADS:
        thread_services.create_thread(
            author,
            thread_services.NewThread(
                kind=kind, title=title, body="Bonjour, voici ma demande.", dataset=dataset, quality_category=category
            ),
            created_at=received,
        )
    db.session.commit()
    return {"curator": curator.email}


def _total(page, key: str):
    """The period's figure of a row of the totals table (`threads`, `open`…)."""
    return page.locator(f"#total-{key} td").first


def _tick(page, kind: str) -> None:
    """Tick a type of thread as a person does: DSFR draws the box on the label, over the input."""
    page.locator("#scope-form label", has_text=kind).click()
    expect(page.get_by_role("checkbox", name=kind)).to_be_checked()


def _query(page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def test_a_filter_updates_the_figures_in_place_and_a_figure_lists_its_threads(new_page, scene):
    page = new_page()
    log_in(page, scene["curator"])
    page.goto(f"/capitalisation?{QUARTER}")
    expect(_total(page, "threads")).to_have_text("7")
    page.evaluate(f"{MARKER} = true")

    _tick(page, "Demande de données")
    expect(_total(page, "threads")).to_have_text("2", timeout=WAIT_MS)
    assert page.evaluate(f"{MARKER} === true"), "the filter reloaded the page instead of swapping the results"
    expect(page).to_have_url(re.compile(r"type=data_request"))
    assert _query(page)["type"] == ["data_request"]
    assert _query(page)["du"] == ["2025-04-01"]
    # The report button carries the new filters too.
    assert parse_qs(urlsplit(page.locator("#new-report").get_attribute("href")).query)["type"] == ["data_request"]

    # Each chart is an image named by its title, with its data table in the same figure.
    expect(page.locator("#capitalisation-results [role='img']")).to_have_count(4)
    figures = page.locator("#capitalisation-results figure.chart")
    expect(figures).to_have_count(4)
    for index in range(4):
        figure = figures.nth(index)
        chart = figure.locator("[role='img']")
        title_id = chart.get_attribute("aria-labelledby")
        expect(figure.locator(f"#{title_id}")).not_to_be_empty()
        expect(figure.locator("table")).to_have_count(1)
        expect(figure.locator("table caption")).not_to_be_empty()
    months = figures.filter(has=page.locator("#chart-months-title"))
    months.get_by_text("Voir les données").click()
    month_rows = months.locator("tbody tr")
    expect(month_rows).to_have_count(3)
    expect(month_rows.nth(0)).to_contain_text("avril 2025")
    expect(month_rows.nth(2).locator("td").first).to_have_text("1")

    # The count links to /threads with the same filters, which lists exactly those threads.
    with page.expect_navigation():
        _total(page, "threads").get_by_role("link", name="2").click()
    assert urlsplit(page.url).path == "/fils"
    assert _query(page)["type"] == ["data_request"]
    expect(page.locator("#results-count")).to_have_text("2 fils")
    listed = page.locator("#results .thread-list > li h3")
    expect(listed).to_have_count(2)
    assert set(listed.all_inner_texts()) == DATA_REQUESTS


def test_the_filters_work_without_javascript(new_page, scene):
    page = new_page(java_script_enabled=False)
    log_in(page, scene["curator"])
    page.goto(f"/capitalisation?{QUARTER}")
    expect(_total(page, "threads")).to_have_text("7")

    _tick(page, "Signalement qualité")
    with page.expect_navigation():
        page.get_by_role("button", name="Appliquer les filtres").click()
    assert _query(page)["type"] == ["quality_issue"]
    assert _query(page)["au"] == ["2025-06-30"]
    expect(_total(page, "threads")).to_have_text("4")
    expect(page.get_by_role("checkbox", name="Signalement qualité")).to_be_checked()


def test_the_long_tables_load_in_place_and_page_in_place(new_page, scene, monkeypatch):
    from feedback.capitalisation import views

    monkeypatch.setattr(views, "TABLE_PAGE_SIZE", 1)  # one row a page
    other = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    thread_services.create_thread(
        factories.create_user(name="Bruno Usager"),
        thread_services.NewThread(
            kind=Q, title="Quelle est la date des relevés ?", body="Bonjour.",
            dataset=factories.create_dataset(title="Cours d'eau de la Nièvre", organisation=other),
        ),
        created_at=datetime(2025, 5, 6, 8, tzinfo=UTC),
    )  # fmt: skip
    db.session.commit()
    page = new_page()
    log_in(page, scene["curator"])
    page.goto(f"/capitalisation?{QUARTER}")
    page.evaluate(f"{MARKER} = true")
    producer_row = page.locator("#producers tbody tr")
    expect(producer_row).to_have_count(0)  # not computed for the first screen
    page.locator("#groups").scroll_into_view_if_needed()
    expect(producer_row).to_have_count(1, timeout=WAIT_MS)
    expect(producer_row.locator("th")).to_have_text(PRODUCER)
    expect(page.locator("#quality tbody tr").first).to_contain_text("Lien mort", timeout=WAIT_MS)
    expect(page.locator("#demand tbody tr")).to_have_count(1, timeout=WAIT_MS)
    # The producers' second page replaces their table in place, the rest of the page staying.
    page.locator("#producers").get_by_role("link", name="Page suivante").click()
    expect(page.locator("#producers")).to_contain_text("Services 2 à 2 sur 2", timeout=WAIT_MS)
    expect(producer_row.locator("th")).to_have_text("DDT de la Nièvre")
    assert page.evaluate(f"{MARKER} === true"), "paging reloaded the page instead of swapping the table"
    assert urlsplit(page.url).path == "/capitalisation"
    expect(page.locator("#demand tbody tr")).to_have_count(1)


def test_without_javascript_each_long_table_is_a_page_of_its_own(new_page, scene):
    page = new_page(java_script_enabled=False)
    log_in(page, scene["curator"])
    page.goto(f"/capitalisation?{QUARTER}&type=quality_issue")
    with page.expect_navigation():
        page.get_by_role("link", name="Voir le tableau des services producteurs").click()
    assert urlsplit(page.url).path == "/capitalisation/services"
    assert _query(page)["type"] == ["quality_issue"]  # the dashboard's filters
    expect(page.get_by_role("heading", level=1)).to_have_text("Services producteurs")
    expect(page.locator("#producers tbody tr th")).to_have_text(PRODUCER)
    expect(page.locator("#producers tbody tr td").first).to_have_text("4")
    with page.expect_navigation():
        page.get_by_role("link", name="Revenir au tableau de bord").first.click()
    assert urlsplit(page.url).path == "/capitalisation"
    expect(_total(page, "threads")).to_have_text("4")


def test_a_report_is_drafted_from_the_dashboard_reworked_in_place_and_published(new_page, scene):
    curator = new_page()
    log_in(curator, scene["curator"])
    curator.goto(f"/capitalisation?{QUARTER}")
    with curator.expect_navigation():
        curator.get_by_role("link", name="Créer un rapport avec ces filtres").click()
    assert urlsplit(curator.url).path == "/rapports/nouveau"
    assert _query(curator) == {"du": ["2025-04-01"], "au": ["2025-06-30"]}
    curator.get_by_label("Titre du rapport").fill("Zones humides du Loiret, deuxième trimestre 2025")
    with curator.expect_navigation():
        curator.get_by_role("button", name="Créer le brouillon").click()
    expect(curator.get_by_role("heading", level=1)).to_have_text("Zones humides du Loiret, deuxième trimestre 2025")
    report_path = urlsplit(curator.url).path
    expect(curator.locator(".report-header .fr-badge")).to_have_text("Brouillon")

    recommendations = curator.locator("#recommandations li.recommendation")
    titles = curator.locator("#recommandations li.recommendation h3")
    expect(titles).to_have_text([DEAD_LINKS, DICTIONARIES])
    curator.evaluate(f"{MARKER} = true")

    # Edit the second one in place.
    second = recommendations.nth(1)
    second.locator("summary", has_text="Modifier").click()
    second.get_by_label("Titre").fill(EDITED_TITLE)
    second.get_by_label("Priorité").select_option(label="Haute")
    second.get_by_role("button", name="Enregistrer").click()
    notice = curator.locator("#recommandations [role='status']")
    expect(notice).to_have_text("La recommandation est modifiée.", timeout=WAIT_MS)
    expect(titles).to_have_text([DEAD_LINKS, EDITED_TITLE])
    expect(recommendations.nth(1).locator(".fr-badge")).to_have_text("Priorité haute")
    # The pressed button went with the swap: the keyboard focus is on the confirmation, not lost on the page.
    expect(notice).to_be_focused()
    assert curator.evaluate(f"{MARKER} === true"), "the edit reloaded the page instead of swapping the list"

    # Move it up, in place.
    recommendations.nth(1).get_by_role("button", name="Monter").click()
    expect(notice).to_have_text("La recommandation est déplacée.", timeout=WAIT_MS)
    expect(titles).to_have_text([EDITED_TITLE, DEAD_LINKS])
    expect(recommendations.nth(0).get_by_role("button", name="Monter")).to_be_disabled()
    assert curator.evaluate(f"{MARKER} === true"), "the move reloaded the page instead of swapping the list"

    # Publish, after confirming in the panel.
    publish = curator.locator("details", has=curator.locator("summary", has_text="Publier le rapport"))
    confirm = publish.get_by_role("button", name="Confirmer la publication")
    expect(confirm).to_be_hidden()
    publish.locator("summary").click()
    with curator.expect_navigation():
        confirm.click()
    expect(curator.get_by_role("status")).to_contain_text("Le rapport est publié")
    expect(curator.locator(".report-header .fr-badge")).to_have_text("Publié")
    expect(curator.get_by_role("button", name="Monter")).to_have_count(0)

    # The public finds it on /reports, with its recommendations as published.
    visitor = new_page()
    visitor.goto("/rapports")
    with visitor.expect_navigation():
        visitor.get_by_role("link", name="Zones humides du Loiret, deuxième trimestre 2025").click()
    assert urlsplit(visitor.url).path == report_path
    expect(visitor.locator("#recommandations li.recommendation h3")).to_have_text([EDITED_TITLE, DEAD_LINKS])
    expect(visitor.get_by_role("button", name="Enregistrer")).to_have_count(0)

    # The printable page: the report without its buttons, and a print stylesheet that hides the site's header.
    with visitor.expect_navigation():
        visitor.get_by_role("link", name="Version imprimable").click()
    assert urlsplit(visitor.url).path == f"{report_path}/impression"
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Zones humides du Loiret, deuxième trimestre 2025")
    expect(visitor.locator("#recommandations li.recommendation h3")).to_have_text([EDITED_TITLE, DEAD_LINKS])
    expect(visitor.get_by_role("link", name="Version imprimable")).to_have_count(0)
    expect(visitor.locator("header.fr-header")).to_be_visible()
    visitor.emulate_media(media="print")
    expect(visitor.locator("header.fr-header")).to_be_hidden()


def test_the_charts_stay_legible_on_a_375_px_screen(scene, new_page, live_server):
    """On a phone: no chart wider than the screen, every label and value at least 12 px high and inside its
    chart, long labels wrapped rather than cut."""
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/capitalisation?{QUARTER}")

    charts = page.locator("figure.chart")
    expect(charts).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    problems = page.evaluate(
        """() => {
            const found = [];
            for (const chart of document.querySelectorAll('figure.chart')) {
                const box = chart.getBoundingClientRect();
                if (box.right > window.innerWidth + 1) found.push('chart wider than the screen');
                for (const text of chart.querySelectorAll('.chart__label, .chart__value')) {
                    const size = parseFloat(getComputedStyle(text).fontSize);
                    const r = text.getBoundingClientRect();
                    if (size < 12) found.push(`${text.textContent}: ${size}px`);
                    if (r.left < box.left - 1 || r.right > box.right + 1) found.push(`${text.textContent} outside`);
                }
            }
            return found;
        }"""
    )
    assert problems == []
