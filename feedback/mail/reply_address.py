"""The reply address of a notification mail: one per person and thread, signed, so that a reply to it is known to
come from a mail the platform sent to that person about that thread.

The local part carries the person's id, the thread's id, the day the address was written and an HMAC of the
three under the application's SECRET_KEY (a salt of its own purpose):

    reponse+<user>-<thread>-<day>-<signature>@<domain>

all in lower-case letters and digits, because relays may change the case of a local part. Nothing is stored:
an address is checked by signing its fields again. It is valid for `FEEDBACK_REPLY_VALIDITY_DAYS` (90 by
default) from the day it was written; a reply to an older mail is refused with a bounce that says to answer on
the site.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from feedback.database import utcnow

PREFIX = "reponse"
SALT = b"feedback.mail.reply-address"
EPOCH = date(2020, 1, 1)
SIGNATURE_LENGTH = 20  # hex digits: 80 bits


class ReplyAddressError(Exception):
    """An address that does not name a reply this platform can take; the message is French, for the bounce."""


class UnknownAddress(ReplyAddressError):
    """Not a reply address of this platform (another local part, another domain)."""


class ForgedAddress(ReplyAddressError):
    """Shaped like a reply address, but its signature does not match."""


class ExpiredAddress(ReplyAddressError):
    """A genuine reply address, older than its validity."""


@dataclass(frozen=True)
class ReplyTarget:
    user_id: int
    thread_id: int
    written_on: date


def reply_domain() -> str:
    """The domain of reply addresses (`FEEDBACK_REPLY_DOMAIN`); the mail relay hands its mails to the receiver."""
    return current_app.config["FEEDBACK_REPLY_DOMAIN"].lower()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def _signature(fields: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(hashlib.sha256(SALT + key).digest(), fields.encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_LENGTH]


def reply_address(user_id: int, thread_id: int, *, now: datetime | None = None) -> str:
    """The address to which `user_id` replies to a mail about `thread_id`."""
    day = ((now or utcnow()).date() - EPOCH).days
    fields = f"{_base36(user_id)}-{_base36(thread_id)}-{_base36(day)}"
    return f"{PREFIX}+{fields}-{_signature(fields)}@{reply_domain()}"


def read_reply_address(address: str, *, now: datetime | None = None) -> ReplyTarget:
    """Who replies about which thread, from the address a reply was sent to; raises a `ReplyAddressError`."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != reply_domain() or not local.lower().startswith(f"{PREFIX}+"):
        raise UnknownAddress("Cette adresse ne reçoit pas de réponses : elle n'est celle d'aucun fil de la plateforme.")
    parts = local.lower()[len(PREFIX) + 1 :].split("-")
    if len(parts) != 4 or not all(part.isalnum() and part.isascii() for part in parts):
        raise ForgedAddress("Cette adresse de réponse n'est pas valide : elle a été modifiée ou mal recopiée.")
    fields, signature = "-".join(parts[:3]), parts[3]
    if not hmac.compare_digest(signature, _signature(fields)):
        raise ForgedAddress("Cette adresse de réponse n'est pas valide : elle a été modifiée ou mal recopiée.")
    user_id, thread_id, day = (int(part, 36) for part in parts[:3])
    written_on = date.fromordinal(EPOCH.toordinal() + day)
    validity = current_app.config["FEEDBACK_REPLY_VALIDITY_DAYS"]
    if ((now or utcnow()).date() - written_on).days > validity:
        raise ExpiredAddress(
            f"Cette adresse de réponse a expiré : elle est valable {validity} jours après l'envoi du courriel. "
            "Répondez depuis la page du fil sur la plateforme."
        )
    return ReplyTarget(user_id=user_id, thread_id=thread_id, written_on=written_on)
