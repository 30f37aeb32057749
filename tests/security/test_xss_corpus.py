"""The XSS corpus (xss_payloads.py, over a hundred payloads) through every place where user or catalogue text is
shown: thread titles, messages and internal notes (markdown, links, images), people's and organisations' names,
dataset titles and descriptions as the catalogue import stores them, report titles, summaries and
recommendations, the Atom feeds, the notification mails (text and HTML) and the Markdown export.

Each page is read by a real HTML parser (executable.py): no script but the platform's own files, no event
handler, no script or data URL, no frame, plugin, SVG or meta refresh. Where text is shown as text (a title, a
name), the payload must be shown literally: escaped, neither run nor dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree  # nosec B405 — parses the platform's own feeds

import comrak
import pytest
import sqlalchemy as sa

from feedback.accounts.models import Membership, User
from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.mail.models import OutgoingMail
from feedback.notifications.mails import prepare_mails
from feedback.threads.models import Thread

from ..threads.conftest import html, page_text
from .executable import executable_constructs
from .test_findings import FORMULA_STARTS, csv_cells
from .xss_payloads import PAYLOADS

ATOM = "{http://www.w3.org/2005/Atom}"


def shown(payload: str) -> str:
    """The payload as a page shows it as text: white space collapsed."""
    return " ".join(payload.split())


def shown_in_xml(payload: str) -> str:
    """The payload as a feed carries it: without the control characters XML 1.0 cannot hold."""
    return shown(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", payload))


def assert_inert(response, where: str) -> None:
    assert response.status_code == 200, where
    found = executable_constructs(html(response))
    assert found == [], f"{where}: {found}"


def test_thread_pages_titles_messages_notes_and_names_run_nothing(web, scene, hostile):
    web.sign_in(scene.curator)
    for thread in hostile:
        response = web.get(f"/fils/{thread.id}")
        assert_inert(response, f"/fils/{thread.id}")
        text = page_text(response)
        assert shown(thread.title) in text, thread.title
        assert f"{shown(thread.title)} {PAYLOADS.index(thread.title)}" in text  # the organisation's name


@pytest.mark.parametrize("role", ["anonymous", "curator"])
def test_lists_home_and_searches_run_nothing(web, scene, hostile, role):
    web.sign_in(scene.curator if role == "curator" else None)
    for url in ("/", "/fils", "/fils?q=script", "/fils?q=img", "/jeux-de-donnees", "/organisations", "/rapports"):
        response = web.get(url)
        assert_inert(response, url)
    listed = page_text(web.get("/fils"))
    assert [payload for payload in PAYLOADS if shown(payload) not in listed] == []


def test_the_signed_in_pages_of_a_member_run_nothing(web, scene, hostile):
    thread = db.session.get(Thread, hostile[0].id)
    member = db.session.scalars(
        sa.select(User).join(Membership).where(Membership.organisation_id == thread.organisation_id)
    ).one()
    for person in (member, thread.author):
        web.sign_in(person)
        for url in ("/mes-fils", "/boite-de-reception", "/notifications", "/compte"):
            assert_inert(web.get(url), f"{url} as {person.email}")


def test_dataset_and_organisation_pages_run_nothing(web, scene, hostile):
    web.sign_in(scene.curator)
    for thread in hostile:
        dataset_page = web.get(f"/jeux-de-donnees/{thread.dataset.catalogue_id}")
        assert_inert(dataset_page, f"dataset of {thread.title!r}")
        assert shown(thread.dataset.title) in page_text(dataset_page)
        organisation_page = web.get(f"/organisations/{thread.organisation.slug}")
        assert_inert(organisation_page, f"organisation of {thread.title!r}")
        assert shown(thread.organisation.name) in page_text(organisation_page)


def _atom_entries(response) -> list:
    assert response.status_code == 200
    root = ElementTree.fromstring(response.data)  # nosec B314 — the platform's own feed
    return root.findall(f"{ATOM}entry")


def _assert_feed_inert(response, where: str) -> list[str]:
    titles = []
    for entry in _atom_entries(response):
        titles.append(entry.findtext(f"{ATOM}title") or "")
        for element in entry.iter():
            if element.get("type") == "html":
                found = executable_constructs(element.text or "")
                assert found == [], f"{where}: {found}"
    return titles


def test_feeds_carry_titles_as_text_and_run_nothing(web, scene, hostile):
    titles = _assert_feed_inert(web.get("/fils/flux.atom"), "/fils/flux.atom")
    assert len(titles) == 50
    assert [title for title in titles if shown(title) not in {shown_in_xml(payload) for payload in PAYLOADS}] == []
    for thread in hostile:
        _assert_feed_inert(web.get(f"/fils/{thread.id}/flux.atom"), f"feed of thread {thread.id}")
        _assert_feed_inert(web.get(f"/jeux-de-donnees/{thread.dataset.catalogue_id}/flux.atom"), "dataset feed")
        _assert_feed_inert(web.get(f"/organisations/{thread.organisation.slug}/flux.atom"), "organisation feed")


def test_notification_mails_run_nothing(scene, hostile):
    prepare_mails()
    db.session.commit()
    mails = list(db.session.scalars(sa.select(OutgoingMail)))

    assert len(mails) >= len(PAYLOADS)
    for mail in mails:
        assert mail.html_body, mail.subject
        found = executable_constructs(mail.html_body)
        assert found == [], f"{mail.subject}: {found}"
        assert "\x00" not in mail.text_body
    subjects = " ".join(mail.subject for mail in mails) + " ".join(mail.text_body for mail in mails)
    assert [p for p in PAYLOADS if "\n" not in p and p not in subjects] == []


def test_reports_and_their_markdown_export_run_nothing(web, scene, hostile):
    report = reports.create_report(scene.curator, "Bilan <script>alert(1)</script>", Scope(), summary=PAYLOADS[0])
    for payload in PAYLOADS:
        reports.add_recommendation(report, title=payload[:200], text=payload)
    draft = report.slug
    published = reports.create_report(scene.curator, "Bilan publié", Scope(), summary="\n\n".join(PAYLOADS))
    for payload in PAYLOADS:
        reports.add_recommendation(published, title=payload[:200], text=payload)
    reports.publish_report(published, scene.curator)
    db.session.commit()

    web.sign_in(scene.curator)
    for url in (f"/rapports/{draft}", f"/rapports/{draft}/impression", f"/rapports/{published.slug}", "/rapports"):
        assert_inert(web.get(url), url)
    assert "Bilan <script>alert(1)</script>" in page_text(web.get(f"/rapports/{draft}"))
    web.sign_in(None)
    assert_inert(web.get(f"/rapports/{published.slug}"), "published report, anonymous")

    zipped = web.get(f"/rapports/{published.slug}.csv.zip")
    cells = csv_cells(zipped.data)
    assert [cell for table in cells.values() for cell in table if cell.startswith(FORMULA_STARTS)] == []
    assert [payload for payload in PAYLOADS if payload.startswith(FORMULA_STARTS)] != []
    assert [p for p in PAYLOADS if p.startswith(FORMULA_STARTS) and f"'{p}" not in cells["recommendations.csv"]] == []

    options = comrak.RenderOptions()
    options.unsafe_ = True
    for slug in (draft, published.slug):
        web.sign_in(scene.curator)
        markdown = web.get(f"/rapports/{slug}.md").get_data(as_text=True)
        found = executable_constructs(comrak.render_markdown(markdown, render_options=options))
        assert found == [], f"{slug}.md: {found}"


def test_the_parser_would_see_the_payloads_if_they_reached_a_page_unescaped():
    """The check can fail: put into a page as they are, the HTML payloads are found."""
    raw = [payload for payload in PAYLOADS if executable_constructs(f"<main>{payload}</main>")]

    assert len(raw) >= 60
    assert "<script>alert(1)</script>" in raw
    assert "<svg onload=confirm`1`>" in raw
    assert "<IMG SRC=javascript:prompt(document.domain)>" in raw
