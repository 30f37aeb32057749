"""The mail worker killed in the middle of a batch: a real worker process (`flask --app wsgi notifications
send`) sends the outbox to a real SMTP server on loopback, is killed with SIGKILL while a mail is on its way,
and started again. Nothing is lost and nothing the server accepted goes twice: each mail is claimed in a
commit before it is handed over and recorded sent in a commit right after the server's 250, so at the kill
the outbox says exactly what the server holds (the mails it accepted are `sent`, the one in flight is
`sending`, the others `pending`).

The one window where a mail can go twice is between the server's 250 and the commit that records it: a few
milliseconds for one mail. This test kills the worker outside that window (during the next mail's envelope),
which is where a kill lands almost always; the window itself is stated in `feedback/mail/delivery.py`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from feedback.database import utcnow
from feedback.extensions import db as _db
from feedback.mail.models import MailStatus, OutgoingMail
from feedback.mail.outbox import queue_mail

from ..conftest import ROOT, SHARED_DATA, SmtpServer

BATCH = 10
KILLED_DURING = 5  # the worker is killed while it hands over the fifth mail's envelope


class SlowSmtpServer(SmtpServer):
    """Takes its time over each recipient (as a busy relay does), and says when a mail's envelope arrives."""

    def __init__(self, pause: float):
        super().__init__()
        self.pause = pause
        self.envelopes = 0
        self.envelope_started = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.envelope_started:
            self.envelopes += 1
            self.envelope_started.notify_all()
        await asyncio.sleep(self.pause)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def wait_for_envelope(self, number: int, timeout: float = 60) -> None:
        with self.envelope_started:
            assert self.envelope_started.wait_for(lambda: self.envelopes >= number, timeout), self.envelopes


def worker(app, server: SlowSmtpServer, *arguments: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(server.port),
        "MAIL_SECURITY": "none",
        "MAIL_TIMEOUT": "30",
        "FEEDBACK_SHARED_DATA": str(SHARED_DATA),
        "FLASK_DEBUG": "0",
    }
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen(
        [str(flask), "--app", "wsgi", "notifications", "send", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def statuses() -> Counter:
    _db.session.rollback()
    return Counter(_db.session.scalars(sa.select(OutgoingMail.status)))


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, db):
    server = SlowSmtpServer(pause=0.4)
    server.start()
    try:
        queued = [
            queue_mail(f"panne-{i}", f"destinataire{i}@example.org", f"Courriel {i}", f"Corps du courriel {i}")
            for i in range(BATCH)
        ]
        message_ids = {mail.message_id for mail in queued if mail is not None}
        db.session.commit()
        assert len(message_ids) == BATCH

        first = worker(app, server)
        server.wait_for_envelope(KILLED_DURING)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL

        # At the kill, the outbox says what the server holds: every accepted mail is recorded sent.
        accepted = len(server.messages)
        assert accepted == KILLED_DURING - 1
        pending = BATCH - accepted - 1
        assert statuses() == Counter(
            {MailStatus.SENT.value: accepted, MailStatus.SENDING.value: 1, MailStatus.PENDING.value: pending}
        )
        sent_ids = set(db.session.scalars(sa.select(OutgoingMail.message_id).where(OutgoingMail.status == "sent")))
        assert sent_ids == {message["Message-ID"] for message in server.messages}

        # Started again at once, the worker leaves the claimed mail alone (its lease runs) and sends the rest.
        second = worker(app, server)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert statuses() == Counter({MailStatus.SENT.value: BATCH - 1, MailStatus.SENDING.value: 1})

        # Past the lease, the interrupted mail goes back to the queue and out, once.
        later = (utcnow() + timedelta(minutes=11)).isoformat()
        third = worker(app, server, "--now", later)
        _, err = third.communicate(timeout=120)
        assert third.returncode == 0, err
        assert statuses() == Counter({MailStatus.SENT.value: BATCH})

        received = Counter(message["Message-ID"] for message in server.messages)
        assert set(received) == message_ids  # nothing lost
        assert max(received.values()) == 1  # nothing sent twice
    finally:
        server.stop()
