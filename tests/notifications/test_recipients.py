"""Who is told of what (feedback.threads.recipients, called by the thread services where events are recorded):
the right people get the right notification and nobody else; never the person who acted, never an internal
note or a restricted thread to someone who may not see it, never a placeholder account; and a change and its
notifications are written together or not at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Role
from feedback.extensions import db
from feedback.notifications.models import Notification, NotificationPreference
from feedback.threads import recipients, services
from feedback.threads.models import Follow, Message, Thread, ThreadKind, ThreadStatus
from feedback.threads.udata import import_discussions

from .. import factories
from ..threads.conftest import count, data_request, events_of, fresh, post_thread, question
from .conftest import notifications_of_thread, told

CREATED = "thread_created"
FOLLOWED = "followed_thread"
JANUARY_31 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def only(thread_id: int, kind: str) -> Notification:
    """The text and link of a kind of notification are the same for everyone told: the first one."""
    return next(n for n in notifications_of_thread(thread_id) if n.kind == kind)


def last_message(thread: Thread) -> Message:
    return db.session.scalars(
        sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.id.desc())
    ).first()


# New threads ---------------------------------------------------------------------------------------------------


def test_a_new_thread_tells_the_coordinators_of_its_organisation_and_nobody_else(scene):
    thread = question(scene, title="Source des zones inondables")

    # The plain member has not asked to be told of new threads.
    assert told(scene, thread.id) == {"coordinator": [CREATED]}
    notification = only(thread.id, CREATED)
    assert notification.text == "Nouveau fil « Source des zones inondables » (question), ouvert par Alice Autrice"
    assert notification.link == f"/fils/{thread.id}"
    assert notification.event_id == events_of(thread.id)[0].id
    assert notification.read_at is None
    assert notification.emailed_at is None  # e-mail comes later


def test_a_restricted_request_tells_the_coordinators_who_may_see_it(scene):
    thread = data_request(scene, title="Demande restreinte", restricted=True)

    assert told(scene, thread.id) == {"coordinator": [CREATED]}
    assert only(thread.id, CREATED).text == (
        "Nouveau fil « Demande restreinte » (demande de données), ouvert par Alice Autrice"
    )


def test_a_member_who_opens_a_thread_to_their_own_service_is_not_told_of_it(scene):
    thread = question(scene, author=scene.member)

    assert told(scene, thread.id) == {"coordinator": [CREATED]}


def test_a_thread_that_no_organisation_owns_tells_the_curators(scene):
    admin = factories.create_user(name="Adrien Admin", role=Role.ADMIN)
    thread = post_thread(
        scene.author, ThreadKind.MISSING_DATA, title="Haies bocagères", territory="D45", themes=("lc",)
    )

    assert thread.organisation_id is None
    assert told(scene, thread.id, admin=admin) == {"curator": [CREATED], "admin": [CREATED]}
    assert only(thread.id, CREATED).text == (
        "Fil à orienter vers un service : « Haies bocagères » (donnée manquante), ouvert par Alice Autrice"
    )


def test_a_thread_to_a_service_with_nobody_on_the_platform_tells_the_curators(scene):
    alone = factories.create_organisation(name="DDT de l'Indre", territory_code="D36")
    departed = factories.create_user(name="Paul Parti", organisation=alone, active=False)
    thread = question(scene, title="Zones humides", dataset=None, organisation=alone)

    assert told(scene, thread.id, departed=departed) == {"curator": [CREATED]}
    assert only(thread.id, CREATED).text == (
        "Nouveau fil « Zones humides » (question), ouvert par Alice Autrice, pour DDT de l'Indre, "
        "qui n'a pas encore de membre sur la plateforme"
    )


@pytest.mark.parametrize(
    ("topic", "frequency", "member_told"),
    [
        ("thread_created", "immediate", True),
        ("thread_created", "weekly", True),
        ("thread_created", "never", False),
        ("message", "immediate", False),  # a choice about another topic says nothing of new threads
    ],
)
def test_a_plain_member_is_told_of_new_threads_only_when_they_asked(scene, topic, frequency, member_told):
    db.session.add(NotificationPreference(user_id=scene.member.id, topic=topic, frequency=frequency))
    db.session.commit()

    thread = question(scene)

    expected = {"coordinator": [CREATED]}
    if member_told:
        expected["member"] = [CREATED]
    assert told(scene, thread.id) == expected


def test_a_coordinator_is_told_of_new_threads_whatever_they_chose(scene):
    db.session.add(NotificationPreference(user_id=scene.coordinator.id, topic=CREATED, frequency="never"))
    db.session.commit()

    thread = question(scene)

    # In the application always; whether it is mailed is the mail worker's business.
    assert told(scene, thread.id) == {"coordinator": [CREATED]}


def test_a_service_whose_members_did_not_ask_has_its_new_threads_told_to_the_curators(scene):
    quiet = factories.create_organisation(name="DDT de l'Indre", territory_code="D36")
    agent = factories.create_user(name="Agnès Agente", organisation=quiet)
    follower = factories.create_user(name="Félix Fidèle")
    services.toggle_follow_organisation(quiet, follower)
    services.toggle_follow_organisation(quiet, scene.curator)  # a curator who follows is told once
    db.session.commit()

    thread = question(scene, title="Zones humides", dataset=None, organisation=quiet)

    assert told(scene, thread.id, agent=agent, follower=follower) == {"curator": [CREATED], "follower": [FOLLOWED]}
    texts = {n.recipient_id: n.text for n in notifications_of_thread(thread.id)}
    assert texts[follower.id] == (
        "Nouveau fil « Zones humides » (question), ouvert par Alice Autrice, pour DDT de l'Indre"
    )
    assert texts[scene.curator.id] == (
        "Nouveau fil « Zones humides » (question), ouvert par Alice Autrice, pour DDT de l'Indre, "
        "qui n'a pas de coordinateur sur la plateforme"
    )


def test_who_is_told_of_a_new_thread_is_read_in_one_query_however_many_follow(scene):
    def statements_for_followers(number: int) -> int:
        """The statements for `number` followers of the dataset (counting those of earlier calls)."""
        for _ in range(number - count(Follow)):
            services.toggle_follow_dataset(scene.dataset, factories.create_user(name="Suiveur"))
        db.session.commit()
        thread = question(scene, commit=False)
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            people, followers, organisation_told = recipients.told_of_new_thread(thread)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
        assert organisation_told
        assert len(people) == 1  # the coordinator
        assert len(followers) == number
        return len(statements)

    assert statements_for_followers(1) == 1
    assert statements_for_followers(9) == 1


def test_routing_tells_the_service_and_the_author(scene):
    thread = post_thread(
        scene.author, ThreadKind.MISSING_DATA, title="Haies bocagères", territory="D45", themes=("lc",)
    )

    services.route_thread(thread, scene.curator, scene.producer)
    db.session.commit()

    assert told(scene, thread.id, "routed") == {"author": ["routed"], "member": ["routed"], "coordinator": ["routed"]}
    notification = only(thread.id, "routed")
    assert notification.text == "Céline Curatrice a adressé « Haies bocagères » à DDT du Loiret"
    assert notification.link == f"/fils/{thread.id}"
    assert notification.event_id == events_of(thread.id)[-1].id


# Messages --------------------------------------------------------------------------------------------------------


def test_an_answer_tells_the_author_and_the_followers_once(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)

    answer = services.post_message(thread, scene.member, "Notre réponse.")
    db.session.commit()

    assert thread.status == ThreadStatus.ACKNOWLEDGED  # the answer moved it: its notification tells of both
    assert told(scene, thread.id) == {
        "coordinator": [CREATED],
        "author": ["message"],
        "other_user": ["message"],
    }
    notification = only(thread.id, "message")
    assert notification.text == "Mathilde Membre, pour DDT du Loiret, a répondu sur « Source des données »"
    assert notification.link == f"/fils/{thread.id}#message-{answer.id}"
    assert notification.event_id == next(e.id for e in events_of(thread.id) if e.type == "message")


def test_the_authors_reply_tells_the_followers_and_the_assignee_not_the_author(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)
    services.assign_thread(thread, scene.member, scene.coordinator)

    services.post_message(thread, scene.author, "J'ajoute une précision.")
    db.session.commit()

    assert told(scene, thread.id, "message") == {"coordinator": ["message"], "other_user": ["message"]}
    assert only(thread.id, "message").text == "Alice Autrice a répondu sur « Source des données »"


def test_the_author_who_stopped_following_is_still_told_of_answers(scene):
    thread = question(scene)
    services.toggle_follow(thread, scene.author)

    services.post_message(thread, scene.other_user, "Même question de mon côté.")
    db.session.commit()

    assert told(scene, thread.id, "message") == {"author": ["message"]}


def test_an_internal_note_is_told_only_to_the_service_and_the_curators_who_follow(scene):
    thread = question(scene, title="Source des données")
    for person in (scene.other_user, scene.coordinator, scene.curator, scene.other_member):
        services.toggle_follow(thread, person)
    services.assign_thread(thread, scene.member, scene.coordinator)

    note = services.post_message(thread, scene.member, "À vérifier avec le SIG.", internal=True)
    db.session.commit()

    # Followed by the author, a passer-by, another service: none of them reads internal notes.
    assert told(scene, thread.id, "internal_note") == {"coordinator": ["internal_note"], "curator": ["internal_note"]}
    notification = only(thread.id, "internal_note")
    assert notification.text == "Mathilde Membre a écrit une note interne sur « Source des données »"
    assert notification.link == f"/fils/{thread.id}#message-{note.id}"


# Status changes, details, transfers, extensions, assignments ----------------------------------------------------


def test_a_refusal_tells_once_with_its_motive(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)

    services.change_status(
        thread, scene.member, ThreadStatus.DECLINED, decline_reason="not_held", motive="Donnée non détenue."
    )
    db.session.commit()

    assert told(scene, thread.id) == {
        "coordinator": [CREATED],
        "author": ["status_changed"],
        "other_user": ["status_changed"],
    }
    notification = only(thread.id, "status_changed")
    assert notification.text == "Mathilde Membre a passé « Source des données » au statut « Refusé »"
    assert notification.link == f"/fils/{thread.id}#message-{last_message(thread).id}"
    assert last_message(thread).body == "Donnée non détenue."


def test_asking_for_details_tells_the_author_then_a_second_question_is_a_message(scene):
    thread = data_request(scene, title="Demande trop large")

    services.ask_details(thread, scene.member, "Sur quelles communes ?")
    first = last_message(thread)
    services.ask_details(thread, scene.member, "Et pour quelle année ?")
    second = last_message(thread)
    db.session.commit()

    assert told(scene, thread.id) == {
        "coordinator": [CREATED],
        "author": ["status_changed", "message"],
    }
    asked, again = [n for n in notifications_of_thread(thread.id) if n.recipient_id == scene.author.id]
    assert asked.text == "Mathilde Membre demande des précisions sur « Demande trop large »"
    assert asked.link == f"/fils/{thread.id}#message-{first.id}"
    assert again.text == "Mathilde Membre, pour DDT du Loiret, demande des précisions sur « Demande trop large »"
    assert again.link == f"/fils/{thread.id}#message-{second.id}"


def test_withdrawing_and_reopening_tell_the_others_not_the_author(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)
    services.assign_thread(thread, scene.member, scene.coordinator)

    services.withdraw_thread(thread, scene.author)
    services.reopen_thread(thread, scene.author)
    db.session.commit()

    assert told(scene, thread.id, "status_changed") == {
        "coordinator": ["status_changed", "status_changed"],
        "other_user": ["status_changed", "status_changed"],
    }
    texts = [n.text for n in notifications_of_thread(thread.id) if n.recipient_id == scene.other_user.id]
    assert texts == [
        "Alice Autrice a passé « Source des données » au statut « Retiré »",
        "Alice Autrice a rouvert « Source des données »",
    ]


def test_a_transfer_tells_the_author_the_followers_and_the_receiving_service(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)
    services.assign_thread(thread, scene.member, scene.coordinator)

    services.transfer_thread(thread, scene.member, scene.other_producer, "La Nièvre détient cette donnée.")
    db.session.commit()

    assert told(scene, thread.id, "transferred") == {
        "author": ["transferred"],
        "other_user": ["transferred"],
        "other_producer": ["transferred"],
    }
    assert told(scene, thread.id, "message") == {}  # the word on the transfer goes with the transfer
    notification = only(thread.id, "transferred")
    assert notification.text == "Mathilde Membre a transféré « Source des données » à DDT de la Nièvre"
    assert notification.link == f"/fils/{thread.id}#message-{last_message(thread).id}"


def test_an_extension_tells_the_author_the_new_date(scene, moment):
    thread = data_request(scene, title="Demande volumineuse", created_at=JANUARY_31)
    moment(datetime(2026, 2, 20, 12, 0, tzinfo=UTC))

    services.extend_deadline(thread, scene.member, "Volume important : 40 communes.")
    db.session.commit()

    assert told(scene, thread.id, "deadline_extended") == {"author": ["deadline_extended"]}
    assert told(scene, thread.id, "message") == {}
    notification = only(thread.id, "deadline_extended")
    # 31 January + two calendar months.
    assert notification.text == (
        "Mathilde Membre a prolongé jusqu'au 31 mars 2026 le délai de réponse de « Demande volumineuse »"
    )
    assert notification.link == f"/fils/{thread.id}#message-{last_message(thread).id}"
    assert notification.created_at == datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def test_an_assignment_tells_the_assignee_only(scene):
    thread = question(scene, title="Source des données")
    services.toggle_follow(thread, scene.other_user)

    services.assign_thread(thread, scene.member, scene.coordinator)
    services.assign_thread(thread, scene.member, scene.member)  # to oneself: nobody to tell
    services.assign_thread(thread, scene.member, None)
    db.session.commit()

    assert told(scene, thread.id, "assigned") == {"coordinator": ["assigned"]}
    assert only(thread.id, "assigned").text == "Mathilde Membre vous a assigné « Source des données »"


def test_a_reclassification_tells_nobody(scene):
    thread = question(scene)

    services.reclassify_thread(thread, scene.member, ThreadKind.DATA_REQUEST)
    db.session.commit()

    assert told(scene, thread.id) == {"coordinator": [CREATED]}


def test_a_long_title_is_shortened_in_the_text(scene):
    title = "Zones inondables " * 11  # 186 characters once stripped
    thread = question(scene, title=title.strip())

    text = only(thread.id, CREATED).text
    quoted = text.split("« ", 1)[1].split(" »", 1)[0]
    # Cut at 119 characters (seven times "Zones inondables "), the space dropped, an ellipsis added.
    assert (
        quoted == "Zones inondables Zones inondables Zones inondables Zones inondables Zones inondables "
        "Zones inondables Zones inondables…"
    )


# What never happens -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("restricted", [True, False])
def test_a_restricted_thread_is_never_told_to_someone_who_may_no_longer_see_it(scene, restricted):
    thread = data_request(scene, title="Demande de la DDT", restricted=restricted)
    for person in (scene.coordinator, scene.curator):
        services.toggle_follow(thread, person)

    # After the transfer, the DDT du Loiret no longer sees a restricted request.
    services.transfer_thread(thread, scene.member, scene.other_producer, "La Nièvre détient cette donnée.")
    services.post_message(thread, scene.author, "Merci.")
    db.session.commit()

    transferred = {"author": ["transferred"], "curator": ["transferred"], "other_producer": ["transferred"]}
    replied = {"curator": ["message"]}
    if not restricted:  # the coordinator, who follows the thread and may still see it, is told of both
        transferred["coordinator"] = ["transferred"]
        replied["coordinator"] = ["message"]
        # The member who wrote the transfer message follows the thread since, and may still see it.
        replied["member"] = ["message"]
    assert told(scene, thread.id, "transferred") == transferred
    assert told(scene, thread.id, "message") == replied


def test_the_person_who_acts_is_never_told(scene):
    thread = question(scene, author=scene.coordinator)
    services.toggle_follow(thread, scene.member)

    services.post_message(thread, scene.member, "Je regarde.")
    services.post_message(thread, scene.coordinator, "Merci.", internal=True)
    services.change_status(thread, scene.member, ThreadStatus.IN_PROGRESS)
    db.session.commit()

    # The coordinator opened the thread: nobody else of the service is told of it (the member did not ask).
    assert told(scene, thread.id) == {
        "member": ["internal_note"],
        "coordinator": ["message", "status_changed"],
    }


def test_placeholder_and_inactive_accounts_are_never_told_and_the_import_tells_nobody(scene, tmp_path):
    discussions = tmp_path / "discussions.json"
    discussions.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "id": "6b0000000000000000000001",
                        "title": "Lien mort",
                        "subject": {"class": "Dataset", "id": scene.dataset.catalogue_id},
                        "user": {"id": "000000000000000000000001", "first_name": "Camille", "last_name": "Data"},
                        "created": "2025-03-01T10:00:00+00:00",
                        "discussion": [
                            {
                                "content": "Le lien de téléchargement est mort.",
                                "posted_by": {"id": "000000000000000000000001"},
                                "posted_on": "2025-03-01T10:00:00+00:00",
                            }
                        ],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    summary = import_discussions([discussions])
    db.session.commit()
    assert summary.imported == 1
    assert count(Notification) == 0  # old discussions: nobody is told of them

    thread = db.session.scalars(sa.select(Thread).where(Thread.udata_id == "6b0000000000000000000001")).one()
    assert thread.author.password_hash is None and thread.author.active is False
    leaving = factories.create_user(name="Laure Partie")
    services.toggle_follow(thread, leaving)
    leaving.active = False

    services.post_message(thread, scene.member, "Le lien est rétabli.")
    db.session.commit()

    # The placeholder author, the account since closed, and the member who has just written.
    assert thread.followers_count == 3
    assert count(Notification) == 0


# Together or not at all ---------------------------------------------------------------------------------------


def test_a_change_and_its_notifications_are_written_together_or_not_at_all(web, scene, monkeypatch):
    thread = question(scene)
    web.sign_in(scene.member)
    real_notify_event = recipients.notify_event
    seen_in_the_transaction = []

    def notify_then_fail(*args, **kwargs):
        real_notify_event(*args, **kwargs)
        seen_in_the_transaction.append(count(Notification, Notification.kind == "message"))
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(recipients, "notify_event", notify_then_fail)
    with pytest.raises(RuntimeError):
        web.post(f"/fils/{thread.id}/messages", data={"body": "Notre réponse."})

    assert seen_in_the_transaction == [1]  # the author's notification was written, in the request's transaction
    assert count(Notification, Notification.kind == "message") == 0
    assert fresh(thread.id).messages_count == 1
    assert fresh(thread.id).status == ThreadStatus.NEW

    monkeypatch.setattr(recipients, "notify_event", real_notify_event)
    response = web.post(f"/fils/{thread.id}/messages", data={"body": "Notre réponse."})

    assert response.status_code == 303
    assert fresh(thread.id).messages_count == 2
    assert told(scene, thread.id, "message") == {"author": ["message"]}
