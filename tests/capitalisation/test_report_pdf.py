"""A published report as a PDF (WeasyPrint): A4 pages, numbered, the title and date on each, and every column
heading and every producer of the report in its text (read back with pdftotext, from poppler-utils)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedback.accounts.models import Role
from feedback.capitalisation import services
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind

from .. import factories
from ..pdf_text import is_landscape, page_sizes, pages_text
from .conftest import QUARTER

# The column headings of the producers' table, the widest of a report.
PRODUCER_HEADINGS = [
    "Service",
    "Reçus",
    "Avec réponse",
    "Délai médian (jours ouvrés)",
    "9e décile (jours ouvrés)",
    "Résolus",
    "Refusés",
    "Demandes de données",
    "En retard (R124-1)",
    "Délai moyen data.gouv.fr (jours)",
]


def pdf_text(pdf: bytes, tmp_path) -> list[str]:
    source = tmp_path / "rapport.pdf"
    source.write_bytes(pdf)
    return pages_text(source)


@pytest.fixture
def curator(capi):
    return factories.create_user(name="Céline Curatrice", role=Role.CURATOR)


@pytest.fixture
def published(capi, curator):
    report = services.create_report(
        curator, "Bilan du deuxième trimestre", QUARTER, now=datetime(2025, 7, 2, tzinfo=UTC)
    )
    services.publish_report(report, curator, now=datetime(2025, 7, 3, 9, tzinfo=UTC))
    db.session.commit()
    return report


def test_a_published_report_downloads_as_a_numbered_a4_pdf(client, capi, published, tmp_path):
    response = client.get(f"/rapports/{published.slug}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{published.slug}.pdf"' in response.headers["Content-Disposition"]
    pages = pdf_text(response.data, tmp_path)
    assert 1 <= len(pages) <= 6, len(pages)  # sections follow each other, not one a page
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in page
        assert "Bilan du deuxième trimestre" in page  # the title on every page
        assert "3 juillet 2025" in page  # and the date of publication
    (tmp_path / "rapport.pdf").write_bytes(response.data)
    sizes = page_sizes(tmp_path / "rapport.pdf")
    assert all("(A4)" in size for size in sizes), sizes
    assert any(is_landscape(size) for size in sizes), sizes  # the producers' table on a landscape page


def test_every_column_and_every_producer_is_in_the_pdf(client, capi, published, tmp_path):
    text = " ".join(" ".join(pdf_text(client.get(f"/rapports/{published.slug}.pdf").data, tmp_path)).split())

    for heading in PRODUCER_HEADINGS:
        assert heading in text, heading
    for producer in (capi.p1, capi.p2):
        assert producer.name in text


def test_a_wide_report_is_not_clipped(client, db, capi, curator, tmp_path):
    """Twenty producers with long names: each one and each column still in the text."""
    names = [f"Direction départementale des territoires et de la mer numéro {n}" for n in range(20)]
    author = factories.create_user(name="Alice Usagère")
    for name in names:
        thread_services.create_thread(
            author,
            thread_services.NewThread(
                kind=ThreadKind.QUESTION,
                title="Une question",
                body="Bonjour.",
                organisation=factories.create_organisation(name=name),
            ),
            created_at=datetime(2025, 5, 1, 9, tzinfo=UTC),
        )
    report = services.create_report(curator, "Bilan national", QUARTER, now=datetime(2025, 7, 2, tzinfo=UTC))
    services.publish_report(report, curator, now=datetime(2025, 7, 3, tzinfo=UTC))
    db.session.commit()

    text = " ".join(" ".join(pdf_text(client.get(f"/rapports/{report.slug}.pdf").data, tmp_path)).split())

    for heading in PRODUCER_HEADINGS:
        assert heading in text, heading
    for name in names:
        assert name in text, name
