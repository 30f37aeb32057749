"""A published report printed from Chromium (its printable page, as a person prints it): A4 pages, sections
one after the other rather than one a page, the producers' table on a landscape page, every column and every
producer in the text, read back with pdftotext."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedback.accounts.models import Role
from feedback.capitalisation import services
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind
from tests import factories
from tests.pdf_text import is_landscape, page_sizes, pages_text

HEADINGS = ["Service", "Reçus", "Avec réponse", "Résolus", "Refusés", "Demandes de données", "En retard (R124-1)"]


@pytest.fixture
def report(live_server):
    author = factories.create_user(name="Alice Usagère")
    curator = factories.create_user(name="Céline Curatrice", role=Role.CURATOR)
    names = [f"Direction départementale des territoires numéro {n}" for n in range(12)]
    for name in names:
        thread_services.create_thread(
            author,
            thread_services.NewThread(
                kind=ThreadKind.DATA_REQUEST,
                title="Une demande",
                body="Bonjour.",
                organisation=factories.create_organisation(name=name),
            ),
            created_at=datetime(2025, 5, 1, 9, tzinfo=UTC),
        )
    scope = Scope(date_from=datetime(2025, 4, 1).date(), date_to=datetime(2025, 6, 30).date())
    report = services.create_report(curator, "Bilan imprimé", scope, now=datetime(2025, 7, 2, tzinfo=UTC))
    services.publish_report(report, curator, now=datetime(2025, 7, 3, tzinfo=UTC))
    db.session.commit()
    return report, names


def test_the_printable_page_prints_on_few_a4_pages_with_nothing_cut(report, page, tmp_path):
    published, names = report
    page.goto(f"/rapports/{published.slug}/impression")
    path = tmp_path / "impression.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True)

    pages = pages_text(path)
    assert 1 <= len(pages) <= 6, len(pages)
    flat = " ".join(" ".join(pages).split())
    for heading in HEADINGS:  # a heading wraps in its cell: its words are read one line after the other
        assert all(word in flat for word in heading.split()), heading
    for name in names:
        assert name in flat, name
    sizes = page_sizes(path)
    assert all("(A4)" in size for size in sizes), sizes
    assert any(is_landscape(size) for size in sizes), sizes  # the producers' table on a landscape page
