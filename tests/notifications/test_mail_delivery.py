"""Delivering the outbox over a real SMTP server on loopback: what the server receives, temporary and
permanent refusals, a server that is down then back, claims that expire, and the console when no server is set."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.mail.delivery import LEASE, DeliveryResult, deliver, deliver_due
from feedback.mail.models import OutgoingMail
from feedback.mail.outbox import queue_mail

# Later than any row's own timestamps (written with the real clock): every queued mail is due at NOW.
NOW = datetime(2030, 1, 8, 10, 0, tzinfo=UTC)


def queue(key: str = "test:1", to: str = "alice@exemple.fr", **kwargs) -> int:
    mail = queue_mail(
        key,
        to,
        kwargs.pop("subject", "Un sujet accentué : réponse"),
        kwargs.pop("text", "Bonjour,\nle corps du message.\n"),
        kwargs.pop("html", "<p>Bonjour, <strong>le corps</strong> du message.</p>"),
        **kwargs,
    )
    db.session.commit()
    return mail.id


def row(mail_id: int) -> OutgoingMail:
    db.session.expire_all()
    return db.session.get(OutgoingMail, mail_id)


def test_a_due_mail_goes_out_whole_and_is_recorded_sent(db, smtp_server):
    mail_id = queue(headers={"List-Unsubscribe": "<https://exemple.fr/stop>"})
    message_id = row(mail_id).message_id

    assert deliver_due(now=NOW) == DeliveryResult(sent=1, retried=0, failed=0)

    (message,) = smtp_server.messages
    assert message["To"] == "alice@exemple.fr"
    assert message["Subject"] == "Un sujet accentué : réponse"
    assert message["Message-ID"] == message_id
    assert message["List-Unsubscribe"] == "<https://exemple.fr/stop>"
    assert "ne-pas-repondre@ecospheres.localhost" in message["From"]
    assert message["Date"]
    assert message.get_body(("plain",)).get_content().splitlines() == ["Bonjour,", "le corps du message."]
    assert "<strong>le corps</strong>" in message.get_body(("html",)).get_content()
    sent = row(mail_id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, NOW, None)


def test_a_mail_without_html_is_plain_text_only(db, smtp_server):
    queue(html=None)
    deliver_due(now=NOW)
    (message,) = smtp_server.messages
    assert message.get_content_type() == "text/plain"


def test_running_twice_never_sends_twice(db, smtp_server):
    queue("test:1")
    queue("test:2", to="bruno@exemple.fr")

    assert deliver_due(now=NOW).sent == 2
    assert deliver_due(now=NOW + timedelta(hours=1)) == DeliveryResult()
    assert deliver(list(db.session.scalars(sa.select(OutgoingMail.id)))) == DeliveryResult()
    assert sorted(m["To"] for m in smtp_server.messages) == ["alice@exemple.fr", "bruno@exemple.fr"]


def test_one_connection_for_a_batch(db, smtp_server, monkeypatch):
    connections = []
    original = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connections.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    for number in range(3):
        queue(f"test:{number}", to=f"personne{number}@exemple.fr")

    assert deliver_due(now=NOW).sent == 3
    assert len(smtp_server.messages) == 3
    assert len(connections) == 1


def test_a_server_down_loses_nothing_and_the_mail_goes_once_it_is_back(db, smtp_server):
    mail_id = queue()
    smtp_server.stop()

    assert deliver_due(now=NOW) == DeliveryResult(retried=1)
    waiting = row(mail_id)
    assert waiting.status == "pending"
    assert waiting.attempts == 1
    assert waiting.next_attempt_at == NOW + timedelta(minutes=1)
    assert waiting.last_error

    smtp_server.start()
    # Not before its time: the server is back, but the wait has not passed.
    assert deliver_due(now=NOW + timedelta(seconds=30)) == DeliveryResult()
    assert smtp_server.messages == []

    assert deliver_due(now=NOW + timedelta(minutes=1)) == DeliveryResult(sent=1)
    assert len(smtp_server.messages) == 1
    assert row(mail_id).status == "sent"
    assert row(mail_id).attempts == 2


def test_the_wait_doubles_after_each_failure_up_to_six_hours(db, smtp_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_MAIL_MAX_ATTEMPTS", 20)
    mail_id = queue()
    smtp_server.stop()
    now = NOW
    waits = []
    for _ in range(12):
        deliver_due(now=now)
        waiting = row(mail_id)
        waits.append(waiting.next_attempt_at - now)
        now = waiting.next_attempt_at
    minutes = [int(wait.total_seconds() // 60) for wait in waits[:9]]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert waits[9:] == [timedelta(hours=6)] * 3  # 512 minutes and more, capped
    assert row(mail_id).status == "pending"


def test_out_of_attempts_the_mail_fails(db, smtp_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_MAIL_MAX_ATTEMPTS", 3)
    mail_id = queue()
    smtp_server.stop()

    assert deliver_due(now=NOW).retried == 1
    assert deliver_due(now=NOW + timedelta(minutes=1)).retried == 1
    assert deliver_due(now=NOW + timedelta(minutes=3)) == DeliveryResult(failed=1)
    failed = row(mail_id)
    assert (failed.status, failed.attempts) == ("failed", 3)

    smtp_server.start()
    assert deliver_due(now=NOW + timedelta(days=1)) == DeliveryResult()
    assert smtp_server.messages == []


def test_a_temporary_refusal_is_retried(db, smtp_server):
    mail_id = queue()
    smtp_server.refuse = "451 try later"

    assert deliver_due(now=NOW) == DeliveryResult(retried=1)
    waiting = row(mail_id)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "451" in waiting.last_error

    smtp_server.refuse = None
    assert deliver_due(now=NOW + timedelta(minutes=1)) == DeliveryResult(sent=1)
    assert len(smtp_server.messages) == 1


def test_a_permanent_refusal_fails_for_good_after_one_try(db, smtp_server):
    refused = queue("test:1")
    smtp_server.refuse = "550 mailbox unavailable"

    assert deliver_due(now=NOW) == DeliveryResult(failed=1)
    failed = row(refused)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "550" in failed.last_error

    smtp_server.refuse = None
    assert deliver_due(now=NOW + timedelta(days=1)) == DeliveryResult()
    assert smtp_server.messages == []


def test_after_a_refusal_the_rest_of_the_batch_goes_on_the_same_connection(db, smtp_server):
    queue("test:1")
    queue("test:2", to="bruno@exemple.fr")
    smtp_server.refuse = "452 too many"
    original = smtp_server.handle_DATA

    async def refuse_alice_only(server, session, envelope):
        if "alice" in envelope.rcpt_tos[0]:
            return "550 no such user"
        smtp_server.refuse = None
        return await original(server, session, envelope)

    smtp_server.handle_DATA = refuse_alice_only

    assert deliver_due(now=NOW) == DeliveryResult(sent=1, failed=1)
    assert [m["To"] for m in smtp_server.messages] == ["bruno@exemple.fr"]


def test_a_mail_claimed_by_another_worker_is_not_sent_again(db, smtp_server):
    mail_id = queue()
    # Another worker has just claimed it (its lease runs until NOW + LEASE).
    db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(status="sending", attempts=1, next_attempt_at=NOW + LEASE)
    )
    db.session.commit()

    assert deliver_due(now=NOW) == DeliveryResult()
    assert deliver([mail_id]) == DeliveryResult()
    assert smtp_server.messages == []
    assert row(mail_id).status == "sending"


def test_a_mail_stuck_in_sending_past_its_lease_is_retried(db, smtp_server):
    mail_id = queue()
    message_id = row(mail_id).message_id
    # A worker claimed it at NOW and stopped before recording the server's answer.
    db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(status="sending", attempts=1, next_attempt_at=NOW + LEASE)
    )
    db.session.commit()

    assert deliver_due(now=NOW + LEASE - timedelta(seconds=1)) == DeliveryResult()
    assert deliver_due(now=NOW + LEASE) == DeliveryResult(sent=1)
    (message,) = smtp_server.messages
    assert message["Message-ID"] == message_id  # the same mail, recognisable if it had gone out before
    sent = row(mail_id)
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_deliver_sends_the_given_mails_now_and_leaves_the_others(db, smtp_server):
    now_id = queue("account:1")
    later_id = queue("test:2", to="bruno@exemple.fr")

    assert deliver([now_id]) == DeliveryResult(sent=1)
    assert [m["To"] for m in smtp_server.messages] == ["alice@exemple.fr"]
    assert row(later_id).status == "pending"


def test_deliver_with_the_server_down_leaves_the_mail_pending_for_the_worker(db, smtp_server):
    mail_id = queue("account:1")
    smtp_server.stop()

    assert deliver([mail_id]) == DeliveryResult(retried=1)
    assert row(mail_id).status == "pending"

    smtp_server.start()
    assert deliver_due(now=NOW).sent == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_server_that_cannot_speak_the_security_asked_is_a_temporary_failure(
    db, smtp_server, app, monkeypatch, security
):
    monkeypatch.setitem(app.config, "MAIL_SECURITY", security)
    mail_id = queue()
    assert deliver_due(now=NOW) == DeliveryResult(retried=1)
    assert row(mail_id).status == "pending"
    assert smtp_server.messages == []


def test_without_a_server_mails_are_written_to_the_console(db, app, monkeypatch, capsys):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    text = "Bonjour,\nla réponse détaillée du service, avec « guillemets » et une ligne assez longue pour être "
    text += "coupée en quoted-printable si elle était encodée.\n"
    mail_id = queue(subject="Votre fil a une réponse élaborée", text=text, headers={"Reply-To": "reponse+x@exemple.fr"})

    assert deliver_due(now=NOW) == DeliveryResult(sent=1)
    printed = capsys.readouterr().out
    assert "To: alice@exemple.fr" in printed
    assert "Reply-To: reponse+x@exemple.fr" in printed
    assert row(mail_id).message_id in printed
    assert "Subject: Votre fil a une réponse élaborée" in printed
    # A person reads it: the text decoded, whole lines, no quoted-printable, no HTML copy.
    assert text.strip() in printed
    assert "=C3=A9" not in printed and "=\n" not in printed
    assert "<p>" not in printed
    assert row(mail_id).status == "sent"
