"""The threads of the API: the same rows and the same refusals as the HTML pages — a restricted thread, a hidden
message or an internal note never reaches who may not read it; every action asks `workflow.can`; a stale version
is a 409; invalid fields a 422."""

from __future__ import annotations

import io

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from feedback.extensions import db
from feedback.threads import services
from feedback.threads.attachments import check_uploads
from feedback.threads.models import Message, ThreadKind, ThreadStatus
from feedback.threads.taxonomy import QUALITY_CATEGORIES

from ..threads.conftest import data_request, fresh, post_thread, question


def test_the_list_holds_what_the_caller_may_see_and_its_pages(client, scene, bearer):
    public = [question(scene, title=f"Question {number} sur les crues") for number in range(3)]
    restricted = data_request(scene, restricted=True, title="Demande confidentielle des captages")

    anonymous = client.get("/api/v1/threads?page_size=2").get_json()
    as_author = client.get("/api/v1/threads?page_size=10", headers=bearer(scene.author)).get_json()
    as_other = client.get("/api/v1/threads?page_size=10", headers=bearer(scene.other_user)).get_json()

    assert anonymous["total"] == 3 and anonymous["total_exact"] is True
    assert (anonymous["page"], anonymous["page_size"], anonymous["next_page"], anonymous["previous_page"]) == (
        1,
        2,
        2,
        None,
    )
    assert len(anonymous["data"]) == 2
    assert {t["id"] for t in as_author["data"]} == {t.id for t in public} | {restricted.id}
    assert restricted.id not in {t["id"] for t in as_other["data"]}
    second = client.get("/api/v1/threads?page_size=2&page=2").get_json()
    assert (second["next_page"], second["previous_page"], len(second["data"])) == (None, 1, 1)


def test_the_filters_and_the_search_are_those_of_the_threads_page(client, scene):
    wanted = data_request(scene, title="Captages d'eau potable du Loiret")
    question(scene, title="Question sur les haies bocagères")

    searched = client.get("/api/v1/threads?q=captages").get_json()
    by_kind = client.get("/api/v1/threads?kind=data_request&state=open").get_json()
    by_producer = client.get(f"/api/v1/threads?producer={scene.other_producer.slug}").get_json()

    assert [t["id"] for t in searched["data"]] == [wanted.id]
    assert [t["id"] for t in by_kind["data"]] == [wanted.id]
    assert by_producer["data"] == []
    assert searched["data"][0]["dataset"]["id"] == scene.dataset.catalogue_id
    assert searched["data"][0]["organisation"]["slug"] == scene.producer.slug


def test_a_restricted_thread_does_not_exist_for_those_who_may_not_see_it(client, scene, bearer):
    thread = data_request(scene, restricted=True)

    assert client.get(f"/api/v1/threads/{thread.id}").status_code == 404
    assert client.get(f"/api/v1/threads/{thread.id}", headers=bearer(scene.other_member)).status_code == 404
    assert client.get(f"/api/v1/threads/{thread.id}", headers=bearer(scene.member)).status_code == 200
    refused = client.post(
        f"/api/v1/threads/{thread.id}/messages", json={"body": "Bonjour"}, headers=bearer(scene.other_user)
    )
    assert refused.status_code == 404


def test_internal_notes_and_hidden_messages_are_read_only_by_those_allowed(client, scene, bearer):
    thread = question(scene)
    services.post_message(thread, scene.member, "Note pour le service seulement.", internal=True)
    hidden = services.post_message(thread, scene.other_user, "Message masqué par la modération.")
    db.session.commit()
    db.session.get(Message, hidden.id).hidden_at = thread.created_at
    db.session.commit()

    author_view = client.get(f"/api/v1/threads/{thread.id}", headers=bearer(scene.author)).get_json()
    member_view = client.get(f"/api/v1/threads/{thread.id}", headers=bearer(scene.member)).get_json()

    author_bodies = [m["body"] for m in author_view["messages"]]
    member_bodies = [m["body"] for m in member_view["messages"]]
    assert "Note pour le service seulement." not in author_bodies
    assert "Note pour le service seulement." in member_bodies
    assert "Message masqué par la modération." not in author_bodies + member_bodies
    assert "change_status" in member_view["actions"] and "change_status" not in author_view["actions"]


def test_a_producer_changes_the_status_with_the_version_it_read(client, scene, bearer):
    thread = data_request(scene)
    headers = bearer(scene.member)
    read = thread.version

    changed = client.post(
        f"/api/v1/threads/{thread.id}/status", json={"status": "in_progress", "version": read}, headers=headers
    )
    stale = client.post(
        f"/api/v1/threads/{thread.id}/status", json={"status": "resolved", "version": read}, headers=headers
    )

    assert changed.status_code == 200
    assert changed.get_json()["status"] == "in_progress"
    assert stale.status_code == 409
    assert stale.get_json()["error"] == "conflict"
    assert fresh(thread.id).status == ThreadStatus.IN_PROGRESS


def test_every_action_asks_the_same_permission_as_the_pages(client, scene, bearer):
    thread = data_request(scene)
    version = {"version": thread.version}

    anonymous = client.post(f"/api/v1/threads/{thread.id}/status", json={"status": "resolved", **version})
    user = client.post(
        f"/api/v1/threads/{thread.id}/status", json={"status": "resolved", **version}, headers=bearer(scene.other_user)
    )
    note = client.post(
        f"/api/v1/threads/{thread.id}/messages", json={"body": "Note", "internal": True}, headers=bearer(scene.author)
    )
    curator_routing = client.post(
        f"/api/v1/threads/{thread.id}/routing",
        json={"organisation": scene.other_producer.slug},
        headers=bearer(scene.member),
    )

    assert (anonymous.status_code, user.status_code, note.status_code) == (401, 403, 403)
    assert curator_routing.status_code == 403
    assert fresh(thread.id).status == ThreadStatus.NEW
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.thread_id == thread.id)) == 1


def test_a_decline_without_its_reason_names_the_field(client, scene, bearer):
    thread = data_request(scene)

    answer = client.post(
        f"/api/v1/threads/{thread.id}/status",
        json={"status": "declined", "version": thread.version},
        headers=bearer(scene.member),
    )

    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"] == "invalid_fields" and "decline_reason" in body["fields"]


def test_invalid_fields_are_a_422_with_their_names(client, scene, bearer):
    answer = client.post(
        "/api/v1/threads", json={"kind": "rumeur", "title": 12, "surplus": 1}, headers=bearer(scene.author)
    )

    assert answer.status_code == 422
    assert {"kind", "title", "body", "surplus"} <= set(answer.get_json()["fields"])


def test_a_thread_is_posted_on_a_dataset_named_by_its_address_and_answered(client, scene, bearer):
    address = f"https://www.data.gouv.fr/fr/datasets/{scene.dataset.slug}/"

    posted = client.post(
        "/api/v1/threads",
        json={"kind": "quality_issue", "title": "Géométries invalides", "body": "Des polygones se croisent.",
              "dataset": address, "quality_category": QUALITY_CATEGORIES[0].code},
        headers=bearer(scene.author),
    )  # fmt: skip

    assert posted.status_code == 201
    thread_id = posted.get_json()["id"]
    assert posted.get_json()["organisation"]["slug"] == scene.producer.slug

    reply = client.post(
        f"/api/v1/threads/{thread_id}/messages", json={"body": "Nous corrigeons."}, headers=bearer(scene.member)
    )

    assert reply.status_code == 200
    assert reply.get_json()["status"] == "acknowledged"  # the service's first answer, as on the page
    assert reply.get_json()["messages"][-1]["as_organisation"]["slug"] == scene.producer.slug


def test_a_quality_issue_without_a_dataset_is_refused_on_that_field(client, scene, bearer):
    answer = client.post(
        "/api/v1/threads",
        json={"kind": "quality_issue", "title": "Erreur", "body": "Une erreur."},
        headers=bearer(scene.author),
    )

    assert answer.status_code == 422
    assert "dataset" in answer.get_json()["fields"]


def test_votes_and_follows_toggle(client, scene, bearer):
    thread = post_thread(scene.author, ThreadKind.QUESTION, dataset=scene.dataset)
    headers = bearer(scene.other_user)

    first = client.post(f"/api/v1/threads/{thread.id}/vote", headers=headers).get_json()
    second = client.post(f"/api/v1/threads/{thread.id}/vote", headers=headers).get_json()
    own = client.post(f"/api/v1/threads/{thread.id}/vote", headers=bearer(scene.author))

    assert (first["active"], second["active"]) == (True, False)
    assert own.status_code == 403
    assert fresh(thread.id).votes_count == 0


def test_a_message_s_files_are_listed_and_served_to_its_readers(client, scene, bearer):
    thread = data_request(scene, restricted=True)
    upload = FileStorage(io.BytesIO(b"commune;captages\n45234;3\n"), filename="captages.csv")
    services.post_message(thread, scene.author, "Le tableau joint.", files=check_uploads([upload]))
    db.session.commit()
    headers = bearer(scene.member)

    messages = client.get(f"/api/v1/threads/{thread.id}", headers=headers).get_json()["messages"]

    (attachment,) = messages[-1]["attachments"]
    assert (attachment["name"], attachment["size"]) == ("captages.csv", 25)
    path = attachment["url"].removeprefix("http://localhost")
    assert client.get(path, headers=headers).get_data() == b"commune;captages\n45234;3\n"
    assert client.get(path).status_code == 404  # the restricted thread's file, to a visitor
