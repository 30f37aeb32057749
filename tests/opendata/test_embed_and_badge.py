"""The embed and the badge of a dataset (feedback/opendata/views.py): what they show, public content only, the
framing policy of the embed, the badge's cache, a neutral answer for an unknown identifier, and the snippet of
the dataset page."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import event

from feedback.extensions import db
from tests.threads.conftest import page_text

from .conftest import assert_nothing_closed

UNKNOWN = "0123456789abcdef01234567"


def test_the_embed_shows_open_threads_by_kind_the_answer_record_and_the_buttons(web, scene, content):
    response = web.get(f"/embed/datasets/{scene.dataset.catalogue_id}")

    assert response.status_code == 200
    text = page_text(response)
    assert "Question : 1" in text
    assert "Signalement qualité" not in text  # resolved: not open
    assert "Source des zones inondables" in text
    # Both public threads reached the Loiret; both were answered (a response, a closing by the service).
    assert re.search(r"2 fils répondus sur 2 reçus \(100 %\) ; première réponse en 0 jour ouvré \(médiane\)", text)
    html = response.get_data(as_text=True)
    report = re.search(r'<a class="fr-btn fr-btn--sm" href="([^"]+)"[^>]*>Signaler un problème</a>', html)
    ask = re.search(r'fr-btn--secondary" href="([^"]+)"[^>]*>Demander des données</a>', html)
    assert report and ask
    assert report.group(1).endswith(f"/fils/nouveau?type=quality_issue&amp;jeu={scene.dataset.catalogue_id}")
    assert ask.group(1).endswith(f"/fils/nouveau?type=data_request&amp;jeu={scene.dataset.catalogue_id}")
    assert report.group(1).startswith("http")
    assert 'target="_blank"' in report.group(0)
    assert "<script" not in html
    assert_nothing_closed(html)


def test_the_embed_takes_every_identifier_of_the_resolver(web, scene, content, db):
    scene.dataset.geoide_record_id = "fr-120066022-jdd-0b4b8e8e-2c5d-4b1f-9a1e-3f5f2b2a7c11"
    db.session.commit()
    for identifier in (
        scene.dataset.slug,
        "fr-120066022-jdd-0b4b8e8e-2c5d-4b1f-9a1e-3f5f2b2a7c11",
        f"https://www.data.gouv.fr/fr/datasets/{scene.dataset.catalogue_id}/",
    ):
        response = web.get(f"/embed/datasets/{quote(identifier, safe='')}")
        assert "Source des zones inondables" in page_text(response), identifier


@pytest.mark.parametrize("identifier", [UNKNOWN, "pas un identifiant !", "jeu-inconnu"])
def test_an_unknown_dataset_gets_a_neutral_embed_and_a_neutral_badge(web, db, identifier):
    embed = web.get(f"/embed/datasets/{identifier}")
    assert embed.status_code == 200
    assert "pas suivi sur la plateforme" in page_text(embed)

    badge = web.get(f"/badge/datasets/{identifier}.svg")
    assert badge.status_code == 200
    assert badge.mimetype == "image/svg+xml"
    assert "jeu inconnu" in badge.get_data(as_text=True)


def test_the_embed_is_framable_by_the_configured_origins_alone(web, app, monkeypatch, scene):
    monkeypatch.setitem(
        app.config, "FEEDBACK_EMBED_ORIGINS", "https://ecologie.data.gouv.fr, https://www.data.gouv.fr/, javascript:x"
    )
    embed = web.get(f"/embed/datasets/{scene.dataset.catalogue_id}")
    policy = dict(part.strip().split(" ", 1) for part in embed.headers["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "https://ecologie.data.gouv.fr https://www.data.gouv.fr"
    assert policy["script-src"] == "'self'"
    assert "X-Frame-Options" not in embed.headers

    # Every other page is still framed by no one.
    page = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    monkeypatch.setitem(app.config, "FEEDBACK_EMBED_ORIGINS", "")
    alone = web.get(f"/embed/datasets/{scene.dataset.catalogue_id}")
    assert "frame-ancestors 'none'" in alone.headers["Content-Security-Policy"]


def test_the_badge_counts_open_public_threads_with_an_etag(web, scene, content):
    url = f"/badge/datasets/{scene.dataset.catalogue_id}.svg"
    first = web.get(url)

    assert first.status_code == 200
    svg = first.get_data(as_text=True)
    assert svg.startswith("<svg") and "1 fil ouvert" in svg  # the question; not the restricted, hidden or held ones
    assert first.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    etag = first.headers["ETag"]

    again = web.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""

    from tests.threads.conftest import post_thread

    post_thread(scene.other_user, title="Une autre question", dataset=scene.dataset)
    changed = web.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "2 fils ouverts" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_badge_and_embed_read_a_bounded_number_of_queries(web, app, scene, content):
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        web.get(f"/badge/datasets/{scene.dataset.catalogue_id}.svg")
        badge_queries = len(statements)
        statements.clear()
        web.get(f"/embed/datasets/{scene.dataset.catalogue_id}")
        embed_queries = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert badge_queries <= 3
    assert embed_queries <= 8


def test_the_dataset_page_shows_the_snippet_to_paste(web, scene):
    response = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
    html = response.get_data(as_text=True)

    assert "Afficher ces retours sur un autre site" in html
    assert f'&lt;iframe src="http://localhost/embed/datasets/{scene.dataset.catalogue_id}"' in html
    assert f'&lt;img src="http://localhost/badge/datasets/{scene.dataset.catalogue_id}.svg"' in html
