"""Who may do what on a thread (DESIGN.md §3): the rules of feedback.threads.workflow against a table written
by hand, then the same rules through every POST endpoint, form tampering, and concurrent changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.database import utcnow
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import Message, ThreadKind, ThreadStatus
from feedback.threads.workflow import ACTIONS, can, can_edit_message, status_choices

from .. import factories
from .conftest import data_request, field_errors, fresh, html, page_text, post_thread, snapshot, status_badge

ACTORS = ["anonymous", "other_user", "author", "member", "other_producer", "curator"]
EVERYONE = set(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
SERVICE = {"member", "curator"}  # the members of the target organisation, and the curators

# On an open, public data request (status "new", due in a month, not extended), from DESIGN.md §3:
# producers of the target organisation and curators move the thread and act on it; the author withdraws
# it; anyone signed in replies, supports ("moi aussi", but not one's own thread nor one's service's) and
# follows; internal notes are written and read by the service and the curators only; the service's own
# members answer for it ("Réponse officielle": a curator's message is not the service's answer); routing is
# the curators' own.
OPEN_PUBLIC = {
    "view": EVERYONE,
    "reply": SIGNED_IN,
    "vote": SIGNED_IN - {"author", "member"},
    "follow": SIGNED_IN,
    "withdraw": {"author", "curator"},
    "reopen": set(),  # it is open
    "answer_officially": {"member"},
    "internal_note": SERVICE,
    "see_internal": SERVICE,
    "change_status": SERVICE,
    "ask_details": SERVICE,
    "transfer": SERVICE,
    "extend": SERVICE,
    "assign": SERVICE,
    "reclassify": SERVICE,
    "route": {"curator"},
}

# Once the thread is closed: the author, the service or a curator reopens it; nothing moves it otherwise.
CLOSED = {
    "view": EVERYONE,
    "withdraw": set(),
    "reopen": {"author", "member", "curator"},
    "change_status": set(),
    "ask_details": set(),
    "transfer": set(),
    "extend": set(),
    "assign": set(),
    "reclassify": set(),
}

# A restricted data request exists only for its author, the target organisation and the curators.
RESTRICTED_VIEWERS = {"author", "member", "curator"}


def test_the_table_covers_every_action():
    assert set(OPEN_PUBLIC) == ACTIONS


@pytest.fixture
def open_request(scene):
    return data_request(scene)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted(OPEN_PUBLIC))
def test_who_may_act_on_an_open_public_thread(scene, open_request, action, actor):
    assert can(scene.actor(actor), action, open_request) is (actor in OPEN_PUBLIC[action])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted(CLOSED))
def test_who_may_act_on_a_closed_thread(scene, open_request, action, actor):
    services.change_status(open_request, scene.member, ThreadStatus.RESOLVED)

    assert can(scene.actor(actor), action, open_request) is (actor in CLOSED[action])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_restricted_thread_is_out_of_reach_of_those_who_may_not_see_it(scene, action, actor):
    thread = data_request(scene, restricted=True)

    expected = actor in RESTRICTED_VIEWERS and actor in OPEN_PUBLIC[action]
    assert can(scene.actor(actor), action, thread) is expected


def test_an_extended_request_is_not_extended_again(scene, open_request):
    services.extend_deadline(open_request, scene.member, "Volume.")

    assert not can(scene.member, "extend", open_request)
    assert not can(scene.curator, "extend", open_request)


def test_the_extension_panel_is_offered_only_within_the_first_month(scene, client, login):
    """R124-1: the extension is told within the month after receipt. On a request received 40 days ago the
    service is not offered a panel whose every submission would fail."""
    late = data_request(scene, title="Reçue il y a quarante jours", created_at=utcnow() - timedelta(days=40))
    recent = data_request(scene, title="Reçue il y a dix jours", created_at=utcnow() - timedelta(days=10))
    db.session.commit()

    assert not can(scene.member, "extend", late)
    assert not can(scene.curator, "extend", late)
    assert can(scene.member, "extend", recent)
    login(scene.member)
    assert "Prolonger le délai" not in page_text(client.get(f"/fils/{late.id}"))
    assert "Prolonger le délai" in page_text(client.get(f"/fils/{recent.id}"))
    refused = client.post(f"/fils/{late.id}/prolongation", data={"motive": "Volume.", "version": late.version})
    assert refused.status_code == 403


def test_a_curator_message_is_never_the_service_answer(scene, open_request):
    message = services.post_message(open_request, scene.curator, "Le service va vous répondre.")

    assert message.as_organisation_id is None
    assert services.post_message(open_request, scene.member, "Voici.").as_organisation_id == scene.producer.id


@pytest.mark.parametrize("kind", [ThreadKind.QUESTION, ThreadKind.QUALITY_ISSUE])
def test_only_data_requests_are_extended(scene, kind):
    thread = post_thread(
        scene.author, kind, dataset=scene.dataset, category="dead_link" if kind == ThreadKind.QUALITY_ISSUE else None
    )

    assert not can(scene.member, "extend", thread)
    assert not can(scene.curator, "extend", thread)


def test_a_deactivated_member_may_no_longer_act(scene, open_request):
    scene.member.active = False

    assert can(scene.member, "view", open_request)
    for action in ("reply", "change_status", "internal_note", "see_internal", "follow"):
        assert not can(scene.member, action, open_request), action


def test_an_unknown_action_is_a_programming_error(scene, open_request):
    with pytest.raises(ValueError):
        can(scene.member, "delete_everything", open_request)


def test_only_its_author_edits_a_message(scene, open_request):
    message = services.post_message(open_request, scene.other_user, "Moi aussi.")

    assert can_edit_message(scene.other_user, message)
    for name in ("anonymous", "author", "member", "other_producer", "curator"):
        assert not can_edit_message(scene.actor(name), message), name


def test_the_statuses_offered_are_the_other_ones_never_new_nor_withdrawn(scene, open_request):
    offered = {status.value for status in status_choices(scene.member, open_request)}

    assert offered == {"acknowledged", "needs_info", "in_progress", "resolved", "declined", "duplicate"}
    assert status_choices(scene.author, open_request) == []
    assert status_choices(scene.other_member, open_request) == []


# Through HTTP ---------------------------------------------------------------------------------------------


def form_for(endpoint: str, scene, thread) -> dict:
    """What a person allowed to use `endpoint` would post: valid, so that only permission may refuse it."""
    version = str(thread.version)
    return {
        "messages": {"body": "Un message en plus."},
        "status": {"status": "in_progress", "version": version},
        "details": {"question": "Pour quelle commune ?", "version": version},
        "transfer": {"organisation": scene.other_producer.slug, "message": "Voir la Nièvre.", "version": version},
        "extend": {"motive": "Volume important.", "version": version},
        "assign": {"assignee": str(scene.coordinator.id), "version": version},
        "reclassify": {"kind": "question", "quality_category": "", "version": version},
        "vote": {"version": version},
        "follow": {"version": version},
        "withdraw": {"version": version},
        "reopen": {"version": version},
        "edit": {"body": "Texte réécrit."},
    }[endpoint]


# The action's name here → the last part of its French path.
FRENCH_PATHS = {
    "status": "statut",
    "details": "precisions",
    "transfer": "transfert",
    "extend": "prolongation",
    "assign": "assignation",
    "reclassify": "reclassement",
    "vote": "soutien",
    "follow": "suivi",
    "withdraw": "retrait",
    "reopen": "reouverture",
}


def url_for_endpoint(endpoint: str, thread, message_id: int) -> str:
    if endpoint == "edit":
        return f"/fils/{thread.id}/messages/{message_id}/modifier"
    return f"/fils/{thread.id}/{FRENCH_PATHS.get(endpoint, endpoint)}"


# Endpoint → the actors refused on an open public data request (the first message is the author's).
REFUSED = {
    "messages": [],
    "status": ["other_user", "author", "other_producer"],
    "details": ["other_user", "author", "other_producer"],
    "transfer": ["other_user", "author", "other_producer"],
    "extend": ["other_user", "author", "other_producer"],
    "assign": ["other_user", "author", "other_producer"],
    "reclassify": ["other_user", "author", "other_producer"],
    "vote": ["author", "member"],
    "follow": [],
    "withdraw": ["other_user", "member", "other_producer"],
    "reopen": ["other_user", "author", "member", "other_producer", "curator"],  # it is open
    "edit": ["other_user", "member", "other_producer", "curator"],
}
# Endpoint → someone allowed, to show that the form above does pass when permission is given.
ALLOWED = {
    "messages": "other_user",
    "status": "member",
    "details": "member",
    "transfer": "member",
    "extend": "member",
    "assign": "curator",
    "reclassify": "member",
    "vote": "other_user",
    "follow": "other_user",
    "withdraw": "author",
    "edit": "author",
}


def first_message_id(thread_id: int) -> int:
    return db.session.scalar(db.select(Message.id).where(Message.thread_id == thread_id).order_by(Message.id))


@pytest.mark.parametrize(
    ("endpoint", "actor"),
    [(endpoint, actor) for endpoint, actors in REFUSED.items() for actor in ["anonymous", *actors]],
)
def test_a_refused_actor_changes_nothing(web, scene, open_request, endpoint, actor):
    message_id = first_message_id(open_request.id)
    data = form_for(endpoint, scene, open_request)
    before = snapshot(open_request.id)
    web.sign_in(scene.actor(actor))

    response = web.post(url_for_endpoint(endpoint, open_request, message_id), data=data)

    if actor == "anonymous" and endpoint == "edit":
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/connexion")
    elif actor == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code == 403
    assert snapshot(open_request.id) == before


@pytest.mark.parametrize(("endpoint", "actor"), sorted(ALLOWED.items()))
def test_an_allowed_actor_gets_through_with_the_same_form(web, scene, open_request, endpoint, actor):
    message_id = first_message_id(open_request.id)
    data = form_for(endpoint, scene, open_request)
    before = snapshot(open_request.id)
    web.sign_in(scene.actor(actor))

    response = web.post(url_for_endpoint(endpoint, open_request, message_id), data=data)

    assert response.status_code == 303, page_text(response)
    assert response.headers["Location"].startswith(f"/fils/{open_request.id}")
    assert snapshot(open_request.id) != before


def test_reopening_a_closed_thread_through_http(web, scene, open_request):
    services.change_status(open_request, scene.member, ThreadStatus.RESOLVED)
    db.session.commit()
    before = snapshot(open_request.id)
    for refused in ("other_user", "other_producer"):
        web.sign_in(scene.actor(refused))
        assert web.post(f"/fils/{open_request.id}/reouverture", data={}).status_code == 403
        assert snapshot(open_request.id) == before

    web.sign_in(scene.author)
    version = str(fresh(open_request.id).version)
    assert web.post(f"/fils/{open_request.id}/reouverture", data={"version": version}).status_code == 303

    assert fresh(open_request.id).status == "new"


ENDPOINTS = list(REFUSED)


@pytest.mark.parametrize("actor", ["other_user", "other_producer"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_restricted_thread_does_not_exist_for_those_who_may_not_see_it(web, scene, endpoint, actor):
    thread = data_request(scene, restricted=True)
    message_id = first_message_id(thread.id)
    data = form_for(endpoint, scene, thread)
    before = snapshot(thread.id)
    web.sign_in(scene.actor(actor))

    assert web.get(f"/fils/{thread.id}").status_code == 404
    response = web.post(url_for_endpoint(endpoint, thread, message_id), data=data)

    assert response.status_code == 404
    assert snapshot(thread.id) == before


# Form tampering --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["withdrawn", "new", "archived", ""])
def test_a_status_outside_the_offered_list_is_refused(web, scene, open_request, forged):
    before = snapshot(open_request.id)
    web.sign_in(scene.member)

    response = web.post(
        f"/fils/{open_request.id}/statut", data={"status": forged, "version": str(open_request.version)}
    )

    assert response.status_code == 200
    errors = field_errors(response, "status-status")  # the status form's field
    assert errors and all(error in ("N'est pas un choix valide.", "Choisissez un statut.") for error in errors)
    assert snapshot(open_request.id) == before
    assert status_badge(response) == "Nouveau"


def test_a_producer_of_another_organisation_may_not_change_the_status(web, scene, open_request):
    before = snapshot(open_request.id)
    web.sign_in(scene.other_member)

    response = web.post(f"/fils/{open_request.id}/statut", data={"status": "resolved"})

    assert response.status_code == 403
    assert snapshot(open_request.id) == before


@pytest.mark.parametrize("status", ["resolved", "in_progress", "declined"])
def test_the_author_may_not_change_the_status(web, scene, open_request, status):
    before = snapshot(open_request.id)
    web.sign_in(scene.author)

    response = web.post(
        f"/fils/{open_request.id}/statut",
        data={"status": status, "decline_reason": "other", "motive": "Je ferme moi-même."},
    )

    assert response.status_code == 403
    assert snapshot(open_request.id) == before


@pytest.mark.parametrize(
    ("endpoint", "data", "field"),
    [
        ("assign", {"assignee": "other_member"}, "assignee"),  # a member of another service
        ("transfer", {"organisation": "association", "message": "Voir l'association."}, "organisation"),
        ("reclassify", {"kind": "quality_issue", "quality_category": ""}, "quality_category"),
        ("reclassify", {"kind": "complaint"}, "kind"),
    ],
)
def test_forged_choices_of_the_other_forms_are_refused(web, scene, open_request, endpoint, data, field):
    association = factories.create_organisation(name="Association Loiret Nature", is_producer=False)
    forged = dict(data, version=str(open_request.version))
    if forged.get("assignee") == "other_member":
        forged["assignee"] = str(scene.other_member.id)
    if forged.get("organisation") == "association":
        forged["organisation"] = association.slug
    before = snapshot(open_request.id)
    web.sign_in(scene.member)

    response = web.post(url_for_endpoint(endpoint, open_request, 0), data=forged)

    assert response.status_code == 200
    assert field_errors(response, f"{endpoint}-{field}")  # each form of the page prefixes its ids
    assert snapshot(open_request.id) == before


def test_an_author_posting_an_internal_note_is_refused_and_nothing_is_published(web, scene, open_request):
    web.sign_in(scene.author)

    response = web.post(f"/fils/{open_request.id}/messages", data={"body": "Ceci est interne.", "internal": "y"})

    assert response.status_code == 200
    assert "votre message n'a pas été publié" in page_text(response)
    thread = fresh(open_request.id)
    assert (thread.messages_count, thread.public_messages_count) == (1, 1)


# Concurrent changes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_the_second_of_two_concurrent_status_changes_is_refused_and_the_first_stands(web, scene, open_request, htmx):
    web.sign_in(scene.member)
    page = web.get(f"/fils/{open_request.id}")
    version = fresh(open_request.id).version
    assert f'name="version" type="hidden" value="{version}"' in html(page)

    # The member changes the status first …
    first = web.post(f"/fils/{open_request.id}/statut", data={"status": "in_progress", "version": str(version)})
    assert first.status_code == 303
    after_first = snapshot(open_request.id)
    assert after_first["status"] == "in_progress"

    # … then the coordinator, who loaded the same page (version N), sends another change.
    web.sign_in(scene.coordinator)
    post = web.htmx_post if htmx else web.post
    second = post(
        f"/fils/{open_request.id}/statut",
        data={"status": "declined", "decline_reason": "not_held", "motive": "Pas chez nous.", "version": str(version)},
    )

    assert second.status_code == 200
    assert "modifié par quelqu'un d'autre" in page_text(second)
    assert ("<html" in html(second)) is not htmx
    assert snapshot(open_request.id) == after_first
    assert status_badge(second) == "En cours"


def test_a_stale_reply_is_not_a_conflict(web, scene, open_request):
    """Replies carry no version: two people answering at once both get published."""
    web.sign_in(scene.member)
    assert web.post(f"/fils/{open_request.id}/messages", data={"body": "Première réponse."}).status_code == 303
    web.sign_in(scene.other_user)
    assert web.post(f"/fils/{open_request.id}/messages", data={"body": "Moi aussi."}).status_code == 303

    assert fresh(open_request.id).messages_count == 3


def test_a_change_of_membership_is_seen_at_once_by_the_same_session(scene):
    from feedback.accounts import services as accounts
    from feedback.threads.workflow import can_view

    thread = data_request(scene, restricted=True)
    newcomer = factories.create_user(name="Nina Nouvelle")
    assert not can_view(newcomer, thread)

    membership = accounts.add_member(newcomer, scene.producer)
    db.session.commit()
    assert can_view(newcomer, thread)

    accounts.remove_member(membership)
    db.session.commit()
    assert not can_view(newcomer, thread)
