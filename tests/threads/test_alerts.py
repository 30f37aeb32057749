"""`flask deadlines check` (feedback.threads.alerts): reminders 7 days and 1 day before a data request's
deadline, escalations of overdue threads and of threads their service left without action, each sent once,
to people who may see the thread. Every expected date was counted on a calendar (Paris time: UTC+1 in
winter); the escalation delay is the default, 10 working days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event

from feedback.accounts import services as accounts
from feedback.accounts.models import Membership
from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.threads import alerts, services
from feedback.threads.models import DeadlineAlert, ThreadEvent, ThreadKind, ThreadStatus

from .. import factories
from .conftest import count, data_request, events_of, fresh, post_thread, question

# A data request received on Monday 2 November 2026 at 09:00 in Paris: due on Wednesday 2 December at 09:00.
RECEIVED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
TITLE = "Demande des zones inondables au format GeoPackage"


def check(now: datetime) -> alerts.CheckSummary:
    """One run, as cron starts it: in its own application context (its own session), committed; then the
    test's session reads what it wrote."""
    db.session.commit()
    with current_app.app_context():
        summary = alerts.check_deadlines(now)
        db.session.commit()
    db.session.rollback()
    return summary


def told(scene, thread_id: int, kind: str) -> dict[str, list[str]]:
    """Who got a notification of `kind` on the thread (their names in the scene) → its texts, in order."""
    names = {
        getattr(scene, name).id: name
        for name in ("author", "other_user", "member", "coordinator", "other_member", "curator")
    }
    result: dict[str, list[str]] = {}
    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.thread_id == thread_id, Notification.kind == kind)
        .order_by(Notification.id)
    )
    for notification in rows:
        result.setdefault(names.get(notification.recipient_id, str(notification.recipient_id)), []).append(
            notification.text
        )
    return result


def alert_keys(thread_id: int) -> list[str]:
    return list(
        db.session.scalars(sa.select(DeadlineAlert.key).where(DeadlineAlert.thread_id == thread_id).order_by("id"))
    )


def answered_request(scene, **overrides):
    """A data request its service has answered (so that only its deadline matters), still open."""
    thread = data_request(scene, created_at=RECEIVED, **overrides)
    services.post_message(thread, scene.member, "Nous préparons l'extrait.", posted_at=RECEIVED + timedelta(days=1))
    db.session.commit()
    assert thread.due_at == DUE and thread.first_response_at is not None
    return thread


# Reminders ------------------------------------------------------------------------------------------------------


def test_reminders_go_7_days_then_1_day_before_the_deadline_once_each(scene):
    thread = answered_request(scene)

    assert check(DUE - timedelta(days=7, minutes=1)).reminders == 0  # not yet
    first = check(DUE - timedelta(days=6, hours=23))  # Wednesday 25 November, 10:00 in Paris
    again = check(DUE - timedelta(days=6, hours=20))
    second = check(DUE - timedelta(hours=23))  # Tuesday 1 December, 10:00 in Paris
    last = check(DUE - timedelta(hours=1))

    assert (first.reminders, first.notifications) == (1, 1)
    assert (again.reminders, again.notifications) == (0, 0)
    assert (second.reminders, second.notifications) == (1, 1)
    assert (last.reminders, last.notifications) == (0, 0)
    # No assignee: the coordinators of the service (the plain member is not told).
    assert told(scene, thread.id, "deadline_reminder") == {
        "coordinator": [
            f"Échéance dans 7 jours : la réponse à « {TITLE} » est attendue au plus tard le 2 décembre 2026",
            f"Échéance demain : la réponse à « {TITLE} » est attendue au plus tard le 2 décembre 2026",
        ]
    }
    assert alert_keys(thread.id) == ["reminder_7_days:2026-12-02", "reminder_1_day:2026-12-02"]
    notification = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "deadline_reminder").order_by(Notification.id)
    ).first()
    assert notification.link == f"/fils/{thread.id}"
    assert notification.created_at == DUE - timedelta(days=6, hours=23)
    # A reminder changes nothing in the thread: no event in its timeline.
    assert [event.type for event in events_of(thread.id)] == ["created", "message", "status_changed"]


def test_a_reminder_goes_to_the_assignee_when_there_is_one(scene):
    thread = answered_request(scene)
    services.assign_thread(thread, scene.coordinator, scene.member)
    db.session.commit()

    check(DUE - timedelta(days=3))

    assert told(scene, thread.id, "deadline_reminder") == {
        "member": [f"Échéance dans 3 jours : la réponse à « {TITLE} » est attendue au plus tard le 2 décembre 2026"]
    }


def test_a_request_first_seen_on_its_last_day_gets_only_the_last_reminder(scene):
    thread = answered_request(scene)

    summary = check(DUE - timedelta(hours=2))  # Wednesday 2 December, 07:00 in Paris

    assert summary.reminders == 1
    assert alert_keys(thread.id) == ["reminder_1_day:2026-12-02"]
    assert told(scene, thread.id, "deadline_reminder") == {
        "coordinator": [f"Échéance aujourd'hui : la réponse à « {TITLE} » est attendue au plus tard le 2 décembre 2026"]
    }


def test_a_deadline_already_past_when_first_seen_gets_no_reminder(scene):
    thread = answered_request(scene)

    summary = check(DUE + timedelta(minutes=5))

    assert summary.reminders == 0
    assert told(scene, thread.id, "deadline_reminder") == {}
    assert alert_keys(thread.id) == ["coordinators"]  # escalation takes over


def test_an_extended_deadline_gets_reminders_of_its_own(scene, moment):
    thread = answered_request(scene)
    check(DUE - timedelta(days=6))
    moment(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    services.extend_deadline(thread, scene.member, "Quarante communes à extraire.")
    db.session.commit()
    assert thread.due_at == datetime(2027, 1, 2, 8, 0, tzinfo=UTC)  # 2 November + two months

    at_old_deadline = check(DUE - timedelta(hours=12))
    before_new = check(datetime(2026, 12, 26, 9, 0, tzinfo=UTC))  # Saturday 26 December, 10:00 in Paris
    again = check(datetime(2026, 12, 26, 9, 30, tzinfo=UTC))

    assert (at_old_deadline.reminders, before_new.reminders, again.reminders) == (0, 1, 0)
    assert alert_keys(thread.id) == ["reminder_7_days:2026-12-02", "reminder_7_days:2027-01-02"]
    assert told(scene, thread.id, "deadline_reminder")["coordinator"][-1] == (
        f"Échéance dans 7 jours : la réponse à « {TITLE} » est attendue au plus tard le 2 janvier 2027"
    )


def test_closed_requests_and_other_kinds_get_no_reminder(scene):
    closed = answered_request(scene, title="Demande close")
    services.change_status(closed, scene.member, ThreadStatus.RESOLVED)
    other = question(scene, title="Question", created_at=RECEIVED)
    services.post_message(other, scene.member, "Réponse.", posted_at=RECEIVED + timedelta(days=1))
    db.session.commit()

    # The question is due after 15 working days (11 November off): Tuesday 24 November at 09:00 in Paris.
    assert other.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    summary = check(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    assert summary.reminders == 0
    assert count(DeadlineAlert) == 0


def test_a_service_with_nobody_on_the_platform_has_its_reminders_sent_to_the_curators(scene):
    alone = factories.create_organisation(name="DDT de l'Indre", territory_code="D36")
    dataset = factories.create_dataset(title="Haies de l'Indre", organisation=alone)
    thread = data_request(scene, title="Haies", dataset=dataset, created_at=RECEIVED)

    check(DUE - timedelta(days=2))

    assert told(scene, thread.id, "deadline_reminder") == {
        "curator": ["Échéance dans 2 jours : la réponse à « Haies » est attendue au plus tard le 2 décembre 2026"]
    }


def test_a_restricted_request_is_never_reminded_to_someone_who_may_no_longer_see_it(scene):
    thread = answered_request(scene, restricted=True)
    services.assign_thread(thread, scene.coordinator, scene.member)
    db.session.commit()
    # The assignee leaves the service: a restricted request is no longer theirs to see.
    accounts.remove_member(db.session.scalars(sa.select(Membership).where(Membership.user_id == scene.member.id)).one())
    db.session.commit()

    check(DUE - timedelta(days=3))
    check(DUE + timedelta(hours=1))

    assert set(told(scene, thread.id, "deadline_reminder")) == {"coordinator"}
    assert set(told(scene, thread.id, "escalation")) == {"coordinator"}


# Escalations ----------------------------------------------------------------------------------------------------


def test_an_overdue_thread_is_escalated_to_the_coordinators_then_to_the_curators(scene):
    thread = answered_request(scene)

    at_deadline = check(DUE + timedelta(hours=1))
    again = check(DUE + timedelta(days=1))
    # 10 working days after Wednesday 2 December: Wednesday 16 December.
    day_before = check(datetime(2026, 12, 15, 22, 0, tzinfo=UTC))  # Tuesday 15, 23:00 in Paris
    curators = check(datetime(2026, 12, 16, 6, 0, tzinfo=UTC))  # Wednesday 16, 07:00 in Paris
    after = check(datetime(2027, 1, 20, 9, 0, tzinfo=UTC))

    assert (at_deadline.to_coordinators, at_deadline.to_curators, at_deadline.notifications) == (1, 0, 1)
    assert (again.to_coordinators, again.to_curators, again.notifications) == (0, 0, 0)
    assert (day_before.to_coordinators, day_before.to_curators) == (0, 0)
    assert (curators.to_coordinators, curators.to_curators, curators.notifications) == (0, 1, 1)
    assert (after.to_coordinators, after.to_curators) == (0, 0)
    assert told(scene, thread.id, "escalation") == {
        "coordinator": [
            f"Relance : « {TITLE} », adressé à DDT du Loiret, est en retard : la réponse était attendue le "
            "2 décembre 2026"
        ],
        "curator": [
            f"Relance aux administrateurs des données : « {TITLE} », adressé à DDT du Loiret, est en retard : "
            "la réponse était attendue le 2 décembre 2026 (coordinateurs relancés le 2 décembre 2026)"
        ],
    }
    assert alert_keys(thread.id) == ["coordinators", "curators"]
    escalations = [event for event in events_of(thread.id) if event.type == "escalated"]
    assert [(e.actor_id, e.internal, e.payload["level"], e.payload["reason"]) for e in escalations] == [
        (None, True, "coordinators", "overdue"),
        (None, True, "curators", "overdue"),
    ]
    notification = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "escalation").order_by(Notification.id)
    ).first()
    assert notification.event_id == escalations[0].id
    assert notification.link == f"/fils/{thread.id}"
    assert fresh(thread.id).last_activity_at == RECEIVED + timedelta(days=1)  # not activity of the thread


def test_a_closed_thread_is_no_longer_escalated(scene):
    thread = answered_request(scene)
    check(DUE + timedelta(hours=1))
    services.change_status(thread, scene.member, ThreadStatus.RESOLVED)
    db.session.commit()

    summary = check(datetime(2026, 12, 17, 9, 0, tzinfo=UTC))

    assert (summary.to_coordinators, summary.to_curators) == (0, 0)
    assert alert_keys(thread.id) == ["coordinators"]


# A question received on Tuesday 15 December 2026 at 09:00 in Paris. Ten working days later, Christmas (Friday
# 25 December) left out: 16, 17, 18, 21, 22, 23, 24, 28, 29, 30 December.
QUESTION_RECEIVED = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)


def test_inactivity_is_counted_in_working_days_across_christmas(scene):
    thread = question(scene, title="Source des zones inondables", created_at=QUESTION_RECEIVED)

    before = check(datetime(2026, 12, 29, 16, 0, tzinfo=UTC))  # Tuesday 29, 17:00 in Paris: 9 working days
    escalated = check(datetime(2026, 12, 30, 7, 0, tzinfo=UTC))  # Wednesday 30, 08:00 in Paris: 10

    assert (before.to_coordinators, escalated.to_coordinators, escalated.reminders) == (0, 1, 0)
    assert told(scene, thread.id, "escalation") == {
        "coordinator": [
            "Relance : « Source des zones inondables », adressé à DDT du Loiret, attend depuis 10 jours ouvrés "
            "une première action du service"
        ]
    }
    # Then 10 working days after that escalation (1 January off): 31 December, 4 to 8 and 11 to 14 January.
    # Overdue by then too: due after 15 working days, on Thursday 7 January.
    assert thread.due_at == datetime(2027, 1, 7, 8, 0, tzinfo=UTC)
    assert check(datetime(2027, 1, 13, 12, 0, tzinfo=UTC)).to_curators == 0
    assert check(datetime(2027, 1, 14, 12, 0, tzinfo=UTC)).to_curators == 1
    assert told(scene, thread.id, "escalation")["curator"] == [
        "Relance aux administrateurs des données : « Source des zones inondables », adressé à DDT du Loiret, "
        "est en retard : la réponse était attendue le 7 janvier 2027 (coordinateurs relancés le 30 décembre 2026)"
    ]


@pytest.mark.parametrize(
    ("who", "action", "escalated"),
    [
        ("member", "note", False),  # an internal note: the service has it in hand
        ("member", "status", False),  # a status change by a member
        ("curator", "status", True),  # a curator's change is not the service's action
        ("author", "message", True),  # nor the author's reminder
    ],
)
def test_an_action_of_the_service_stops_the_inactivity_escalation(scene, who, action, escalated):
    thread = question(scene, title="Source des zones inondables", created_at=QUESTION_RECEIVED)
    person = getattr(scene, who)
    if action == "note":
        services.post_message(thread, person, "À vérifier.", internal=True)
    elif action == "status":
        services.change_status(thread, person, ThreadStatus.IN_PROGRESS)
    else:
        services.post_message(thread, person, "Des nouvelles ?")
    db.session.commit()

    summary = check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))

    assert summary.to_coordinators == (1 if escalated else 0)


def test_a_transferred_thread_is_counted_from_its_transfer(scene, moment):
    thread = question(scene, title="Source des zones inondables", created_at=QUESTION_RECEIVED)
    nina = factories.create_user(name="Nina Coordinatrice", organisation=scene.other_producer, coordinator=True)
    # Transferred on Monday 21 December by the curators: the Nièvre's 10 working days are 22, 23, 24, 28, 29,
    # 30, 31 December, 4, 5 and 6 January (Christmas and New Year's Day off).
    moment(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
    services.transfer_thread(thread, scene.curator, scene.other_producer, "La Nièvre détient cette donnée.")
    db.session.commit()

    assert check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC)).to_coordinators == 0
    assert check(datetime(2027, 1, 5, 12, 0, tzinfo=UTC)).to_coordinators == 0
    assert check(datetime(2027, 1, 6, 12, 0, tzinfo=UTC)).to_coordinators == 1
    assert told(scene, thread.id, "escalation") == {
        str(nina.id): [
            "Relance : « Source des zones inondables », adressé à DDT de la Nièvre, attend depuis 10 jours ouvrés "
            "une première action du service"
        ]
    }


def test_a_thread_that_no_service_owns_goes_straight_to_the_curators(scene):
    thread = post_thread(
        scene.author,
        ThreadKind.MISSING_DATA,
        title="Haies bocagères",
        territory="D45",
        themes=("lc",),
        created_at=QUESTION_RECEIVED,
    )

    summary = check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))
    again = check(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))

    assert (summary.to_coordinators, summary.to_curators, again.to_curators) == (0, 1, 0)
    assert told(scene, thread.id, "escalation") == {
        "curator": [
            "Relance aux administrateurs des données : « Haies bocagères » attend depuis 10 jours ouvrés "
            "d'être adressé à un service"
        ]
    }


def test_a_service_without_coordinator_has_its_members_chased_and_one_with_nobody_its_curators(scene):
    db.session.execute(sa.delete(Membership).where(Membership.user_id == scene.coordinator.id))
    db.session.commit()
    chased = question(scene, title="Chez le Loiret", created_at=QUESTION_RECEIVED)
    alone = factories.create_organisation(name="DDT de l'Indre", territory_code="D36")
    nobody = question(scene, title="Chez l'Indre", dataset=None, organisation=alone, created_at=QUESTION_RECEIVED)

    summary = check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))

    assert (summary.to_coordinators, summary.to_curators) == (1, 1)
    assert set(told(scene, chased.id, "escalation")) == {"member"}
    assert told(scene, nobody.id, "escalation") == {
        "curator": [
            "Relance aux administrateurs des données : « Chez l'Indre », adressé à DDT de l'Indre, attend depuis "
            "10 jours ouvrés une première action du service ; ce service n'a personne sur la plateforme"
        ]
    }
    assert alert_keys(nobody.id) == ["curators"]


def test_a_restricted_thread_is_never_escalated_to_someone_who_may_not_see_it(scene):
    thread = data_request(scene, title="Demande restreinte", restricted=True, created_at=QUESTION_RECEIVED)
    # A passer-by who follows the dataset, and another service's member: neither may see the request.
    services.toggle_follow_dataset(scene.dataset, scene.other_user)
    db.session.commit()

    check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))
    check(datetime(2027, 1, 14, 12, 0, tzinfo=UTC))

    assert set(told(scene, thread.id, "escalation")) == {"coordinator", "curator"}
    assert count(Notification, Notification.recipient_id.in_([scene.other_user.id, scene.other_member.id])) == 0


def test_the_timeline_shows_an_escalation_to_the_service_not_to_the_requester(web, scene):
    thread = question(scene, title="Source des zones inondables", created_at=QUESTION_RECEIVED)
    check(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))

    web.sign_in(scene.member)
    member_page = web.get(f"/fils/{thread.id}").get_data(as_text=True)
    web.sign_in(scene.author)
    author_page = web.get(f"/fils/{thread.id}").get_data(as_text=True)

    shown = "Relance aux coordinateurs du service : aucune action du service depuis 10 jours ouvrés"
    assert shown in " ".join(member_page.split())
    assert "Relance" not in author_page


def test_imported_discussions_are_not_escalated(scene):
    thread = question(scene, title="Ancienne discussion", created_at=QUESTION_RECEIVED)
    thread.udata_id = "6b0000000000000000000001"
    db.session.commit()

    summary = check(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))

    assert (summary.to_coordinators, summary.to_curators) == (0, 0)
    assert count(ThreadEvent, ThreadEvent.type == "escalated") == 0


# The command --------------------------------------------------------------------------------------------------


def test_the_command_prints_its_counts_and_reads_now_in_paris_time(runner, scene):
    reminded = answered_request(scene)
    quiet = question(scene, title="Source des zones inondables", created_at=RECEIVED)

    # 25 November at 10:00 in Paris: 7 days before the request's deadline; the question has waited
    # 16 working days (11 November off) and is overdue since the 24th.
    result = runner.invoke(args=["deadlines", "check", "--now", "2026-11-25T10:00"])
    again = runner.invoke(args=["deadlines", "check", "--now", "2026-11-25T10:05:00+01:00"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Échéances : 1 rappel, 1 relance aux coordinateurs, 0 relance aux administrateurs des données ; "
        "2 notifications.\n"
    )
    assert again.output == (
        "Échéances : 0 rappel, 0 relance aux coordinateurs, 0 relance aux administrateurs des données ; "
        "0 notification.\n"
    )
    db.session.rollback()
    assert alert_keys(reminded.id) == ["reminder_7_days:2026-12-02"]
    assert alert_keys(quiet.id) == ["coordinators"]
    created = db.session.scalars(sa.select(DeadlineAlert.created_at)).all()
    assert set(created) == {datetime(2026, 11, 25, 9, 0, tzinfo=UTC)}


def test_the_command_refuses_a_date_it_cannot_read(runner, scene):
    result = runner.invoke(args=["deadlines", "check", "--now", "25/11/2026"])

    assert result.exit_code == 2
    assert "« 25/11/2026 » n'est pas une date ISO 8601" in result.output
    assert count(DeadlineAlert) == 0


def test_the_command_without_now_uses_the_present(runner, scene):
    result = runner.invoke(args=["deadlines", "check"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Échéances : 0 rappel, ")


def test_the_candidates_are_read_in_a_bounded_number_of_queries(scene):
    for number in range(12):
        answered_request(scene, title=f"Demande {number}")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "pg_advisory" not in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        summary = check(DUE - timedelta(days=6))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert summary.reminders == 12
    # Reminders: the candidates, their alerts, the organisations' members; escalations: two candidate
    # queries (none overdue, none quiet: all answered). Not one per thread.
    assert len(statements) <= 6, statements
