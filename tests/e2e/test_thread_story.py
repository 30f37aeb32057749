"""A quality issue from end to end, in Chromium: a consultant finds a real dataset of the catalogue and
reports a dead link; a member of its producer (DDT Aisne) answers from the inbox and resolves the thread,
each action changing the thread in place; anyone can then read the thread and its history. The reply
form also works without JavaScript.

Only the setup is Python: the small real export of the catalogue, and two accounts. Everything else is
done as a person would, through the pages.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from feedback.accounts.services import find_organisation, find_user_by_email
from feedback.catalogue.resolver import resolve_dataset
from feedback.catalogue.services import import_catalogue
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind
from tests import factories

from .conftest import log_in

DATASET_ID = "67377126c48b675e7cc25368"
DATASET_TITLE = "N_BRUIT_ZBR_INFRA_F_C_LN_S_002"
DDT_AISNE_DATAGOUV_ID = "58ad720388ee381d53318fb0"

THREAD_TITLE = "Lien de téléchargement en erreur 404"
THREAD_BODY = (
    "Bonjour,\n\nLe lien de téléchargement du **shapefile** renvoie une erreur 404 depuis ce matin.\n\n"
    "- ressource : zone de bruit, voie ferrée\n- navigateur : Firefox"
)
ANSWER = "Merci pour votre signalement : le serveur de diffusion est en maintenance, nous rétablissons le lien."
RESOLUTION = "Le lien de téléchargement est rétabli, le fichier est de nouveau accessible."

MARKER = "window.__e2eSamePage"
# Playwright's `expect` waits 5 s by default; an htmx round trip on a loaded machine may need more.
WAIT_MS = 10_000


@pytest.fixture
def story(live_server, small_export):
    """The real dataset of DDT Aisne, imported from the small export; a consultant and a DDT member."""
    import_catalogue([small_export])
    db.session.commit()
    organisation = find_organisation(DDT_AISNE_DATAGOUV_ID)
    assert organisation is not None and organisation.name == "DDT Aisne"
    consultant = factories.create_user(name="Claire Consultante", email="claire.consultante@exemple.fr")
    member = factories.create_user(name="Marc Membre-DDT", email="marc.membre@aisne.gouv.fr", organisation=organisation)
    return {
        "consultant": consultant.email,
        "member": member.email,
        "member_name": member.name,
        "consultant_name": consultant.name,
        "organisation": organisation.name,
    }


def _watch(page, problems: list[str]) -> None:
    """Collect uncaught exceptions and console errors (a CSP violation is one)."""
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught exception: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: console error: {message.text}") if message.type == "error" else None
        ),
    )


def _mark_page(page) -> None:
    """A marker on `window`: it survives an htmx swap and is lost by any full page load."""
    page.evaluate(f"{MARKER} = true")


def _same_page(page) -> bool:
    return page.evaluate(f"{MARKER} === true")


def _status_badge(page):
    return page.locator("#thread-status .fr-badge")


def _timeline(page):
    return page.get_by_role("list", name="Historique du fil").locator(":scope > li")


def _official_message(page, text: str):
    return page.locator("li.timeline__message--official", has_text=text)


def _check_timeline(page, actions: list[list[tuple[str, str]]]) -> None:
    """The timeline holds exactly the items of `actions`, action after action.

    An action's items (a message and the event it goes with) share one timestamp, so only their
    grouping is checked, not their order within the action."""
    texts = [" ".join(t.split()) for t in _timeline(page).all_inner_texts()]
    listing = "\n".join(f"{i}. {item}" for i, item in enumerate(texts))
    expected = sum(len(items) for items in actions)
    assert len(texts) == expected, f"{len(texts)} timeline items, {expected} expected:\n{listing}"
    start = 0
    for items in actions:
        for name, text in items:
            found = [i for i, item in enumerate(texts) if text in item]
            assert len(found) == 1, f"{name}: {len(found)} timeline items contain {text!r}:\n{listing}"
            assert start <= found[0] < start + len(items), f"{name} out of order:\n{listing}"
        start += len(items)


def test_a_dead_link_is_reported_answered_and_resolved(new_page, story):
    problems: list[str] = []

    # The consultant finds the dataset in the catalogue and reports the dead link. ---------------------
    consultant = new_page()
    _watch(consultant, problems)
    log_in(consultant, story["consultant"])
    consultant.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Catalogue").click()
    expect(consultant).to_have_url(re.compile(r"/jeux-de-donnees$"))
    consultant.locator("#q").press_sequentially("BRUIT")
    expect(consultant.locator("#results-count")).to_have_text(
        re.compile(r"\d+ jeux? de données pour « BRUIT »"), timeout=WAIT_MS
    )
    with consultant.expect_navigation():
        consultant.locator("#results").get_by_role("link", name=DATASET_TITLE, exact=True).click()
    expect(consultant).to_have_url(re.compile(rf"/jeux-de-donnees/{DATASET_ID}$"))
    expect(consultant.get_by_role("heading", level=1)).to_have_text(DATASET_TITLE)
    expect(consultant.locator("main")).to_contain_text(f"Produit par {story['organisation']}")

    with consultant.expect_navigation():
        consultant.get_by_role("link", name="Signaler un problème", exact=True).click()
    expect(consultant.get_by_role("heading", level=1)).to_have_text("Signaler un problème de qualité")
    # The dataset comes with the link: the field names it by its title and producer, never a bare id.
    expect(consultant.get_by_label(re.compile(r"^Jeu de données\b"))).to_have_value(
        f"{DATASET_TITLE} — {story['organisation']}"
    )
    expect(consultant.locator("#new-thread-form")).to_contain_text(
        f"Jeu de données : {DATASET_TITLE} — {story['organisation']}"
    )
    consultant.get_by_label("Nature du problème").select_option(label="Lien mort ou service indisponible")
    consultant.get_by_label(re.compile(r"^Titre\b")).fill(THREAD_TITLE)
    consultant.get_by_label(re.compile(r"^Votre message\b")).fill(THREAD_BODY)

    consultant.get_by_role("button", name="Prévisualiser").click()
    preview = consultant.locator("#preview")
    expect(preview.locator("strong")).to_have_text("shapefile", timeout=WAIT_MS)
    expect(preview.get_by_role("listitem")).to_have_count(2)
    expect(preview).not_to_contain_text("**")

    with consultant.expect_navigation():
        consultant.get_by_role("button", name="Publier").click()
    expect(consultant).to_have_url(re.compile(r"/fils/\d+$"))
    thread_path = urlsplit(consultant.url).path
    expect(consultant.get_by_role("status")).to_contain_text("Votre message est publié")
    expect(consultant.get_by_role("heading", level=1)).to_have_text(THREAD_TITLE)
    expect(_status_badge(consultant)).to_have_text("Nouveau")
    facts = consultant.get_by_role("complementary", name="Informations et actions")
    expect(facts).to_contain_text(story["organisation"])
    expect(facts.get_by_role("link", name=DATASET_TITLE)).to_be_visible()
    expect(facts).to_contain_text("Lien mort ou service indisponible")
    expect(consultant.locator(".timeline .message-body strong")).to_have_text("shapefile")

    # The DDT member finds it in the inbox and answers, in place. -------------------------------------
    member = new_page()
    _watch(member, problems)
    log_in(member, story["member"])
    with member.expect_navigation():
        member.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Boîte de réception").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    tabs = member.get_by_role("navigation", name="Catégories de fils")
    expect(tabs.locator("[aria-current='page']")).to_have_text("À traiter (1)")
    to_do = member.get_by_role("region", name="À traiter")
    expect(to_do.get_by_role("heading", level=2)).to_have_text("À traiter")
    with member.expect_navigation():
        to_do.get_by_role("link", name=THREAD_TITLE).click()
    assert urlsplit(member.url).path == thread_path
    expect(_status_badge(member)).to_have_text("Nouveau")

    _mark_page(member)
    member.get_by_label(re.compile(r"^Votre réponse\b")).fill(ANSWER)
    member.get_by_role("button", name="Envoyer", exact=True).click()

    answer = _official_message(member, ANSWER)
    expect(answer).to_be_visible(timeout=WAIT_MS)
    expect(answer).to_contain_text(f"{story['member_name']} pour {story['organisation']}")
    expect(answer.get_by_text("Réponse officielle", exact=True)).to_be_visible()
    expect(_status_badge(member)).to_have_text("Pris en compte")
    expect(member.get_by_role("status")).to_have_text("Votre message est publié.")
    # The pressed button is gone with the swap: the keyboard focus lands on the confirmation (WCAG 2.4.3).
    expect(member.get_by_role("status").locator(".fr-alert")).to_be_focused()
    expect(member.get_by_label(re.compile(r"^Votre réponse\b"))).to_have_value("")
    assert _same_page(member), "the reply reloaded the whole page instead of swapping the thread in place"
    assert urlsplit(member.url).path == thread_path

    # ...then resolves it, in place. ---------------------------------------------------------------
    status_panel = member.locator("details.action-panel", has=member.locator("summary", has_text="Changer le statut"))
    status_panel.locator("summary").click()
    status_panel.get_by_label("Nouveau statut").select_option(label="Résolu")
    status_panel.get_by_label("Message au demandeur").fill(RESOLUTION)
    status_panel.get_by_role("button", name="Changer le statut").click()

    expect(_status_badge(member)).to_have_text("Résolu", timeout=WAIT_MS)
    expect(member.get_by_role("status")).to_have_text("Le statut du fil est changé.")
    expect(member.get_by_role("status").locator(".fr-alert")).to_be_focused()
    expect(_official_message(member, RESOLUTION)).to_be_visible()
    assert _same_page(member), "the status change reloaded the whole page instead of swapping the thread in place"
    assert urlsplit(member.url).path == thread_path

    # The history, in order, as the member sees it after the swaps... --------------------------------
    actions = [
        [
            ("opening", f"{story['consultant_name']} a ouvert ce fil"),
            ("first message", "renvoie une erreur 404 depuis ce matin"),
        ],
        [("official answer", ANSWER), ("automatic move", "Le fil passe au statut « Pris en compte »")],
        [
            ("move to resolved", f"{story['member_name']} a passé le fil au statut « Résolu »"),
            ("resolution message", RESOLUTION),
        ],
    ]
    _check_timeline(member, actions)

    # ...as anyone reads it, signed out... ---------------------------------------------------------
    visitor = new_page()
    _watch(visitor, problems)
    visitor.goto(thread_path)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(THREAD_TITLE)
    expect(_status_badge(visitor)).to_have_text("Résolu")
    visitor_answer = _official_message(visitor, ANSWER)
    expect(visitor_answer.get_by_text("Réponse officielle", exact=True)).to_be_visible()
    _check_timeline(visitor, actions)
    expect(visitor.get_by_role("link", name="Se connecter pour répondre")).to_be_visible()
    expect(visitor.get_by_label(re.compile(r"^Votre réponse\b"))).to_have_count(0)
    expect(visitor.locator("summary", has_text="Changer le statut")).to_have_count(0)

    # ...and as the consultant finds it, reloading the page. -----------------------------------------
    consultant.reload()
    expect(_status_badge(consultant)).to_have_text("Résolu")
    expect(_official_message(consultant, ANSWER).get_by_text("Réponse officielle", exact=True)).to_be_visible()
    expect(_official_message(consultant, RESOLUTION)).to_be_visible()
    _check_timeline(consultant, actions)
    expect(consultant.locator("summary", has_text="Changer le statut")).to_have_count(0)

    assert not problems, "\n".join(problems)


def test_the_reply_form_works_without_javascript(new_page, story):
    # Setup: the consultant's report, posted through the service the form uses.
    author = find_user_by_email(story["consultant"])
    thread = thread_services.create_thread(
        author,
        thread_services.NewThread(
            kind=ThreadKind.QUALITY_ISSUE,
            title=THREAD_TITLE,
            body=THREAD_BODY,
            dataset=resolve_dataset(DATASET_ID),
            quality_category="dead_link",
        ),
    )
    db.session.commit()
    thread_path = f"/fils/{thread.id}"

    member = new_page(java_script_enabled=False)
    log_in(member, story["member"])
    member.goto(thread_path)
    expect(_status_badge(member)).to_have_text("Nouveau")

    member.get_by_label(re.compile(r"^Votre réponse\b")).fill(ANSWER)
    with member.expect_response(lambda r: r.request.method == "POST") as posted, member.expect_navigation():
        member.get_by_role("button", name="Envoyer", exact=True).click()
    response = posted.value
    assert urlsplit(response.url).path == f"{thread_path}/messages"
    assert response.status == 303
    assert urlsplit(response.headers["location"]).path == thread_path

    assert urlsplit(member.url).path == thread_path
    expect(member.get_by_role("status")).to_contain_text("Votre message est publié.")
    answer = _official_message(member, ANSWER)
    expect(answer).to_be_visible()
    expect(answer.get_by_text("Réponse officielle", exact=True)).to_be_visible()
    expect(_status_badge(member)).to_have_text("Pris en compte")
    expect(member.get_by_label(re.compile(r"^Votre réponse\b"))).to_have_value("")
