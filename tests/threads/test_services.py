"""The operations on threads (feedback.threads.services): what each one changes, the event it writes, the
counters it keeps, and what it refuses with a French message while leaving everything as it was."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.accounts.models import OrganisationKind
from feedback.database import utcnow
from feedback.extensions import db as _db
from feedback.threads import queries, services
from feedback.threads.models import (
    Message,
    Subscription,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
    Visibility,
    Vote,
)

from .. import factories
from .conftest import count, data_request, events_of, post_thread, question

# Thursday 30 April 2026, 10:00 in Paris. The fifteen working days after it skip 1 May, 8 May, Ascension
# (14 May), Whit Monday (25 May) and the weekends: the fifteenth is Wednesday 27 May 2026.
THURSDAY_30_APRIL = datetime(2026, 4, 30, 8, 0, tzinfo=UTC)
FIFTEEN_WORKING_DAYS_LATER = datetime(2026, 5, 27, 8, 0, tzinfo=UTC)
JANUARY_31 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def words_of(text: str) -> set[str]:
    return set(re.findall(r"[0-9a-z]+", text))


def event_types(thread: Thread) -> list[str]:
    return [event.type for event in events_of(thread.id)]


def nothing_written() -> None:
    assert count(Thread) == 0
    assert count(Message) == 0
    assert count(ThreadEvent) == 0
    assert count(Subscription) == 0


# Creating each kind -------------------------------------------------------------------------------------


def test_a_data_request_is_due_one_calendar_month_after_receipt(scene):
    thread = data_request(scene, created_at=JANUARY_31)

    assert thread.kind == "data_request"
    assert thread.status == "new" and thread.is_open is True
    assert thread.organisation_id == scene.producer.id  # the dataset's producer
    # 31 January + one calendar month = 28 February (2026 is not a leap year).
    assert thread.due_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert thread.created_at == JANUARY_31 and thread.last_activity_at == JANUARY_31
    assert thread.visibility == "public"


@pytest.mark.parametrize("kind", [ThreadKind.QUESTION, ThreadKind.QUALITY_ISSUE])
def test_other_kinds_get_the_service_target_in_working_days(scene, app, monkeypatch, kind):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 15)

    thread = post_thread(
        scene.author,
        kind,
        dataset=scene.dataset,
        category="dead_link" if kind == ThreadKind.QUALITY_ISSUE else None,
        created_at=THURSDAY_30_APRIL,
    )

    assert thread.due_at == FIFTEEN_WORKING_DAYS_LATER


def test_the_service_target_follows_the_setting(scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 3)

    thread = question(scene, created_at=THURSDAY_30_APRIL)

    # Friday 1 May is a holiday, then the weekend: Monday 4, Tuesday 5, Wednesday 6 May.
    assert thread.due_at == datetime(2026, 5, 6, 8, 0, tzinfo=UTC)


def test_a_missing_data_report_to_a_named_service_gets_the_service_target(scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 15)

    thread = post_thread(
        scene.author,
        ThreadKind.MISSING_DATA,
        title="Haies bocagères du Loiret",
        organisation=scene.producer,
        territory="D45",
        themes=("lc",),
        created_at=THURSDAY_30_APRIL,
    )

    assert thread.organisation_id == scene.producer.id
    assert thread.due_at == FIFTEEN_WORKING_DAYS_LATER
    assert thread.territory_code == "D45"
    assert [theme.code for theme in thread.themes] == ["lc"]


def test_a_missing_data_report_without_a_service_waits_unrouted_without_a_due_date(scene):
    thread = post_thread(
        scene.author, ThreadKind.MISSING_DATA, title="Haies bocagères", territory="D45", themes=("lc",)
    )

    assert thread.organisation_id is None
    assert thread.due_at is None
    assert thread.status == "new"
    assert [t.id for t in queries.unrouted_threads(1, 20).items] == [thread.id]


def test_a_quality_issue_keeps_its_dataset_and_category(scene):
    thread = post_thread(scene.author, ThreadKind.QUALITY_ISSUE, dataset=scene.dataset, category="outdated")

    assert thread.dataset_id == scene.dataset.id
    assert thread.quality_category == "outdated"
    assert thread.organisation_id == scene.producer.id


def test_creating_writes_the_first_message_the_event_and_the_author_follows(scene):
    thread = question(scene, body="Bonjour, **merci** d'avance.")

    messages = list(db_messages(thread))
    assert [(m.author_id, m.body, m.internal, m.as_organisation_id) for m in messages] == [
        (scene.author.id, "Bonjour, **merci** d'avance.", False, None)
    ]
    assert "<strong>merci</strong>" in messages[0].body_html
    assert (thread.messages_count, thread.public_messages_count) == (1, 1)
    assert thread.followers_count == 1
    assert count(Subscription, Subscription.thread_id == thread.id, Subscription.user_id == scene.author.id) == 1
    events = events_of(thread.id)
    assert [(e.type, e.actor_id, e.internal) for e in events] == [("created", scene.author.id, False)]
    assert events[0].payload == {"kind": "question", "organisation_id": scene.producer.id}


def db_messages(thread: Thread):
    return _db.session.scalars(
        sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at, Message.id)
    )


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        (
            ThreadKind.QUALITY_ISSUE,
            {"dataset": None, "category": "dead_link"},
            "dataset",
            "Un signalement qualité porte sur un jeu de données : indiquez lequel.",
        ),
        (ThreadKind.QUALITY_ISSUE, {"category": None}, "quality_category", "Choisissez la nature du problème."),
        (ThreadKind.QUALITY_ISSUE, {"category": "unknown"}, "quality_category", "Choisissez la nature du problème."),
        (
            ThreadKind.DATA_REQUEST,
            {"dataset": None},
            "dataset",
            "Indiquez le jeu de données ou le service producteur concerné.",
        ),
        (
            ThreadKind.MISSING_DATA,
            {"dataset": None, "territory": "D45"},
            "theme",
            "Indiquez le thème et le territoire de la donnée recherchée.",
        ),
        (
            ThreadKind.QUESTION,
            {"restricted": True},
            "restricted",
            "Seule une demande de données peut être restreinte.",
        ),
        (ThreadKind.QUESTION, {"title": "   "}, "title", "Donnez un titre à votre message."),
        (ThreadKind.QUESTION, {"title": "t" * 201}, "title", "Le titre ne doit pas dépasser 200 caractères."),
    ],
)
def test_creating_refuses_what_a_kind_lacks_and_writes_nothing(scene, kind, changes, field, message):
    values = {"dataset": scene.dataset, "category": None}
    values.update(changes)

    with pytest.raises(services.ThreadError) as refused:
        post_thread(scene.author, kind, commit=False, **values)

    assert str(refused.value) == message
    assert refused.value.field == field
    nothing_written()


def test_a_thread_is_addressed_only_to_a_producer(scene):
    consultancy = factories.create_organisation(
        name="Bureau d'études Hydro", kind=OrganisationKind.CONSULTANCY, is_producer=False
    )

    with pytest.raises(services.ThreadError) as refused:
        post_thread(scene.author, ThreadKind.QUESTION, organisation=consultancy, commit=False)

    assert refused.value.field == "organisation"
    assert "service producteur" in str(refused.value)
    nothing_written()


def test_a_restricted_data_request_is_restricted(scene):
    thread = data_request(scene, restricted=True)

    assert thread.visibility == Visibility.RESTRICTED.value


# Bodies -------------------------------------------------------------------------------------------------


def test_a_body_of_exactly_50_000_characters_is_accepted(scene):
    thread = question(scene, body="a" * 50_000)

    assert len(next(iter(db_messages(thread))).body) == 50_000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a" * 50_001, "Le message dépasse 50\u202f000 caractères (50\u202f001)."),
        ("", "Le message ne peut pas être vide."),
        ("  \n\t ", "Le message ne peut pas être vide."),
    ],
)
def test_a_thread_with_a_body_too_long_or_empty_is_refused(scene, body, message):
    with pytest.raises(services.ThreadError) as refused:
        question(scene, body=body, commit=False)

    assert str(refused.value) == message
    assert refused.value.field == "body"
    nothing_written()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("b" * 50_001, "Le message dépasse 50\u202f000 caractères (50\u202f001)."),
        ("   ", "Le message ne peut pas être vide."),
    ],
)
def test_a_reply_too_long_or_empty_is_refused_and_nothing_is_written(scene, body, message):
    thread = question(scene)

    with pytest.raises(services.ThreadError) as refused:
        services.post_message(thread, scene.member, body)

    assert str(refused.value) == message
    assert count(Message) == 1
    assert count(ThreadEvent) == 1
    assert (thread.messages_count, thread.public_messages_count, thread.status) == (1, 1, "new")
    assert thread.first_response_at is None


# Messages and the automatic status changes ------------------------------------------------------------


def test_the_first_official_answer_acknowledges_the_thread(scene):
    thread = question(scene)
    answered_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    message = services.post_message(thread, scene.member, "Nous regardons cela.", posted_at=answered_at)

    assert message.as_organisation_id == scene.producer.id
    assert thread.status == "acknowledged"
    assert thread.first_response_at == answered_at
    assert thread.last_activity_at == answered_at
    assert (thread.messages_count, thread.public_messages_count) == (2, 2)
    assert event_types(thread) == ["created", "message", "status_changed"]
    change = events_of(thread.id)[-1]
    assert change.payload["previous"] == "new" and change.payload["status"] == "acknowledged"
    assert change.payload["automatic"] is True


def test_a_second_official_answer_keeps_the_first_response_date(scene):
    thread = question(scene)
    first = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    services.post_message(thread, scene.member, "Nous regardons cela.", posted_at=first)

    services.post_message(thread, scene.coordinator, "C'est corrigé.", posted_at=first + timedelta(days=2))

    assert thread.first_response_at == first
    assert thread.status == "acknowledged"
    assert event_types(thread) == ["created", "message", "status_changed", "message"]


@pytest.mark.parametrize("replier", ["other_user", "other_producer", "curator", "author"])
def test_a_reply_of_anyone_but_a_member_of_the_service_is_not_an_answer(scene, replier):
    thread = question(scene)

    message = services.post_message(thread, scene.actor(replier), "Même problème de mon côté.")

    assert message.as_organisation_id is None
    assert thread.status == "new"
    assert thread.first_response_at is None
    assert (thread.messages_count, thread.public_messages_count) == (2, 2)


def test_an_internal_note_is_not_an_answer_and_is_not_public(scene):
    thread = question(scene)

    note = services.post_message(thread, scene.member, "Voir avec le SIG.", internal=True)

    assert note.internal is True and note.as_organisation_id is None
    assert thread.status == "new"
    assert thread.first_response_at is None
    assert (thread.messages_count, thread.public_messages_count) == (2, 1)
    event = events_of(thread.id)[-1]
    assert (event.type, event.internal) == ("internal_note", True)
    # Internal notes are not searchable.
    assert "sig" not in words_of(thread.search_text)


def test_only_producers_and_curators_post_internal_notes(scene):
    thread = question(scene)

    for person in (scene.author, scene.other_user, scene.other_member):
        with pytest.raises(services.PermissionDenied):
            services.post_message(thread, person, "Note", internal=True)

    services.post_message(thread, scene.curator, "Note de l'administration", internal=True)
    assert (thread.messages_count, thread.public_messages_count) == (2, 1)


def test_the_authors_reply_to_a_request_for_details_acknowledges_the_thread_again(scene):
    thread = question(scene)

    services.ask_details(thread, scene.member, "Sur quelle commune exactement ?")
    assert thread.status == "needs_info"
    assert thread.first_response_at is not None  # the question is the service's first answer
    services.post_message(thread, scene.other_user, "Je me pose la même question.")
    assert thread.status == "needs_info"

    services.post_message(thread, scene.author, "Sur Orléans.")

    assert thread.status == "acknowledged"
    assert event_types(thread) == [
        "created",
        "status_changed",  # → needs_info
        "message",  # the question
        "message",  # the other user
        "message",  # the author
        "status_changed",  # → acknowledged
    ]
    assert events_of(thread.id)[-1].payload["automatic"] is True
    assert thread.messages_count == 4


# Status changes ----------------------------------------------------------------------------------------


def test_declining_needs_a_reason_and_a_motive(scene):
    thread = question(scene)

    with pytest.raises(services.ThreadError) as no_reason:
        services.change_status(thread, scene.member, ThreadStatus.DECLINED, motive="Hors champ.")
    with pytest.raises(services.ThreadError) as no_motive:
        services.change_status(thread, scene.member, ThreadStatus.DECLINED, decline_reason="not_held", motive="  ")

    assert (no_reason.value.field, str(no_reason.value)) == ("decline_reason", "Choisissez le motif du refus.")
    assert no_motive.value.field == "motive"
    assert str(no_motive.value) == "Expliquez le refus au demandeur : le motif est obligatoire."
    assert thread.status == "new" and thread.decline_reason is None
    assert event_types(thread) == ["created"]


def test_declining_closes_the_thread_and_tells_the_requester_why(scene):
    thread = question(scene)

    services.change_status(
        thread, scene.member, ThreadStatus.DECLINED, decline_reason="not_held", motive="Voyez la DREAL."
    )

    assert thread.status == "declined" and thread.is_open is False
    assert thread.closed_at is not None
    assert thread.decline_reason == "not_held"
    assert [m.body for m in db_messages(thread)][-1] == "Voyez la DREAL."
    assert event_types(thread) == ["created", "status_changed", "message"]
    payload = events_of(thread.id)[1].payload
    assert (payload["status"], payload["reason"], payload["motive"]) == ("declined", "not_held", "Voyez la DREAL.")
    assert payload["automatic"] is False
    assert (thread.messages_count, thread.public_messages_count) == (2, 2)


@pytest.mark.parametrize("status", [ThreadStatus.NEW, ThreadStatus.ACKNOWLEDGED])
def test_a_thread_neither_goes_back_to_new_nor_to_where_it_stands(scene, status):
    thread = question(scene)
    services.post_message(thread, scene.member, "Pris en compte.")

    with pytest.raises(services.ThreadError):
        services.change_status(thread, scene.member, status)

    assert thread.status == "acknowledged"


def test_closing_and_reopening(scene):
    thread = question(scene)
    services.change_status(thread, scene.member, ThreadStatus.IN_PROGRESS)
    services.change_status(thread, scene.member, ThreadStatus.RESOLVED)
    assert (thread.status, thread.is_open) == ("resolved", False)
    assert thread.closed_at is not None

    services.reopen_thread(thread, scene.author)

    # Nobody of the service has written: the thread is new again.
    assert (thread.status, thread.is_open, thread.closed_at) == ("new", True, None)
    assert event_types(thread) == ["created", "status_changed", "status_changed", "status_changed"]
    assert events_of(thread.id)[-1].payload["reopened"] is True


def test_the_author_withdraws_an_open_thread(scene):
    thread = question(scene)

    services.withdraw_thread(thread, scene.author)

    assert (thread.status, thread.is_open) == ("withdrawn", False)
    with pytest.raises(services.PermissionDenied):
        services.withdraw_thread(thread, scene.author)


def test_a_resolved_data_request_names_the_dataset_that_answers_it(scene):
    thread = data_request(scene)
    published = factories.create_dataset(title="Zones inondables du Loiret (GeoPackage)", organisation=scene.producer)

    services.change_status(thread, scene.member, ThreadStatus.RESOLVED, resolution_dataset=published)

    assert thread.status == "resolved"
    assert thread.resolution_dataset_id == published.id
    assert events_of(thread.id)[-1].payload["resolution_dataset_id"] == published.id


def test_a_missing_data_report_may_be_resolved_by_a_dataset(scene):
    thread = post_thread(
        scene.author,
        ThreadKind.MISSING_DATA,
        title="Haies",
        organisation=scene.producer,
        territory="D45",
        themes=("lc",),
    )
    published = factories.create_dataset(title="Haies du Loiret", organisation=scene.producer)

    services.change_status(thread, scene.member, ThreadStatus.RESOLVED, resolution_dataset=published)

    assert thread.resolution_dataset_id == published.id


@pytest.mark.parametrize("kind", [ThreadKind.QUESTION, ThreadKind.QUALITY_ISSUE])
def test_only_requests_and_missing_data_are_resolved_by_a_dataset(scene, kind):
    thread = post_thread(
        scene.author, kind, dataset=scene.dataset, category="dead_link" if kind == ThreadKind.QUALITY_ISSUE else None
    )
    other = factories.create_dataset(title="Autre", organisation=scene.producer)

    with pytest.raises(services.ThreadError) as refused:
        services.change_status(thread, scene.member, ThreadStatus.RESOLVED, resolution_dataset=other)

    assert refused.value.field == "resolution_dataset"
    assert thread.status == "new" and thread.resolution_dataset_id is None
    assert event_types(thread) == ["created"]


def test_a_stale_version_is_a_conflict(scene):
    thread = question(scene)
    seen = thread.version
    services.change_status(thread, scene.member, ThreadStatus.IN_PROGRESS, expected_version=seen)
    _db.session.flush()

    with pytest.raises(services.Conflict) as conflict:
        services.change_status(thread, scene.coordinator, ThreadStatus.RESOLVED, expected_version=seen)

    assert "modifié par quelqu'un d'autre" in str(conflict.value)
    assert thread.status == "in_progress"


# Duplicates --------------------------------------------------------------------------------------------


@pytest.fixture
def original_and_duplicate(scene):
    original = question(scene, title="Lien de téléchargement cassé")
    duplicate = question(scene, author=scene.other_user, title="Téléchargement impossible")
    services.toggle_vote(original, scene.other_member)
    services.toggle_vote(duplicate, scene.other_member)  # votes for both: must count once
    services.toggle_vote(duplicate, scene.curator)
    services.toggle_follow(duplicate, scene.author)  # follows both (the original as its author)
    _db.session.commit()
    return original, duplicate


def test_a_duplicate_moves_its_votes_and_followers_to_the_original_without_double_counting(
    scene, original_and_duplicate
):
    original, duplicate = original_and_duplicate
    assert (original.votes_count, original.followers_count) == (1, 1)
    assert (duplicate.votes_count, duplicate.followers_count) == (2, 2)

    services.change_status(duplicate, scene.member, ThreadStatus.DUPLICATE, duplicate_of=original)

    assert (duplicate.status, duplicate.is_open, duplicate.duplicate_of_id) == ("duplicate", False, original.id)
    # Votes: other_member (on both) once, the curator; followers: the author (on both) once, other_user.
    assert original.votes_count == 2
    assert original.followers_count == 2
    assert set(_db.session.scalars(sa.select(Vote.user_id).where(Vote.thread_id == original.id))) == {
        scene.other_member.id,
        scene.curator.id,
    }
    followers = sa.select(Subscription.user_id).where(Subscription.thread_id == original.id)
    assert set(_db.session.scalars(followers)) == {scene.author.id, scene.other_user.id}
    assert events_of(duplicate.id)[-1].payload["original_id"] == original.id


def test_a_duplicate_needs_its_original(scene, original_and_duplicate):
    _, duplicate = original_and_duplicate

    with pytest.raises(services.ThreadError) as refused:
        services.change_status(duplicate, scene.member, ThreadStatus.DUPLICATE)

    assert refused.value.field == "duplicate_of"
    assert duplicate.status == "new"


def test_a_thread_is_not_the_duplicate_of_itself(scene, original_and_duplicate):
    original, _ = original_and_duplicate

    with pytest.raises(services.ThreadError) as refused:
        services.change_status(original, scene.member, ThreadStatus.DUPLICATE, duplicate_of=original)

    assert str(refused.value) == "Un fil ne peut pas être le doublon de lui-même."
    assert (original.status, original.duplicate_of_id) == ("new", None)


def test_duplicates_do_not_make_a_cycle(scene, original_and_duplicate):
    original, duplicate = original_and_duplicate
    services.change_status(duplicate, scene.member, ThreadStatus.DUPLICATE, duplicate_of=original)
    third = question(scene, author=scene.other_user, title="Encore le lien")
    services.change_status(third, scene.member, ThreadStatus.DUPLICATE, duplicate_of=duplicate)
    events_before = count(ThreadEvent)

    # original ← duplicate ← third: the original cannot become the duplicate of either.
    for target in (duplicate, third):
        with pytest.raises(services.ThreadError) as refused:
            services.change_status(original, scene.member, ThreadStatus.DUPLICATE, duplicate_of=target)
        assert refused.value.field == "duplicate_of"

    assert (original.status, original.duplicate_of_id) == ("new", None)
    assert count(ThreadEvent) == events_before


# Transfer, extension, assignment, reclassification --------------------------------------------------------


def test_a_transfer_changes_the_service_tells_the_requester_and_clears_the_assignee(scene):
    thread = question(scene)
    services.assign_thread(thread, scene.member, scene.coordinator)
    assert thread.assignee_id == scene.coordinator.id

    services.transfer_thread(thread, scene.member, scene.other_producer, "La DDT de la Nièvre détient ces données.")

    assert thread.organisation_id == scene.other_producer.id
    assert thread.assignee_id is None
    last_message = list(db_messages(thread))[-1]
    assert last_message.body == "La DDT de la Nièvre détient ces données."
    assert last_message.internal is False
    assert event_types(thread)[-2:] == ["message", "transferred"]
    payload = events_of(thread.id)[-1].payload
    assert payload == {
        "previous_organisation_id": scene.producer.id,
        "organisation_id": scene.other_producer.id,
        "organisation_name": "DDT de la Nièvre",
    }
    # Now the other service answers for it, and the first one no longer does.
    services.change_status(thread, scene.other_member, ThreadStatus.IN_PROGRESS)
    with pytest.raises(services.PermissionDenied):
        services.change_status(thread, scene.member, ThreadStatus.RESOLVED)


def test_a_transfer_needs_another_producer_and_a_message(scene):
    thread = question(scene)
    association = factories.create_organisation(name="Association Loiret Nature", is_producer=False)

    with pytest.raises(services.ThreadError) as same:
        services.transfer_thread(thread, scene.member, scene.producer, "Pour nous.")
    with pytest.raises(services.ThreadError) as not_producer:
        services.transfer_thread(thread, scene.member, association, "Pour eux.")
    with pytest.raises(services.ThreadError) as no_message:
        services.transfer_thread(thread, scene.member, scene.other_producer, " ")

    assert same.value.field == not_producer.value.field == "organisation"
    assert no_message.value.field == "body"
    assert thread.organisation_id == scene.producer.id
    assert event_types(thread) == ["created"]
    assert thread.messages_count == 1


def test_a_data_request_is_extended_to_two_months_once_within_the_first_month(scene, moment):
    thread = data_request(scene, created_at=JANUARY_31)
    moment(datetime(2026, 2, 20, 12, 0, tzinfo=UTC))

    services.extend_deadline(thread, scene.member, "Volume important : 40 communes.")

    assert thread.deadline_extended is True
    assert thread.due_at == datetime(2026, 3, 31, 9, 0, tzinfo=UTC)  # 31 January + 2 months
    assert event_types(thread)[-2:] == ["message", "deadline_extended"]
    payload = events_of(thread.id)[-1].payload
    assert payload["motive"] == "Volume important : 40 communes."
    assert payload["previous_due_at"] == "2026-02-28T09:00:00+00:00"
    assert [m.body for m in db_messages(thread)][-1] == "Volume important : 40 communes."

    with pytest.raises(services.PermissionDenied):
        services.extend_deadline(thread, scene.member, "Encore un peu.")
    assert thread.due_at == datetime(2026, 3, 31, 9, 0, tzinfo=UTC)


def test_the_last_moment_to_extend_is_the_end_of_the_first_month(scene, moment):
    thread = data_request(scene, created_at=JANUARY_31)
    moment(datetime(2026, 2, 28, 9, 0, tzinfo=UTC))

    services.extend_deadline(thread, scene.member, "Complexité de l'extraction.")

    assert thread.due_at == datetime(2026, 3, 31, 9, 0, tzinfo=UTC)


def test_a_data_request_is_not_extended_after_its_first_month(scene, moment):
    thread = data_request(scene, created_at=JANUARY_31)
    moment(datetime(2026, 2, 28, 9, 1, tzinfo=UTC))

    with pytest.raises(services.ThreadError) as refused:
        services.extend_deadline(thread, scene.member, "Trop tard.")

    assert str(refused.value) == "Le délai d'un mois est dépassé : il ne peut plus être prolongé."
    assert thread.deadline_extended is False
    assert thread.due_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert event_types(thread) == ["created"]


def test_a_data_request_received_forty_days_ago_is_not_extended(scene):
    thread = data_request(scene, created_at=utcnow() - timedelta(days=40))

    with pytest.raises(services.ThreadError):
        services.extend_deadline(thread, scene.member, "Trop tard.")

    assert thread.deadline_extended is False
    assert thread.messages_count == 1


def test_a_request_reclassified_as_a_data_request_may_be_extended_within_the_first_month_of_receipt(scene):
    """R124-1 counts the month from receipt: a question received 25 days ago (its 15-working-day target
    already past) that the service reclassifies as a data request is still in its first month."""
    received = utcnow() - timedelta(days=25)
    thread = question(scene, created_at=received)
    services.reclassify_thread(thread, scene.member, ThreadKind.DATA_REQUEST)

    services.extend_deadline(thread, scene.member, "Demande complexe.")

    assert thread.deadline_extended is True
    assert thread.due_at == add_months(received, 2)


def test_a_question_reclassified_as_a_data_request_gets_the_legal_deadline(scene):
    """Every data request is due one calendar month after receipt (R124-1), whatever it was filed as."""
    received = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    thread = question(scene, created_at=received)
    assert thread.due_at == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # 15 working days, the service target

    services.reclassify_thread(thread, scene.member, ThreadKind.DATA_REQUEST)

    assert thread.due_at == datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, by hand: the same day of the month, or the month's last day when it has no such day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days_in_month = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month[month - 1]))


def test_only_data_requests_are_extended(scene):
    thread = question(scene)

    with pytest.raises(services.PermissionDenied):
        services.extend_deadline(thread, scene.member, "Motif")


def test_an_extension_needs_a_motive(scene):
    thread = data_request(scene)

    with pytest.raises(services.ThreadError) as refused:
        services.extend_deadline(thread, scene.member, "  ")

    assert refused.value.field == "motive"
    assert thread.deadline_extended is False


def test_a_thread_is_assigned_only_to_a_member_of_its_service(scene):
    thread = question(scene)

    with pytest.raises(services.ThreadError) as refused:
        services.assign_thread(thread, scene.member, scene.other_member)
    assert refused.value.field == "assignee"
    assert thread.assignee_id is None
    with pytest.raises(services.ThreadError):
        services.assign_thread(thread, scene.member, scene.author)

    services.assign_thread(thread, scene.member, scene.coordinator)
    assert thread.assignee_id == scene.coordinator.id
    services.assign_thread(thread, scene.coordinator, None)
    assert thread.assignee_id is None

    assert event_types(thread) == ["created", "assigned", "assigned"]
    assert [e.payload["assignee_name"] for e in events_of(thread.id)[1:]] == ["Claude Coordinatrice", None]


def test_reclassifying_as_a_quality_issue_needs_a_dataset_and_a_category(scene):
    without_dataset = question(scene, dataset=None, organisation=scene.producer)
    with_dataset = question(scene)

    with pytest.raises(services.ThreadError) as no_dataset:
        services.reclassify_thread(without_dataset, scene.member, ThreadKind.QUALITY_ISSUE, "dead_link")
    with pytest.raises(services.ThreadError) as no_category:
        services.reclassify_thread(with_dataset, scene.member, ThreadKind.QUALITY_ISSUE, None)

    assert no_dataset.value.field == "kind"
    assert no_category.value.field == "quality_category"
    assert without_dataset.kind == with_dataset.kind == "question"

    services.reclassify_thread(with_dataset, scene.member, ThreadKind.QUALITY_ISSUE, "data_error")

    assert (with_dataset.kind, with_dataset.quality_category) == ("quality_issue", "data_error")
    event = events_of(with_dataset.id)[-1]
    assert event.type == "reclassified"
    assert event.payload == {
        "previous": {"kind": "question", "quality_category": None},
        "kind": "quality_issue",
        "quality_category": "data_error",
    }

    # Back to a question: the category goes.
    services.reclassify_thread(with_dataset, scene.member, ThreadKind.QUESTION, "data_error")
    assert (with_dataset.kind, with_dataset.quality_category) == ("question", None)
    with pytest.raises(services.ThreadError) as unchanged:
        services.reclassify_thread(with_dataset, scene.member, ThreadKind.QUESTION)
    assert str(unchanged.value) == "Rien n'a changé."


# Votes and followers --------------------------------------------------------------------------------------


def test_votes_toggle_and_the_counter_follows(scene):
    thread = question(scene)

    assert services.toggle_vote(thread, scene.other_user) is True
    assert services.toggle_vote(thread, scene.other_member) is True
    assert thread.votes_count == 2
    assert services.toggle_vote(thread, scene.other_user) is False
    assert thread.votes_count == 1
    assert count(Vote, Vote.thread_id == thread.id) == 1

    with pytest.raises(services.PermissionDenied):
        services.toggle_vote(thread, scene.author)
    assert thread.votes_count == 1


def test_following_toggles_and_the_counter_follows(scene):
    thread = question(scene)

    assert services.toggle_follow(thread, scene.other_user) is True
    assert thread.followers_count == 2
    assert services.toggle_follow(thread, scene.author) is False
    assert services.toggle_follow(thread, scene.other_user) is False
    assert thread.followers_count == 0
    assert count(Subscription, Subscription.thread_id == thread.id) == 0
    assert services.toggle_follow(thread, scene.author) is True
    assert thread.followers_count == 1


# Editing a message ------------------------------------------------------------------------------------------


def test_editing_a_message_marks_it_edited_and_renders_it_again(scene):
    thread = question(scene, body="Le lien est mort depuis lundi.")
    message = next(iter(db_messages(thread)))

    services.edit_message(message, scene.author, "Le lien **ftp** est mort depuis mardi.")

    assert message.body == "Le lien **ftp** est mort depuis mardi."
    assert "<strong>ftp</strong>" in message.body_html
    assert message.edited_at is not None
    assert event_types(thread) == ["created", "message_edited"]
    assert events_of(thread.id)[-1].payload == {"message_id": message.id}
    # The search reads the new text, not the old one.
    words = words_of(thread.search_text)
    assert "mardi" in words and "lundi" not in words
    found = queries.search_threads(queries.ThreadFilters(q="mardi"), scene.other_user, 1, 20)
    assert [t.id for t in found.items] == [thread.id]
    assert queries.search_threads(queries.ThreadFilters(q="lundi"), scene.other_user, 1, 20).total == 0


def test_only_the_author_of_a_message_edits_it(scene):
    thread = question(scene, body="Texte d'origine.")
    message = next(iter(db_messages(thread)))

    for person in (scene.other_user, scene.member, scene.curator):
        with pytest.raises(services.PermissionDenied):
            services.edit_message(message, person, "Texte changé.")
    with pytest.raises(services.ThreadError):
        services.edit_message(message, scene.author, "x" * 50_001)

    assert message.body == "Texte d'origine." and message.edited_at is None
    assert event_types(thread) == ["created"]


# The event log and the counters over a whole life ----------------------------------------------------------


def test_every_change_writes_one_event_and_the_counters_stay_right(scene):
    thread = data_request(scene)
    steps = [
        (lambda: services.post_message(thread, scene.member, "Bien reçu."), 2, (2, 2)),  # message + → acknowledged
        (lambda: services.post_message(thread, scene.member, "À voir.", internal=True), 1, (3, 2)),
        (lambda: services.ask_details(thread, scene.member, "Quel format ?"), 2, (4, 3)),  # → needs_info + message
        (lambda: services.post_message(thread, scene.author, "GeoPackage."), 2, (5, 4)),  # message + → acknowledged
        (lambda: services.extend_deadline(thread, scene.member, "Extraction lourde."), 2, (6, 5)),
        (lambda: services.assign_thread(thread, scene.member, scene.coordinator), 1, (6, 5)),
        (lambda: services.change_status(thread, scene.coordinator, ThreadStatus.IN_PROGRESS), 1, (6, 5)),
        (lambda: services.transfer_thread(thread, scene.member, scene.other_producer, "Voir la Nièvre."), 2, (7, 6)),
        (lambda: services.reclassify_thread(thread, scene.other_member, ThreadKind.QUESTION), 1, (7, 6)),
        (
            lambda: services.change_status(
                thread, scene.other_member, ThreadStatus.DECLINED, decline_reason="not_held", motive="Pas chez nous."
            ),
            2,
            (8, 7),
        ),
        (lambda: services.reopen_thread(thread, scene.author), 1, (8, 7)),
        (lambda: services.withdraw_thread(thread, scene.author), 1, (8, 7)),
    ]
    expected_events = 1
    for number, (operation, new_events, (messages, public)) in enumerate(steps, start=1):
        operation()
        expected_events += new_events
        assert count(ThreadEvent, ThreadEvent.thread_id == thread.id) == expected_events, f"step {number}"
        assert (thread.messages_count, thread.public_messages_count) == (messages, public), f"step {number}"
        assert count(Message, Message.thread_id == thread.id) == messages, f"step {number}"
        assert count(Message, Message.thread_id == thread.id, Message.internal.is_(False)) == public

    assert thread.status == "withdrawn"
    # Only the internal note's event is internal.
    internal = [e.type for e in events_of(thread.id) if e.internal]
    assert internal == ["internal_note"]


def test_routing_an_unrouted_report_writes_an_event_and_starts_the_clock_from_receipt(scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 15)
    thread = post_thread(
        scene.author,
        ThreadKind.MISSING_DATA,
        title="Haies",
        territory="D45",
        themes=("lc",),
        created_at=THURSDAY_30_APRIL,
    )

    with pytest.raises(services.PermissionDenied):
        services.route_thread(thread, scene.member, scene.producer)
    services.route_thread(thread, scene.curator, scene.producer)

    assert thread.organisation_id == scene.producer.id
    assert thread.due_at == FIFTEEN_WORKING_DAYS_LATER
    assert event_types(thread) == ["created", "routed"]


def test_search_text_is_normalised_title_and_public_messages(scene):
    thread = question(scene, title="Téléchargement", body="Problème d'accès")
    services.post_message(thread, scene.member, "Réponse publique")
    services.post_message(thread, scene.member, "Confidentiel", internal=True)

    words = words_of(thread.search_text)
    assert {"telechargement", "probleme", "reponse", "publique"} <= words
    assert "confidentiel" not in words


def test_a_regional_service_inbox_holds_the_open_threads_of_its_regions_departements(scene):
    """The rule of the DREAL's read-only view, asked of the query: its région's DDTs' open threads it may see."""
    dreal = factories.create_organisation(
        name="DREAL Centre-Val de Loire", kind=OrganisationKind.DREAL, territory_code="R24"
    )
    agent = factories.create_user(name="Denise Dreal", organisation=dreal)
    loiret = data_request(scene, title="Zones humides du Loiret")
    restricted = data_request(scene, title="Captages du Loiret", restricted=True)
    elsewhere = data_request(
        scene, title="Hors région", organisation=factories.create_organisation(territory_code="D13")
    )
    services.change_status(data_request(scene, title="Déjà résolue"), scene.member, ThreadStatus.RESOLVED)
    _db.session.commit()

    box = queries.inbox(agent, "ouverts", 1, 20)

    assert [o.name for o in box.producers] == ["DREAL Centre-Val de Loire"]
    assert box.regional is not None
    assert [t.id for t in box.regional.items] == [loiret.id]
    assert restricted.id not in [t.id for t in box.regional.items] and elsewhere.id not in box.regional.items
    assert queries.inbox(scene.member, "ouverts", 1, 20).regional is None  # a DDT oversees no région
    assert queries.inbox(scene.author, "ouverts", 1, 20).producers == []
