"""Concurrent writes on one thread, by real requests in parallel threads (each request has its own session and
connection): replies, votes and follows all land and keep the counters right; of two status changes from
the same version one wins and the other gets the French conflict message; a form without a readable
version is refused; internal notes leave the version the requester's page carries as it was; an error
page is drawn even when the request's session is in a failed transaction."""

from __future__ import annotations

import re
import threading

import pytest
from flask import abort
from sqlalchemy.exc import IntegrityError

from feedback.accounts.models import User
from feedback.extensions import db as _db
from feedback.threads import services
from feedback.threads.models import Message, Subscription, Thread, ThreadEvent, Vote

from .. import factories
from ..conftest import build_app
from .conftest import count, data_request, fresh

CONFLICT = "a été modifié par quelqu"
WRITERS = 8


def in_parallel(app, jobs: list) -> list:
    """Run each job `(user, act)` in its own thread with its own test client signed in as `user`;
    `act(client)` is called by all at once (a barrier) and its response is returned, in order."""
    barrier = threading.Barrier(len(jobs))
    responses: list = [None] * len(jobs)
    failures: list[BaseException] = []

    emails = [user.email for user, _ in jobs]

    def run(index: int, email: str, act) -> None:
        try:
            client = app.test_client()
            signed_in = client.post("/connexion", data={"email": email, "password": factories.PASSWORD})
            assert signed_in.status_code == 303, signed_in.get_data(as_text=True)
            barrier.wait(timeout=60)
            responses[index] = act(client)
        except BaseException as error:  # reported in the main thread
            failures.append(error)
            barrier.abort()

    workers = [threading.Thread(target=run, args=(i, emails[i], act)) for i, (_, act) in enumerate(jobs)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures, failures
    return responses


def writers(scene, number: int) -> list[User]:
    users = [factories.create_user(name=f"Usager {i}", email=f"usager{i}@example.org") for i in range(number)]
    _db.session.commit()
    return users


def committed(thread_id: int) -> Thread:
    _db.session.expire_all()
    return fresh(thread_id)


def test_concurrent_replies_all_land_and_the_counters_count_each(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    users = writers(scene, WRITERS)
    jobs = [
        (user, lambda client, i=i: client.post(f"/fils/{thread_id}/messages", data={"body": f"Réponse mot{i}x"}))
        for i, user in enumerate(users)
    ]
    # The same person twice at once (two tabs): both replies land, they follow the thread once.
    jobs += [
        (users[0], lambda client: client.post(f"/fils/{thread_id}/messages", data={"body": "Onglet motAx"})),
        (users[0], lambda client: client.post(f"/fils/{thread_id}/messages", data={"body": "Onglet motBx"})),
    ]
    version = thread.version

    responses = in_parallel(app, jobs)

    assert [r.status_code for r in responses] == [303] * len(jobs), [r.get_data(as_text=True)[:300] for r in responses]
    stored = committed(thread.id)
    messages = count(Message, Message.thread_id == thread.id)
    assert messages == 1 + len(jobs)
    assert stored.messages_count == stored.public_messages_count == messages
    assert stored.followers_count == count(Subscription, Subscription.thread_id == thread.id) == 1 + WRITERS
    assert count(ThreadEvent, ThreadEvent.thread_id == thread.id, ThreadEvent.type == "message") == len(jobs)
    for word in [f"mot{i}x" for i in range(WRITERS)] + ["motax", "motbx"]:
        assert word in stored.search_text  # no reply's words overwritten by another's
    assert stored.version == version  # replies do not make a status form out of date


def test_concurrent_first_answers_move_the_thread_once(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    jobs = [
        (member, lambda client, i=i: client.post(f"/fils/{thread_id}/messages", data={"body": f"Réponse {i}"}))
        for i, member in enumerate([scene.member, scene.coordinator])
    ]

    responses = in_parallel(app, jobs)

    assert [r.status_code for r in responses] == [303, 303]
    stored = committed(thread.id)
    assert stored.status == "acknowledged"
    assert stored.public_messages_count == count(Message, Message.thread_id == thread.id) == 3
    moves = count(ThreadEvent, ThreadEvent.thread_id == thread.id, ThreadEvent.type == "status_changed")
    assert moves == 1


def test_concurrent_votes_and_follows_all_count(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    users = writers(scene, WRITERS)
    jobs = []
    for user in users:
        jobs.append((user, lambda client: client.post(f"/fils/{thread_id}/soutien")))
        jobs.append((user, lambda client: client.post(f"/fils/{thread_id}/suivi")))
    version = thread.version

    responses = in_parallel(app, jobs)

    assert [r.status_code for r in responses] == [303] * len(jobs)
    stored = committed(thread.id)
    assert stored.votes_count == count(Vote, Vote.thread_id == thread.id) == WRITERS
    assert stored.followers_count == count(Subscription, Subscription.thread_id == thread.id) == WRITERS + 1
    assert stored.version == version


def test_a_double_click_on_vote_keeps_the_counter_equal_to_the_votes(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    jobs = [(scene.other_user, lambda client: client.post(f"/fils/{thread_id}/soutien")) for _ in range(4)]

    responses = in_parallel(app, jobs)

    assert {r.status_code for r in responses} == {303}
    stored = committed(thread.id)
    assert stored.votes_count == count(Vote, Vote.thread_id == thread.id)
    assert stored.votes_count in (0, 1)


def test_concurrent_status_changes_from_one_version_one_wins_the_others_are_told(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    version = thread.version
    changes = [
        (scene.member, "in_progress"),
        (scene.coordinator, "resolved"),
        (scene.curator, "in_progress"),
    ]
    jobs = [
        (
            user,
            lambda client, status=status: client.post(
                f"/fils/{thread_id}/statut", data={"status": status, "version": str(version)}
            ),
        )
        for user, status in changes
    ]

    responses = in_parallel(app, jobs)

    codes = [r.status_code for r in responses]
    assert codes.count(303) == 1, codes
    refused = [r for r in responses if r.status_code != 303]
    assert all(r.status_code == 200 and CONFLICT in r.get_data(as_text=True) for r in refused)
    stored = committed(thread.id)
    winner = changes[codes.index(303)][1]
    assert stored.status == winner
    assert stored.version == version + 1
    assert count(ThreadEvent, ThreadEvent.thread_id == thread.id, ThreadEvent.type == "status_changed") == 1


def test_a_reply_during_a_status_change_lands_and_the_change_stands(app, scene):
    thread = data_request(scene)
    thread_id = thread.id
    version = thread.version
    jobs = [
        (scene.author, lambda client: client.post(f"/fils/{thread_id}/messages", data={"body": "Une précision"})),
        (
            scene.member,
            lambda client: client.post(
                f"/fils/{thread_id}/statut", data={"status": "in_progress", "version": str(version)}
            ),
        ),
    ]

    responses = in_parallel(app, jobs)

    assert [r.status_code for r in responses] == [303, 303]
    stored = committed(thread.id)
    assert stored.status == "in_progress"
    assert stored.public_messages_count == count(Message, Message.thread_id == thread.id) == 2


@pytest.mark.parametrize("version", [None, "", "abc", "1e3", "2.0"])
def test_a_status_form_without_a_readable_version_is_refused_not_unchecked(client, login, scene, version):
    thread = data_request(scene)
    thread_id = thread.id
    login(scene.member)
    data = {"status": "in_progress"}
    if version is not None:
        data["version"] = version

    response = client.post(f"/fils/{thread_id}/statut", data=data)

    assert response.status_code == 200
    assert "ne dit pas quelle version du fil" in response.get_data(as_text=True)
    assert committed(thread.id).status == "new"


def test_an_out_of_date_version_is_a_conflict(client, login, scene):
    thread = data_request(scene)
    thread_id = thread.id
    login(scene.member)

    response = client.post(f"/fils/{thread_id}/statut", data={"status": "in_progress", "version": "0"})

    assert response.status_code == 200 and CONFLICT in response.get_data(as_text=True)
    assert committed(thread.id).status == "new"


def test_internal_notes_leave_the_requesters_version_as_it_was(client, login, scene):
    thread = data_request(scene)
    login(scene.author)
    before = client.get(f"/fils/{thread.id}").get_data(as_text=True)
    services.post_message(committed(thread.id), scene.member, "Note entre nous", internal=True)
    _db.session.commit()

    after = client.get(f"/fils/{thread.id}").get_data(as_text=True)

    def versions(page: str) -> list[str]:
        return sorted(set(re.findall(r'name="version"[^>]*value="(\d+)"', page)))

    assert versions(before) and versions(after) == versions(before)
    assert committed(thread.id).version == thread.version


def test_the_error_page_is_drawn_after_a_failed_transaction(app, scene, tmp_path_factory, login):
    broken = build_app(app, tmp_path_factory)
    taken = scene.author.email

    @broken.post("/essai/transaction-ratee")
    def failed_transaction():
        try:
            _db.session.add(User(email=taken, name="Doublon", password_hash="x"))
            _db.session.flush()
        except IntegrityError:
            abort(404)  # the session is left in its failed transaction, as a refused flush leaves it
        return "inattendu"

    client = broken.test_client()
    response = client.post("/connexion", data={"email": scene.member.email, "password": factories.PASSWORD})
    assert response.status_code == 303

    response = client.post("/essai/transaction-ratee")

    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True) or "introuvable" in response.get_data(as_text=True)
    with broken.app_context():
        _db.engine.dispose()

