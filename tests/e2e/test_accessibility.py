"""axe-core (WCAG 2.0 and 2.1, levels A and AA) on every kind of page, as the browser renders it.

A test fails on any violation of impact "serious" or "critical" and prints, for each, the rule, its
impact, its help text and the selectors of the offending elements. The rule set is not trimmed: a real
violation is fixed in the templates, not hidden here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.accounts.models import Role
from feedback.capitalisation import services as report_services
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind, ThreadStatus
from tests import factories

from .conftest import log_in

AXE_SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING_IMPACTS = {"serious", "critical"}

# How axe gets into the page. The application sends `Content-Security-Policy: script-src 'self'`, so
# `page.add_script_tag(path=...)` (an inline <script>) would be blocked. Two ways around it:
# `bypass_csp=True` on the context, or `page.evaluate(AXE_SOURCE)`. We use the latter: Playwright runs
# the source through the DevTools protocol, which the page's CSP does not govern, so the page keeps the
# policy it really has and is audited exactly as a visitor gets it (bypass_csp would also drop the
# policy for the application's own scripts and could hide a page that only works without it).
RUN_AXE = """async (options) => {
  const results = await axe.run(document, options);
  const violations = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
  }));
  return { version: axe.version, passes: results.passes.length, violations };
}"""


@pytest.fixture
def catalogue(live_server):
    organisation = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    dataset = factories.create_dataset(
        title="Zones inondables du Loiret",
        organisation=organisation,
        description="Atlas des **zones inondables** de la Loire.\n\n- crues de référence\n- aléas",
        tags=["inondation", "risque"],
        territories=["D45"],
    )
    factories.create_dataset(
        title="Haies bocagères du Loiret", organisation=organisation, description="Inventaire des haies."
    )
    return {"organisation": organisation.slug, "dataset": dataset.catalogue_id}


def _signup_with_errors(page) -> None:
    # As a person would get it: some fields right, some wrong, some forgotten.
    page.goto("/inscription")
    page.get_by_label("Prénom et nom").fill("Dominique Lefèvre")
    page.get_by_label("Adresse électronique").fill("pas-une-adresse")
    page.get_by_label("Nom de votre organisation").fill("Hydro-Conseil")
    page.locator("#password").fill("court")
    with page.expect_navigation():
        page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient")


# The capitalisation pages, over threads of the second quarter of 2025: two dead links on one producer's
# dataset (a recommendation is drafted from them), a data request, and a restricted one (curators only).
QUARTER = Scope(date_from=date(2025, 4, 1), date_to=date(2025, 6, 30))
QUARTER_ARGS = "du=2025-04-01&au=2025-06-30"
QUARTER_THREADS = [
    (ThreadKind.QUALITY_ISSUE, "Lien de téléchargement mort", "dead_link", False, datetime(2025, 4, 10, 8, tzinfo=UTC)),
    (
        ThreadKind.QUALITY_ISSUE,
        "Le service WFS ne répond plus",
        "dead_link",
        False,
        datetime(2025, 5, 12, 8, tzinfo=UTC),
    ),
    (ThreadKind.DATA_REQUEST, "Demande de l'historique des crues", None, False, datetime(2025, 5, 20, 8, tzinfo=UTC)),
    (ThreadKind.DATA_REQUEST, "Demande des relevés non publiés", None, True, datetime(2025, 6, 3, 8, tzinfo=UTC)),
]


def _open(page, path: str, *, all_details: bool = False) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    if all_details:
        # What a curator unfolds (data tables, edit forms) is audited too: axe leaves closed panels out.
        page.locator("main details").evaluate_all("panels => panels.forEach((panel) => { panel.open = true; })")


def _quarter_threads():
    """The threads of the quarter and a curator, who is returned."""
    producer = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    dataset = factories.create_dataset(title="Cours d'eau de la Nièvre", organisation=producer)
    author = factories.create_user(name="Alice Usagère")
    for kind, title, category, restricted, received in QUARTER_THREADS:
        thread_services.create_thread(
            author,
            thread_services.NewThread(
                kind=kind,
                title=title,
                body="Bonjour, voici ma demande.",
                dataset=dataset,
                quality_category=category,
                restricted=restricted,
            ),
            created_at=received,
        )
    curator = factories.create_user(name="Céline Curatrice", role=Role.CURATOR)
    db.session.commit()
    return curator


def _report_path(curator, *, published: bool) -> str:
    report = report_services.create_report(curator, "Bilan du deuxième trimestre 2025", QUARTER)
    assert report.recommendations, "the scene should draft a recommendation"
    if published:
        report_services.publish_report(report, curator)
    db.session.commit()
    return f"/rapports/{report.slug}"


def _dashboard(page) -> None:
    _quarter_threads()
    _open(page, f"/capitalisation?{QUARTER_ARGS}")


def _dashboard_as_curator(page) -> None:
    curator = _quarter_threads()
    log_in(page, curator.email)
    _open(page, f"/capitalisation?{QUARTER_ARGS}&restreints=1")
    # The long tables, loaded in their places as they are scrolled to, are audited too.
    for section in ("producers", "quality", "demand", "groups"):
        # By id at the moment of the scroll: a section revealed with the one before it may be swapped meanwhile.
        page.evaluate("id => document.getElementById(id).scrollIntoView()", section)
        page.locator(f"#{section}-link").wait_for(state="detached")
    page.locator("main details").evaluate_all("panels => panels.forEach((panel) => { panel.open = true; })")


def _dashboard_table(page) -> None:
    _quarter_threads()
    _open(page, f"/capitalisation/qualite?{QUARTER_ARGS}")


def _published_report(page) -> None:
    _open(page, _report_path(_quarter_threads(), published=True))


def _draft_report(page) -> None:
    curator = _quarter_threads()
    path = _report_path(curator, published=False)
    log_in(page, curator.email)
    _open(page, path, all_details=True)


def _mail_preferences(page) -> None:
    log_in(page, factories.create_user(name="Dominique Lefèvre").email)
    _open(page, "/notifications/preferences")


def _own_threads():
    """A member of a producer who also asks other services: one thread of theirs waits for their details, one is
    open, one is closed; one request waits in their service's inbox. The member is returned."""
    home_service = factories.create_organisation(name="DDT du Cher", territory_code="D18")
    other = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    dataset = factories.create_dataset(title="Cours d'eau de la Nièvre", organisation=other)
    member = factories.create_user(name="Marc Membre-DDT", organisation=home_service)
    answering = factories.create_user(name="Nadia Nièvre", organisation=other)
    requester = factories.create_user(name="Alice Usagère")
    threads = [
        thread_services.create_thread(
            member,
            thread_services.NewThread(kind=ThreadKind.DATA_REQUEST, title=title, body="Bonjour.", dataset=dataset),
        )
        for title in ("Historique des débits", "Tracé des cours d'eau en 2020", "Stations de mesure")
    ]
    thread_services.ask_details(threads[0], answering, "Sur quelle période ?")
    thread_services.change_status(threads[2], answering, ThreadStatus.RESOLVED)
    home_dataset = factories.create_dataset(title="Zones humides du Cher", organisation=home_service)
    thread_services.create_thread(
        requester,
        thread_services.NewThread(
            kind=ThreadKind.DATA_REQUEST,
            title="Zones humides en format GeoPackage",
            body="Bonjour.",
            dataset=home_dataset,
        ),
    )
    db.session.commit()
    return member


def _my_threads(page) -> None:
    log_in(page, _own_threads().email)
    _open(page, "/mes-fils")


def _home_signed_in(page) -> None:
    log_in(page, _own_threads().email)
    _open(page, "/")
    expect(page.get_by_role("heading", name="Ce qui vous attend")).to_be_visible()


def _dataset_to_choose(page) -> None:
    """The new-thread form back with the datasets of one title to choose from."""
    for name, code in (("DDT du Cher", "D18"), ("DDT de la Nièvre", "D58")):
        factories.create_dataset(
            title="Zones humides effectives",
            organisation=factories.create_organisation(name=name, territory_code=code),
            territories=[code],
        )
    log_in(page, factories.create_user(name="Claire Consultante").email)
    _open(page, "/fils/nouveau?type=data_request")
    page.get_by_label(re.compile(r"^Jeu de données\b")).fill("Zones humides effectives")
    with page.expect_navigation():
        page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("radio")).to_have_count(2)


PAGES = {
    "accueil": "/",
    "catalogue": "/jeux-de-donnees",
    "catalogue-recherche": "/jeux-de-donnees?q=inondables",
    "jeu-de-donnees": "/jeux-de-donnees/{dataset}",
    "producteurs": "/organisations",
    "producteur": "/organisations/{organisation}",
    "connexion": "/connexion",
    "inscription": "/inscription",
    "inscription-erreurs": _signup_with_errors,
    "page-introuvable": "/cette-page-n-existe-pas",
    "mot-de-passe-oublie": "/mot-de-passe/oubli",
    "preferences-courriels": _mail_preferences,
    "mes-fils": _my_threads,
    "accueil-connecte": _home_signed_in,
    "nouveau-fil-jeu-a-choisir": _dataset_to_choose,
    "capitalisation": _dashboard,
    "capitalisation-administrateur": _dashboard_as_curator,
    "capitalisation-tableau": _dashboard_table,
    "rapport-publie": _published_report,
    "rapport-brouillon": _draft_report,
}


def _format(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(node['target'])}    {node['html'][:160]}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violation(page, catalogue, name):
    target = PAGES[name]
    if callable(target):
        target(page)
    else:
        response = page.goto(target.format(**catalogue))
        assert response is not None
        assert response.status == (404 if name == "page-introuvable" else 200)
    if name == "catalogue-recherche":
        expect(page.locator("#results .dataset-list__item")).to_have_count(1)
    # Audit the page as DSFR's JavaScript leaves it (it adds attributes and states to components).
    expect(page.locator("html[data-fr-js='true']")).to_have_count(1)

    page.evaluate(AXE_SOURCE)
    results = page.evaluate(RUN_AXE, AXE_OPTIONS)
    assert results["passes"] > 0, "axe checked nothing: was it loaded into the page?"
    violations = results["violations"]

    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    others = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
    if others:
        print(f"{name} ({page.url}) — minor or moderate, not blocking:\n{_format(others)}")
    assert not blocking, f"{name} ({page.url}):\n{_format(blocking)}"
