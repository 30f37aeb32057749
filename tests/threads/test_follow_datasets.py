"""Following a dataset or a producer: the button on their pages (for people who are signed in), the routes
with and without htmx, and the notifications of new threads that followers get — never of a restricted
request they may not see."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from feedback.accounts.models import OrganisationKind
from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.threads import services
from feedback.threads.models import Follow

from .. import factories
from .conftest import count, data_request, html, page_text, question


def follow_button(response, target: str) -> tuple[str, str] | None:
    """The follow button of a page: its aria-pressed value and its text."""
    found = re.search(
        rf'<button [^>]*id="follow-{target}-button"[^>]*aria-pressed="(true|false)"[^>]*>([^<]*)</button>',
        html(response),
    )
    return (found.group(1), found.group(2).strip()) if found else None


def follows_of(user) -> list[tuple[int | None, int | None]]:
    db.session.rollback()
    return [
        (f.dataset_id, f.organisation_id)
        for f in db.session.scalars(sa.select(Follow).where(Follow.user_id == user.id).order_by(Follow.id))
    ]


# The buttons -----------------------------------------------------------------------------------------------------


def test_the_pages_show_a_follow_button_to_people_signed_in_only(web, scene):
    dataset_url = f"/jeux-de-donnees/{scene.dataset.catalogue_id}"
    organisation_url = f"/organisations/{scene.producer.slug}"

    assert follow_button(web.get(dataset_url), "dataset") is None
    assert follow_button(web.get(organisation_url), "organisation") is None

    web.sign_in(scene.other_user)
    assert follow_button(web.get(dataset_url), "dataset") == ("false", "Suivre")
    assert follow_button(web.get(organisation_url), "organisation") == ("false", "Suivre")


def test_a_consultancy_cannot_be_followed(web, scene):
    consultancy = factories.create_organisation(
        name="Bureau d'études Exemple", kind=OrganisationKind.CONSULTANCY, is_producer=False
    )
    web.sign_in(scene.other_user)

    assert follow_button(web.get(f"/organisations/{consultancy.slug}"), "organisation") is None
    assert web.post(f"/organisations/{consultancy.slug}/suivi").status_code == 404
    assert follows_of(scene.other_user) == []


# Without JavaScript ----------------------------------------------------------------------------------------------


def test_following_a_dataset_without_javascript(web, scene):
    web.sign_in(scene.other_user)
    url = f"/jeux-de-donnees/{scene.dataset.catalogue_id}/suivi"

    response = web.post(url)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/jeux-de-donnees/{scene.dataset.catalogue_id}"
    assert follows_of(scene.other_user) == [(scene.dataset.id, None)]
    page = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
    assert follow_button(page, "dataset") == ("true", "Ne plus suivre")
    assert "Vous suivez ce jeu de données : vous serez averti·e de ses nouveaux fils." in page_text(page)

    assert web.post(url).status_code == 303
    assert follows_of(scene.other_user) == []
    page = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
    assert follow_button(page, "dataset") == ("false", "Suivre")
    assert "C'est noté : vous ne suivez plus ses nouveaux fils." in page_text(page)


def test_following_a_producer_without_javascript(web, scene):
    web.sign_in(scene.other_user)

    response = web.post(f"/organisations/{scene.producer.slug}/suivi")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{scene.producer.slug}"
    assert follows_of(scene.other_user) == [(None, scene.producer.id)]
    page = web.get(f"/organisations/{scene.producer.slug}")
    assert follow_button(page, "organisation") == ("true", "Ne plus suivre")


# With htmx -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["dataset", "organisation"])
def test_htmx_swaps_the_button_in_place(web, scene, target):
    url = (
        f"/jeux-de-donnees/{scene.dataset.catalogue_id}/suivi"
        if target == "dataset"
        else f"/organisations/{scene.producer.slug}/suivi"
    )
    web.sign_in(scene.other_user)

    followed = web.htmx_post(url)
    unfollowed = web.htmx_post(url)

    assert followed.status_code == 200
    assert "HX-Request" in followed.headers["Vary"]
    fragment = html(followed)
    assert fragment.lstrip().startswith('<form class="follow-form')
    assert "<html" not in fragment and "<h1" not in fragment
    assert follow_button(followed, target) == ("true", "Ne plus suivre")
    assert follow_button(unfollowed, target) == ("false", "Suivre")
    assert follows_of(scene.other_user) == []


# Refused --------------------------------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(web, scene):
    response = web.post(f"/jeux-de-donnees/{scene.dataset.catalogue_id}/suivi")

    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]
    assert count(Follow) == 0


def test_an_unknown_dataset_or_organisation_is_not_found(web, scene):
    web.sign_in(scene.other_user)

    assert web.post("/jeux-de-donnees/000000000000000000000000/suivi").status_code == 404
    assert web.post("/organisations/nulle-part/suivi").status_code == 404
    assert count(Follow) == 0


# What followers are told ---------------------------------------------------------------------------------------


def test_followers_of_the_dataset_and_of_the_producer_are_told_of_a_new_thread_once(scene):
    dataset_follower = factories.create_user(name="Dora Jeu")
    organisation_follower = factories.create_user(name="Oscar Service")
    services.toggle_follow_dataset(scene.dataset, dataset_follower)
    for person in (organisation_follower, scene.other_user):
        services.toggle_follow_organisation(scene.producer, person)
    services.toggle_follow_dataset(scene.dataset, scene.other_user)  # follows both: told once
    services.toggle_follow_dataset(scene.dataset, scene.author)  # the author is never told of their thread
    db.session.commit()

    thread = question(scene, title="Source des zones inondables")

    told = {
        n.recipient_id: (n.kind, n.text)
        for n in db.session.scalars(sa.select(Notification).where(Notification.thread_id == thread.id))
    }
    text = "Nouveau fil « Source des zones inondables » (question), ouvert par Alice Autrice"
    # Followers are told under a kind of their own, whose mails they choose apart from their service's new threads.
    followed = ("followed_thread", f"{text}, sur « {scene.dataset.title} »")
    assert told == {
        scene.coordinator.id: ("thread_created", text),
        dataset_follower.id: followed,
        organisation_follower.id: followed,
        scene.other_user.id: followed,
    }


def test_the_followers_of_another_dataset_are_not_told(scene):
    other = factories.create_dataset(title="Haies de la Nièvre", organisation=scene.other_producer)
    services.toggle_follow_dataset(other, scene.other_user)
    db.session.commit()

    thread = question(scene)

    assert (
        count(Notification, Notification.thread_id == thread.id, Notification.recipient_id == scene.other_user.id) == 0
    )


def test_a_follower_who_may_not_see_a_restricted_request_gets_nothing(scene):
    services.toggle_follow_dataset(scene.dataset, scene.other_user)
    services.toggle_follow_organisation(scene.producer, scene.other_member)
    services.toggle_follow_dataset(scene.dataset, scene.curator)  # curators see restricted requests
    db.session.commit()

    thread = data_request(scene, title="Demande restreinte", restricted=True)

    recipients = set(
        db.session.scalars(sa.select(Notification.recipient_id).where(Notification.thread_id == thread.id))
    )
    assert recipients == {scene.coordinator.id, scene.curator.id}
