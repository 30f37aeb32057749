"""Delivering the outbox: each mail once, as far as SMTP allows.

A mail is first *claimed* (status `sending`, committed) by a conditional UPDATE that only one worker can win,
then handed to the server, and recorded `sent` in a commit right after the server's 250: one mail at a time,
so that a crash loses at most the answer about one mail. Two workers running at once never send the same
mail: the loser of a claim sees no row changed and moves on (on SQLite and PostgreSQL alike).

A claim is a lease: its end is kept in `next_attempt_at` (the column the worker already reads, with its index).
A mail found in `sending` past its lease was claimed by a worker that stopped before recording the answer; it
goes back to `pending`. This is the one window where a mail can go out twice: the server said 250 and the
worker died before its commit. The second copy has the same Message-ID (fixed when queued), so that mail
programs and people can tell it is the same mail.

A temporary failure (4xx, server unreachable, timeout, lost connection) puts the mail back to `pending`, its
next try after a growing wait (1 minute, 2, 4… at most 6 hours), until `FEEDBACK_MAIL_MAX_ATTEMPTS` tries,
then `failed`; a permanent one (5xx on the recipient or the content) fails it at once. When the server cannot
be reached at all, the batch stops there: the mails not yet tried stay as they were, due, for the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from feedback.database import utcnow
from feedback.extensions import db
from feedback.mail.models import MailStatus, OutgoingMail
from feedback.mail.transport import PermanentFailure, TemporaryFailure, open_connection

LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
INTERRUPTED = "Envoi interrompu avant la réponse du serveur (reprise après expiration du délai de garde)"

_sent_listeners: list[Callable[[OutgoingMail], None]] = []


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryResult) -> DeliveryResult:
        return DeliveryResult(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)


def on_sent(listener: Callable[[OutgoingMail], None]) -> Callable[[OutgoingMail], None]:
    """Call `listener(mail)` for every mail the server accepts, in the transaction that records it `sent`.

    The outbox is part of the core and knows nothing of what its mails carry; a layer above that wants to
    know when its mail went (the notifications, for `emailed_at`) registers here."""
    if listener not in _sent_listeners:
        _sent_listeners.append(listener)
    return listener


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1 minute, doubled each time, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20), LONGEST_RETRY)


def release_expired_claims(now: datetime) -> int:
    """Mails left in `sending` past their lease go back to `pending` (or `failed` when out of tries)."""
    max_attempts = current_app.config["FEEDBACK_MAIL_MAX_ATTEMPTS"]
    stale = (OutgoingMail.status == MailStatus.SENDING.value, OutgoingMail.next_attempt_at <= now)
    released = 0
    for status, condition in (
        (MailStatus.FAILED, OutgoingMail.attempts >= max_attempts),
        (MailStatus.PENDING, OutgoingMail.attempts < max_attempts),
    ):
        result = db.session.execute(
            sa.update(OutgoingMail)
            .where(*stale, condition)
            .values(status=status.value, last_error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        released += getattr(result, "rowcount", 0)
    db.session.commit()
    return released


def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> DeliveryResult:
    """Deliver the pending mails whose time has come, oldest first, over one connection; `limit`: at most that
    many. Takes back the expired claims first."""
    now = now or utcnow()
    release_expired_claims(now)
    statement = (
        sa.select(OutgoingMail.id)
        .where(OutgoingMail.status == MailStatus.PENDING.value, OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    mail_ids = list(db.session.scalars(statement))
    db.session.commit()
    return _deliver(mail_ids, now)


def deliver(mail_ids: Iterable[int]) -> DeliveryResult:
    """Deliver these mails now, whatever their next try time, if still pending: for mails that should go at
    once (account mails), called right after the commit that queued them. It commits once per mail; a mail the
    server does not take stays pending for the worker (`flask notifications send`)."""
    return _deliver(list(mail_ids), None)


def _deliver(mail_ids: list[int], now: datetime | None) -> DeliveryResult:
    result = DeliveryResult()
    if not mail_ids:
        return result
    clock = (lambda: now) if now is not None else utcnow
    with open_connection(current_app.config) as connection:
        for mail_id in mail_ids:
            mail = _claim(mail_id, clock())
            if mail is None:
                continue
            try:
                connection.send(mail)
            except PermanentFailure as error:
                _record_failure(mail, str(error), clock(), permanent=True)
                result.failed += 1
            except TemporaryFailure as error:
                if _record_failure(mail, str(error), clock(), permanent=False) == MailStatus.FAILED:
                    result.failed += 1
                else:
                    result.retried += 1
                if error.connection_lost:
                    break
            except Exception as error:  # a fault of ours (the message could not be built): try later, say why
                current_app.logger.exception("mail %s could not be sent", mail.key)
                if _record_failure(mail, f"Erreur interne : {error!r}", clock(), permanent=False) == MailStatus.FAILED:
                    result.failed += 1
                else:
                    result.retried += 1
            else:
                _record_sent(mail, clock())
                result.sent += 1
    return result


def _claim(mail_id: int, now: datetime) -> OutgoingMail | None:
    """Take a pending mail for this worker, committed, or None when someone else has it (or it is not pending)."""
    claimed = db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.status == MailStatus.PENDING.value)
        .values(status=MailStatus.SENDING.value, attempts=OutgoingMail.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return db.session.get(OutgoingMail, mail_id)


def _record_sent(mail: OutgoingMail, now: datetime) -> None:
    mail.status = MailStatus.SENT.value
    mail.sent_at = now
    mail.last_error = None
    db.session.flush()
    for listener in _sent_listeners:
        listener(mail)
    db.session.commit()


def _record_failure(mail: OutgoingMail, error: str, now: datetime, *, permanent: bool) -> MailStatus:
    mail.last_error = error[:500]
    if permanent or mail.attempts >= current_app.config["FEEDBACK_MAIL_MAX_ATTEMPTS"]:
        status = MailStatus.FAILED
    else:
        status = MailStatus.PENDING
        mail.next_attempt_at = now + retry_delay(mail.attempts)
    mail.status = status.value
    db.session.commit()
    return status
