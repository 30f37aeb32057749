"""Notification mails, end to end through `flask notifications send` and a real SMTP server: who gets which
mail, preferences (never, daily and weekly digests at 07:00 Paris time), `emailed_at`, and the command itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from feedback.extensions import db
from feedback.mail.models import OutgoingMail
from feedback.notifications.mails import prepare_mails, queue_digests, queue_notification_mails
from feedback.notifications.models import Frequency, MailState, Notification, NotificationKind
from feedback.notifications.preferences import set_frequency
from feedback.notifications.services import notify
from feedback.threads import services

from .. import factories
from ..threads.conftest import question

# A Tuesday in winter (Paris is UTC+1): 07:00 in Paris is 06:00 UTC. Later than every row's real timestamps.
TUESDAY = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)
TUESDAY_0659_PARIS = datetime(2030, 1, 8, 5, 59, tzinfo=UTC)
TUESDAY_0700_PARIS = datetime(2030, 1, 8, 6, 0, tzinfo=UTC)
MONDAY_0659_PARIS = datetime(2030, 1, 14, 5, 59, tzinfo=UTC)
MONDAY_0700_PARIS = datetime(2030, 1, 14, 6, 0, tzinfo=UTC)


def send(runner, now: datetime) -> str:
    result = runner.invoke(args=["notifications", "send", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def body(message, kind: str) -> str:
    return message.get_body((kind,)).get_content()


def tell(user, text: str, kind: NotificationKind = NotificationKind.MESSAGE, *, at: datetime, link="/fils/7"):
    (notification,) = notify([user], kind, text, link, at=at)
    db.session.commit()
    return notification


def state_of(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def test_the_right_people_get_the_right_mail_and_nobody_else(app, db, runner, scene, smtp_server):
    thread = question(scene, title="Source des zones inondables")
    message = services.post_message(thread, scene.member, "Elles viennent de l'atlas départemental.")
    db.session.commit()
    base = app.config["FEEDBACK_BASE_URL"].rstrip("/")

    output = send(runner, TUESDAY)

    # The coordinator is told of the new thread (a coordinator's default); the author of the answer. The plain
    # member has not asked to be mailed new threads; the curators are not involved; the actor is never told.
    assert sorted(m["To"] for m in smtp_server.messages) == sorted([scene.coordinator.email, scene.author.email])
    assert "2 courriels envoyés, 0 à réessayer, 0 en échec." in output

    (to_author,) = smtp_server.to(scene.author.email)
    assert to_author["Subject"] == (
        f"[Fil n°{thread.id}] Mathilde Membre, pour DDT du Loiret, a répondu sur « Source des zones inondables »"
    )
    link = f"{base}/fils/{thread.id}#message-{message.id}"
    assert link in body(to_author, "plain")
    assert f'href="{link}"' in body(to_author, "html")
    assert "Vous recevez ce courriel parce que" in body(to_author, "plain")
    assert f"{base}/notifications/preferences" in body(to_author, "plain")
    assert f"{base}/notifications/desabonnement/" in body(to_author, "plain")

    (to_coordinator,) = smtp_server.to(scene.coordinator.email)
    assert to_coordinator["Subject"].startswith(f"[Fil n°{thread.id}] Nouveau fil « Source des zones inondables »")
    assert f"{base}/fils/{thread.id}" in body(to_coordinator, "plain")


def test_a_follower_of_a_dataset_is_mailed_its_new_threads_without_choosing_anything(db, runner, scene, smtp_server):
    follower = factories.create_user(name="Dora Jeu", email="dora.jeu@exemple.fr")
    services.toggle_follow_dataset(scene.dataset, follower)
    db.session.commit()

    thread = question(scene, title="Source des zones inondables")
    db.session.commit()
    send(runner, TUESDAY)

    (mail,) = smtp_server.to("dora.jeu@exemple.fr")
    assert mail["Subject"].startswith(f"[Fil n°{thread.id}] Nouveau fil « Source des zones inondables »")
    assert f"/fils/{thread.id}" in body(mail, "plain")
    assert "vous suivez le jeu de données ou le producteur auquel ce fil se rapporte" in body(mail, "plain")


def test_each_notification_is_mailed_once_and_marked(db, runner, scene, smtp_server):
    first = tell(scene.author, "Première réponse", at=TUESDAY - timedelta(hours=2))
    second = tell(scene.author, "Deuxième réponse", at=TUESDAY - timedelta(hours=1))

    assert "2 courriels préparés, 2 courriels envoyés, 0 à réessayer, 0 en échec." in send(runner, TUESDAY)
    assert "0 courriels envoyés" in send(runner, TUESDAY + timedelta(hours=1))
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Deuxième réponse", "Première réponse"]

    for notification_id in (first.id, second.id):
        mailed = state_of(notification_id)
        assert mailed.mail_state == "queued"
        assert mailed.emailed_at == TUESDAY
    keys = set(db.session.scalars(sa.select(OutgoingMail.key)))
    assert keys == {f"notification:{first.id}", f"notification:{second.id}"}


def test_never_means_no_mail(db, runner, scene, smtp_server):
    set_frequency(scene.author, "message", Frequency.NEVER)
    db.session.commit()
    notification = tell(scene.author, "Une réponse", at=TUESDAY - timedelta(hours=1))
    other = tell(scene.author, "Un changement de statut", NotificationKind.STATUS_CHANGED, at=TUESDAY)

    send(runner, TUESDAY)

    assert [m["Subject"] for m in smtp_server.messages] == ["Un changement de statut"]
    assert state_of(notification.id).mail_state == "skipped"
    assert state_of(notification.id).emailed_at is None
    assert state_of(other.id).mail_state == "queued"


def test_people_whose_address_cannot_receive_get_no_mail(db, runner, scene, smtp_server):
    scene.other_user.confirmed = False
    scene.author.active = False
    db.session.commit()
    unconfirmed = tell(scene.other_user, "Pour une adresse non confirmée", at=TUESDAY)
    inactive = tell(scene.author, "Pour un compte désactivé", at=TUESDAY)

    send(runner, TUESDAY)

    assert smtp_server.messages == []
    assert state_of(unconfirmed.id).mail_state == "skipped"
    assert state_of(inactive.id).mail_state == "skipped"


def test_a_plain_member_mailed_of_new_threads_only_when_they_chose_it(db, runner, scene, smtp_server):
    told_before = tell(scene.member, "Nouveau fil A", NotificationKind.THREAD_CREATED, at=TUESDAY)
    send(runner, TUESDAY)
    assert smtp_server.messages == []
    assert state_of(told_before.id).mail_state == "skipped"

    set_frequency(scene.member, "thread_created", Frequency.IMMEDIATE)
    db.session.commit()
    tell(scene.member, "Nouveau fil B", NotificationKind.THREAD_CREATED, at=TUESDAY)
    send(runner, TUESDAY)
    assert [m["Subject"] for m in smtp_server.to(scene.member.email)] == ["Nouveau fil B"]


def test_a_daily_digest_at_seven_paris_time_with_both_notifications_not_before(db, runner, scene, smtp_server):
    set_frequency(scene.author, "message", Frequency.DAILY)
    set_frequency(scene.author, "status_changed", Frequency.DAILY)
    db.session.commit()
    first = tell(scene.author, "Mathilde a répondu sur « A »", at=TUESDAY - timedelta(hours=20), link="/fils/1")
    second = tell(
        scene.author,
        "Mathilde a passé « B » au statut « En cours »",
        NotificationKind.STATUS_CHANGED,
        at=TUESDAY - timedelta(hours=10),
        link="/fils/2",
    )

    send(runner, TUESDAY_0659_PARIS)
    assert smtp_server.messages == []
    assert state_of(first.id).mail_state == "digest"
    assert state_of(second.id).mail_state == "digest"

    send(runner, TUESDAY_0700_PARIS)
    (digest,) = smtp_server.messages
    assert digest["To"] == scene.author.email
    assert digest["Subject"] == "Votre résumé quotidien : 2 notifications"
    text = body(digest, "plain")
    assert "Mathilde a répondu sur « A »" in text
    assert "Mathilde a passé « B » au statut « En cours »" in text
    assert text.index("« A »") < text.index("« B »")  # in the order they happened
    assert "/fils/1" in text and "/fils/2" in text
    assert digest["List-Unsubscribe"]
    assert {state_of(n.id).mail_state for n in (first, second)} == {"digested"}
    assert state_of(first.id).emailed_at == TUESDAY_0700_PARIS
    assert db.session.scalar(sa.select(OutgoingMail.key)) == f"digest:daily:{scene.author.id}:2030-01-08"

    # Once a day: a notification after this morning's digest waits for tomorrow's.
    later = tell(scene.author, "Mathilde a répondu sur « C »", at=TUESDAY)
    send(runner, TUESDAY + timedelta(hours=5))
    assert len(smtp_server.messages) == 1
    assert state_of(later.id).mail_state == "digest"
    send(runner, TUESDAY_0700_PARIS + timedelta(days=1))
    assert len(smtp_server.messages) == 2
    assert "« C »" in body(smtp_server.messages[1], "plain")


def test_a_weekly_digest_on_monday_at_seven_paris_time(db, runner, scene, smtp_server):
    set_frequency(scene.author, "message", Frequency.WEEKLY)
    db.session.commit()
    tell(scene.author, "Réponse du mardi", at=TUESDAY)
    tell(scene.author, "Réponse du vendredi", at=TUESDAY + timedelta(days=3))

    send(runner, TUESDAY + timedelta(days=4))  # Saturday
    send(runner, MONDAY_0659_PARIS)
    assert smtp_server.messages == []

    send(runner, MONDAY_0700_PARIS)
    (digest,) = smtp_server.messages
    assert digest["Subject"] == "Votre résumé hebdomadaire : 2 notifications"
    assert "Réponse du mardi" in body(digest, "plain")
    assert "Réponse du vendredi" in body(digest, "plain")
    assert db.session.scalar(sa.select(OutgoingMail.key)) == f"digest:weekly:{scene.author.id}:2030-01-14"


def test_digests_are_prepared_in_a_few_queries_whatever_the_number_of_notifications(db, scene, app):
    from sqlalchemy import event

    people = [scene.author, scene.other_user, scene.member, scene.coordinator]
    for person in people:
        set_frequency(person, "message", Frequency.DAILY)
    db.session.commit()
    for person in people:
        for number in range(5):
            tell(person, f"Réponse {number}", at=TUESDAY_0659_PARIS - timedelta(hours=number + 1))

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert queue_notification_mails().waiting == 20
        waiting_queries = len(statements)
        statements.clear()
        assert queue_digests(now=TUESDAY_0700_PARIS).digests == 4
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # Reading: the notifications, their people and their memberships, their choices and roles, the digests already
    # sent; then for each mail: whether its key is taken, the mail, its notifications' state (one statement for all).
    assert waiting_queries <= 7
    assert len(statements) <= 6 + 4 * 3
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).where(Notification.mail_state == MailState.DIGESTED)
        )
        == 20
    )


def test_someone_who_chose_never_meanwhile_gets_no_digest(db, scene, smtp_server):
    set_frequency(scene.author, "message", Frequency.DAILY)
    db.session.commit()
    waiting = tell(scene.author, "Une réponse", at=TUESDAY_0659_PARIS - timedelta(hours=3))
    prepare_mails(now=TUESDAY_0659_PARIS)
    set_frequency(scene.author, "message", Frequency.NEVER)
    db.session.commit()

    result = prepare_mails(now=TUESDAY_0700_PARIS)

    assert result.digests == 0
    assert state_of(waiting.id).mail_state == "skipped"


def test_the_command_says_what_it_did_and_has_french_help(runner, db):
    help_text = runner.invoke(args=["notifications", "send", "--help"]).output
    assert "Envoie les courriels" in help_text
    assert "--loop" in help_text and "jusqu'à l'interruption" in help_text
    assert "--interval" in help_text and "secondes" in help_text

    result = runner.invoke(args=["notifications", "send", "--now", "pas une date"])
    assert result.exit_code != 0
    assert "date et heure ISO 8601 attendues" in result.output


def test_the_loop_stops_cleanly_on_ctrl_c(runner, db, smtp_server, monkeypatch):
    import feedback.notifications.cli as cli

    passes = []

    def interrupted(seconds):
        passes.append(seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", interrupted)
    result = runner.invoke(args=["notifications", "send", "--loop", "--interval", "5"])
    assert result.exit_code == 0, result.output
    assert passes == [5.0]
    assert re.search(r"0 courriels envoyés, 0 à réessayer, 0 en échec\.", result.output)
    assert "Arrêt demandé" in result.output
