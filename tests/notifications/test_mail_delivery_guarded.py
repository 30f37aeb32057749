"""What delivery records, and when: a mail is recorded sent (and the notification it carries mailed) only
after the SMTP server accepted it; one refused or never answered is not. A worker killed between its claim
and the server's answer leaves the mail to be sent once, after the claim's lease, with its Message-ID.
Each test runs against a real SMTP server on loopback; the kill is a real SIGKILL of a real worker process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.mail.delivery import LEASE, DeliveryResult, deliver_due
from feedback.mail.models import OutgoingMail
from feedback.notifications.mails import prepare_mails
from feedback.notifications.models import Notification, NotificationKind
from feedback.notifications.services import notify

from .. import factories
from ..conftest import ROOT

NOW = datetime(2030, 1, 8, 10, 0, tzinfo=UTC)


def notified(user, text: str = "Une réponse sur votre demande") -> tuple[int, int]:
    """A notification to `user`, put in the outbox as the worker does: (notification id, mail id)."""
    (notification,) = notify([user], NotificationKind.MESSAGE, text, "/fils/7", at=NOW - timedelta(hours=1))
    db.session.commit()
    prepare_mails(now=NOW)
    mail_id = db.session.scalar(sa.select(OutgoingMail.id).where(OutgoingMail.key == f"notification:{notification.id}"))
    assert mail_id is not None
    return notification.id, mail_id


def state(notification_id: int, mail_id: int) -> tuple:
    db.session.expire_all()
    mail = db.session.get(OutgoingMail, mail_id)
    return mail.status, mail.sent_at, db.session.get(Notification, notification_id).emailed_at


@pytest.mark.parametrize("failure", ["550 boîte inconnue", "451 réessayez plus tard", "serveur arrêté"])
def test_a_failed_send_records_nothing_sent(db, smtp_server, failure):
    person = factories.create_user()
    notification_id, mail_id = notified(person)
    if failure == "serveur arrêté":
        smtp_server.stop()
    else:
        smtp_server.refuse = failure

    deliver_due(now=NOW)

    status, sent_at, emailed_at = state(notification_id, mail_id)
    assert status == ("failed" if failure.startswith("5") else "pending")
    assert sent_at is None
    assert emailed_at is None
    assert smtp_server.messages == []

    if failure.startswith("5"):
        return
    smtp_server.refuse = None
    if failure == "serveur arrêté":
        smtp_server.start()
    later = NOW + timedelta(minutes=1)
    assert deliver_due(now=later) == DeliveryResult(sent=1)
    assert state(notification_id, mail_id) == ("sent", later, later)
    assert len(smtp_server.messages) == 1


class SilentServer:
    """An SMTP server that takes a mail's data and never answers it until told: the worker sending to it is
    caught between its claim and the server's answer."""

    def __init__(self, smtp_server):
        self.smtp_server = smtp_server
        self.reached = threading.Event()
        self.release = asyncio.Event()
        self.original = smtp_server.handle_DATA

    async def handle_DATA(self, server, session, envelope):
        self.reached.set()
        for _ in range(600):  # at most a minute: the test kills the worker long before
            await asyncio.sleep(0.1)
        return "421 closing"


def _worker(app, smtp_server) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="test-secret-key",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
        MAIL_TIMEOUT="60",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "send", "--now", NOW.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_before_the_server_answers_leaves_the_mail_to_be_sent_once(app, db, smtp_server):
    person = factories.create_user()
    notification_id, mail_id = notified(person)
    message_id = db.session.get(OutgoingMail, mail_id).message_id
    silent = SilentServer(smtp_server)
    smtp_server.handle_DATA = silent.handle_DATA

    worker = _worker(app, smtp_server)
    try:
        assert silent.reached.wait(timeout=60), worker.stderr.read().decode() if worker.poll() is not None else ""
        time.sleep(0.2)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    smtp_server.handle_DATA = silent.original

    # Claimed, never answered: not sent, and the notification not mailed.
    assert state(notification_id, mail_id) == ("sending", None, None)
    assert smtp_server.messages == []
    # Before the lease ends, nobody takes it back.
    assert deliver_due(now=NOW + LEASE - timedelta(seconds=1)) == DeliveryResult()
    assert smtp_server.messages == []
    # After it, it goes, once, the same mail.
    after = NOW + LEASE
    assert deliver_due(now=after) == DeliveryResult(sent=1)
    assert deliver_due(now=after + timedelta(hours=1)) == DeliveryResult()
    (message,) = smtp_server.messages
    assert message["Message-ID"] == message_id
    assert state(notification_id, mail_id) == ("sent", after, after)
