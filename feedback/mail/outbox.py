"""Putting a mail in the outbox. It flushes in the caller's transaction: the mail is written with what
caused it, or not at all; the worker (`notifications send`) delivers it."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from feedback.extensions import db
from feedback.mail.models import OutgoingMail

MAX_SUBJECT_LENGTH = 250


def mail_domain() -> str:
    """The domain of the Message-IDs: the platform's own host."""
    return urlsplit(current_app.config["FEEDBACK_BASE_URL"]).hostname or "localhost"


def queue_mail(
    key: str,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    *,
    recipient_id: int | None = None,
    headers: dict[str, str] | None = None,
    at: datetime | None = None,
) -> OutgoingMail | None:
    """Queue one mail; `key` names what it is for. Returns None, queuing nothing, when a mail of that key
    is already in the outbox (whatever its status): the same mail is never queued twice. `at`: when it is
    written and due (now by default; the mail worker passes the time of its pass)."""
    if db.session.scalar(sa.select(OutgoingMail.id).where(OutgoingMail.key == key)) is not None:
        return None
    subject = " ".join(subject.split())
    if len(subject) > MAX_SUBJECT_LENGTH:
        subject = subject[: MAX_SUBJECT_LENGTH - 1].rstrip() + "…"
    mail = OutgoingMail(
        key=key,
        recipient_id=recipient_id,
        to_address=to_address,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=dict(headers or {}),
        message_id=make_msgid(domain=mail_domain()),
    )
    if at is not None:
        mail.created_at = mail.next_attempt_at = at
    db.session.add(mail)
    db.session.flush()
    return mail
