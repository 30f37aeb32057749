"""Notifications benchmark: the notifications of a new thread on the busiest organisation, and the delivery of
10,000 queued mails to an SMTP server on loopback.

1. The busiest organisation gets followers (`FOLLOWERS` of the generated authors follow it) and all its members
   choose to be told of new threads; then a new thread is posted on it through `create_thread` (the service the
   page calls), which writes the thread, its message, its event and one notification per recipient; committed.
   Timed from the call to the commit, `REPEATS` times, with the number of notifications and of SQL statements.
2. `MAILS` mails are queued in the outbox (one INSERT, not timed) and `deliver_due` (what `notifications send`
   runs) sends them to an aiosmtpd server in this process, on 127.0.0.1, until none is due. Timed end to end;
   the server's count of accepted mails and the outbox's count of sent rows are both checked.
"""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass
from email.utils import make_msgid

import sqlalchemy as sa

from feedback.accounts.models import Membership, Organisation, User
from feedback.extensions import db
from feedback.mail.delivery import deliver_due
from feedback.mail.models import MailStatus, OutgoingMail
from feedback.notifications.models import Frequency, Notification, NotificationPreference
from feedback.threads.models import Follow, ThreadKind
from feedback.threads.services import NewThread, create_thread

FOLLOWERS = 1000
REPEATS = 5
MAILS = 10_000


@dataclass
class NewThreadTiming:
    organisation: str
    members: int
    followers: int
    seconds: list[float]
    notifications: int
    statements: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


@dataclass
class DeliveryTiming:
    mails: int
    seconds: float
    accepted_by_server: int
    sent_rows: int
    passes: int


def notifications_of_a_new_thread(busiest_organisation_id: int, author_ids: list[int], counter) -> NewThreadTiming:
    organisation = db.session.get(Organisation, busiest_organisation_id)
    members = db.session.scalars(
        sa.select(Membership.user_id).where(Membership.organisation_id == organisation.id)
    ).all()
    db.session.add_all(
        NotificationPreference(user_id=user_id, topic="thread_created", frequency=Frequency.IMMEDIATE.value)
        for user_id in members
    )
    followers = author_ids[:FOLLOWERS]
    db.session.add_all(Follow(user_id=user_id, organisation_id=organisation.id) for user_id in followers)
    db.session.commit()
    author = db.session.get(User, author_ids[-1])
    seconds, notifications, statements = [], 0, 0
    for number in range(REPEATS):
        with counter(db.engine) as count:
            start = time.perf_counter()
            thread = create_thread(
                author,
                NewThread(
                    kind=ThreadKind.QUESTION,
                    title=f"Question de mesure n° {number + 1} sur les données du service",
                    body="Bonjour, où trouver la version la plus récente de ces données ?",
                    organisation=organisation,
                ),
            )
            db.session.commit()
            seconds.append(time.perf_counter() - start)
        statements = count.count
        notifications = db.session.scalar(
            sa.select(sa.func.count()).select_from(Notification).where(Notification.thread_id == thread.id)
        )
    return NewThreadTiming(organisation.name, len(members), len(followers), seconds, notifications, statements)


class CountingHandler:
    def __init__(self):
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def delivery_of_queued_mails(app) -> DeliveryTiming:
    from aiosmtpd.controller import Controller

    db.session.execute(
        sa.insert(OutgoingMail),
        [
            {
                "key": f"bench:{n}",
                "to_address": f"destinataire{n}@exemple.fr",
                "subject": f"Nouveau message sur « Fil de mesure n° {n} »",
                "text_body": "Bonjour,\n\nUn nouveau message a été publié sur un fil que vous suivez.\n" * 3,
                "html_body": "<p>Bonjour,</p><p>Un nouveau message a été publié sur un fil que vous suivez.</p>" * 3,
                "headers": {},
                "message_id": make_msgid(domain="bench.localhost"),
            }
            for n in range(MAILS)
        ],
    )
    db.session.commit()
    handler = CountingHandler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_SECURITY")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none")
    passes = 0
    try:
        start = time.perf_counter()
        while True:
            passes += 1
            if not deliver_due().sent:
                break
        seconds = time.perf_counter() - start
    finally:
        controller.stop()
        app.config.update(saved)
    sent = db.session.scalar(
        sa.select(sa.func.count()).select_from(OutgoingMail).where(OutgoingMail.status == MailStatus.SENT.value)
    )
    return DeliveryTiming(MAILS, seconds, handler.accepted, sent, passes)
