"""How long mails are kept: after `FEEDBACK_MAIL_RETENTION_DAYS`, a mail that left the outbox (sent or given up)
loses its bodies, its subject, its headers and its address, and an inbound mail its sender and recipient. What
statistics need stays: the row, its key (what the mail was for), its status, attempts and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa

from feedback.database import utcnow
from feedback.extensions import db
from feedback.mail.models import InboundMail, MailStatus, OutgoingMail

# What an erased address or body becomes.
ERASED = ""
FINISHED = (MailStatus.SENT.value, MailStatus.FAILED.value)


def _changed(statement) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    return cast(sa.CursorResult, db.session.execute(statement)).rowcount or 0


@dataclass
class Purge:
    outgoing: int
    inbound: int


def purge_old_mail(days: int, *, now: datetime | None = None) -> Purge:
    """Erase what is personal in the mails older than `days` days; returns how many rows were emptied. Pending
    mails and mails being sent are left alone, whatever their age. Flushes; the caller commits."""
    if days < 0:
        raise ValueError("days must be zero or more")
    cutoff = (now or utcnow()) - timedelta(days=days)
    outgoing = _changed(
        sa.update(OutgoingMail)
        .where(
            OutgoingMail.status.in_(FINISHED),
            OutgoingMail.created_at < cutoff,
            sa.or_(OutgoingMail.to_address != ERASED, OutgoingMail.text_body != ERASED),
        )
        .values(to_address=ERASED, subject=ERASED, text_body=ERASED, html_body=None, headers={}, last_error=None)
        .execution_options(synchronize_session=False)
    )
    inbound = _changed(
        sa.update(InboundMail)
        .where(InboundMail.received_at < cutoff, sa.or_(InboundMail.sender != ERASED, InboundMail.recipient != ERASED))
        .values(sender=ERASED, recipient=ERASED)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return Purge(outgoing=outgoing, inbound=inbound)


def drop_mails_of(user_id: int, address: str) -> int:
    """A deleted account: its pending mails are not sent, and the address and bodies of the others are erased.
    Returns how many pending mails were dropped."""
    of_person = sa.or_(OutgoingMail.recipient_id == user_id, OutgoingMail.to_address == address)
    dropped = _changed(
        sa.delete(OutgoingMail)
        .where(of_person, OutgoingMail.status == MailStatus.PENDING.value)
        .execution_options(synchronize_session=False)
    )
    _changed(
        sa.update(OutgoingMail)
        .where(of_person)
        .values(to_address=ERASED, subject=ERASED, text_body=ERASED, html_body=None, headers={})
        .execution_options(synchronize_session=False)
    )
    _changed(
        sa.update(InboundMail)
        .where(InboundMail.sender == address)
        .values(sender=ERASED)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return dropped
