"""A restricted data request and an internal note never show to those who may not see them (DESIGN.md §3):
not in lists, search, counts, the thread page, similar-thread hints, inboxes or the timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from feedback.accounts.models import OrganisationKind
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import Thread, ThreadEvent

from .. import factories
from .conftest import data_request, html, listed_ids, page_text, question

ACTORS = ["anonymous", "other_user", "author", "member", "other_producer", "curator"]
# Who sees the restricted request: its author, the target organisation, the curators.
SEES_RESTRICTED = {"author", "member", "curator"}
# Who sees internal notes: the target organisation and the curators.
SEES_INTERNAL = {"member", "curator"}

NOTE = "Attendre le retour du bureau hydrographie avant de répondre."
RESTRICTED_TITLE = "Captages prioritaires sensibles du Loiret"


@dataclass
class Secrets:
    public: Thread
    restricted: Thread


@pytest.fixture
def secrets(scene) -> Secrets:
    public = question(scene, title="Zones inondables : millésime 2025", body="Le millésime 2025 est-il prévu ?")
    services.post_message(public, scene.member, NOTE, internal=True)
    restricted = data_request(
        scene, title=RESTRICTED_TITLE, body="Merci de m'envoyer les captages prioritaires.", restricted=True
    )
    db.session.commit()
    return Secrets(public=public, restricted=restricted)


def heading_count(response, heading: str) -> int:
    found = re.search(re.escape(heading) + r" \((\d+)\)", page_text(response))
    assert found, f"no heading {heading!r}"
    return int(found.group(1))


@pytest.mark.parametrize("actor", ACTORS)
def test_the_list_of_threads(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get("/fils")

    assert response.status_code == 200
    ids = listed_ids(response)
    assert secrets.public.id in ids
    assert (secrets.restricted.id in ids) is (actor in SEES_RESTRICTED)
    assert (RESTRICTED_TITLE in page_text(response)) is (actor in SEES_RESTRICTED)
    expected = "2 fils" if actor in SEES_RESTRICTED else "1 fil"
    assert re.search(rf"\b{expected}\b", page_text(response))
    # The internal note is not counted among the public thread's messages.
    assert "· 1 message ·" in page_text(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_searching_a_word_of_the_restricted_thread(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get("/fils?q=captages")

    expected = [secrets.restricted.id] if actor in SEES_RESTRICTED else []
    assert listed_ids(response) == expected
    if actor not in SEES_RESTRICTED:
        assert "Aucun fil" in page_text(response)
        assert RESTRICTED_TITLE not in page_text(response)


@pytest.mark.parametrize("actor", [a for a in ACTORS if a not in SEES_INTERNAL])
def test_searching_a_word_only_in_an_internal_note_finds_nothing(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get("/fils?q=hydrographie")

    assert listed_ids(response) == []
    assert "Aucun fil" in page_text(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_counts_of_the_dataset_page(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")

    assert response.status_code == 200
    visible = 2 if actor in SEES_RESTRICTED else 1
    assert heading_count(response, "Fils de discussion sur ce jeu de données") == visible
    assert f"Nouveau : {visible}" in page_text(response)
    assert (RESTRICTED_TITLE in page_text(response)) is (actor in SEES_RESTRICTED)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_counts_of_the_organisation_page(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get(f"/organisations/{scene.producer.slug}")

    assert response.status_code == 200
    visible = 2 if actor in SEES_RESTRICTED else 1
    assert heading_count(response, "Fils adressés à ce service") == visible
    assert f"Nouveau : {visible}" in page_text(response)
    assert (RESTRICTED_TITLE in page_text(response)) is (actor in SEES_RESTRICTED)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_restricted_thread_page(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get(f"/fils/{secrets.restricted.id}")

    if actor in SEES_RESTRICTED:
        assert response.status_code == 200
        assert RESTRICTED_TITLE in page_text(response)
        assert "Restreint" in page_text(response)
    else:
        assert response.status_code == 404
        assert RESTRICTED_TITLE not in html(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_similar_thread_hints(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get("/fils/similaires?title=captages+prioritaires")

    assert response.status_code == 200
    assert (RESTRICTED_TITLE in page_text(response)) is (actor in SEES_RESTRICTED)
    # And the public thread is found by its own words.
    assert "Zones inondables" in page_text(web.get("/fils/similaires?title=millésime+inondables"))


@pytest.mark.parametrize("actor", ACTORS)
def test_the_internal_note_on_the_thread_page(web, scene, secrets, actor):
    web.sign_in(scene.actor(actor))

    response = web.get(f"/fils/{secrets.public.id}")

    assert response.status_code == 200
    sees = actor in SEES_INTERNAL
    assert ("bureau hydrographie" in page_text(response)) is sees
    assert ('fr-badge--warning fr-badge--no-icon">Note interne</span>' in html(response)) is sees


def test_the_internal_notes_event_is_marked_internal(scene, secrets):
    events = db.session.scalars(
        db.select(ThreadEvent).where(ThreadEvent.thread_id == secrets.public.id).order_by(ThreadEvent.id)
    ).all()

    assert [(e.type, e.internal) for e in events] == [("created", False), ("internal_note", True)]


def test_the_inbox_of_another_organisation(web, scene, secrets):
    web.sign_in(scene.other_member)

    response = web.get("/boite-de-reception?onglet=ouverts")

    assert response.status_code == 200
    assert RESTRICTED_TITLE not in page_text(response)
    assert "Tous les fils ouverts (0)" in page_text(response)


def test_the_inbox_of_the_target_organisation_holds_the_restricted_request(web, scene, secrets):
    web.sign_in(scene.member)

    response = web.get("/boite-de-reception?onglet=ouverts")

    assert RESTRICTED_TITLE in page_text(response)
    assert "Tous les fils ouverts (2)" in page_text(response)


def test_the_regional_view_of_a_dreal_leaves_restricted_requests_out(web, scene, secrets):
    dreal = factories.create_organisation(
        name="DREAL Centre-Val de Loire", kind=OrganisationKind.DREAL, territory_code="R24"
    )
    dreal_member = factories.create_user(name="Denise Dreal", organisation=dreal)
    web.sign_in(dreal_member)

    response = web.get("/boite-de-reception")

    text = page_text(response)
    assert "Zones inondables : millésime 2025" in text  # the DDT of the Loiret is in the région
    assert RESTRICTED_TITLE not in text
    assert "bureau hydrographie" not in text
