"""Replies by mail: a reply to a notification becomes a message on its thread.

The relay hands every mail for the reply domain to the receiver (`flask --app wsgi mail receive`, an SMTP or LMTP
server on aiosmtpd). For each one, in one transaction:

1. a mail already taken (its Message-ID, or a digest of its bytes when it has none, for that recipient) gets the
   answer it got the first time and creates nothing: a relay that retries after a lost connection posts once;
2. an automatic reply (an absence notice, a delivery report: `Auto-Submitted`, `X-Autoreply`, `Precedence`,
   a null sender) is taken and ignored, without a bounce, which could answer another robot and loop;
3. the recipient must be a reply address of this platform, genuine and not expired (`reply_address`);
4. the reply's text is what is left once the quoted message and the signature are removed (mail-parser-reply,
   which knows the French clients' "Le … a écrit :" and Outlook's "De : … Envoyé : …"); empty, it is refused;
5. the handler the threads layer registered (`register_reply_handler`) checks that the sender is the person the
   address was made for and that they may answer on the thread, and posts the message with the same service
   function as the web form — or refuses, in French;
6. the mail is recorded (`InboundMail`) as posted, refused or ignored, and the transaction commits; only then does
   the receiver answer 250. A refusal is a 550 whose text says why: the relay sends it back to the sender in its
   bounce. Nothing is half-written: a refused reply leaves no message.

This layer lies below threads: it never imports them; the handler is handed to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import sqlalchemy as sa
from flask import Flask
from mailparser_reply.parser import EmailMessage as ParsedReply
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.mail.models import InboundMail, InboundStatus
from feedback.mail.reply_address import ReplyAddressError, ReplyTarget, read_reply_address, reply_domain

logger = logging.getLogger(__name__)

REPLY_LANGUAGES = ["fr", "en", "de", "es", "it", "nl"]
MAX_REASON_LENGTH = 500


class ReplyRefused(Exception):
    """The reply cannot be posted; the message is French and goes into the bounce."""


@dataclass(frozen=True)
class Sender:
    """Who sent the mail: the address of its From header and the envelope's (MAIL FROM)."""

    header: str
    envelope: str


# `handler(target, sender, text)` → the id of the message posted; raises `ReplyRefused`.
ReplyHandler = Callable[[ReplyTarget, Sender, str], int]
_handlers: list[ReplyHandler] = []


def register_reply_handler(handler: ReplyHandler) -> ReplyHandler:
    """Set what turns a reply into a message (the threads layer's); registering again replaces it."""
    _handlers[:] = [handler]
    return handler


@dataclass(frozen=True)
class Outcome:
    status: InboundStatus
    reason: str | None = None
    message_id: int | None = None
    repeated: bool = False  # the same mail was taken before: this is the first time's outcome

    @property
    def smtp_reply(self) -> str:
        if self.status == InboundStatus.REFUSED:
            return f"550 5.7.1 {_one_line(self.reason or 'Réponse refusée.')}"
        return "250 2.0.0 Réponse reçue"


def _one_line(text: str) -> str:
    """The reason as an SMTP reply carries it everywhere: one line, in ASCII (relays copy it into the bounce; not
    every one passes other characters), the accents taken off."""
    text = text.replace("«\u00a0", '"').replace("\u00a0»", '"').replace("«", '"').replace("»", '"').replace("’", "'")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.split())


# Reading the mail -------------------------------------------------------------------------------------------------


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def message_key(message: EmailMessage, raw: bytes, recipient: str) -> str:
    """What makes a mail the same mail: its Message-ID (or its bytes' digest), for this recipient."""
    identifier = (message.get("Message-ID") or "").strip() or hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(f"{identifier}\n{recipient.lower()}".encode()).hexdigest()


def is_automatic(message: EmailMessage, mail_from: str) -> bool:
    """An absence notice, a delivery report, a list's mail: no person wrote it (RFC 3834, and what clients add)."""
    if not mail_from or mail_from == "<>":
        return True
    if (message.get("Auto-Submitted") or "no").strip().lower() != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond") or message.get("X-Auto-Response-Suppress"):
        return True
    if (message.get("Precedence") or "").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    return message.get_content_type() == "multipart/report"


def sender_of(message: EmailMessage, mail_from: str) -> Sender:
    addresses = getaddresses([str(value) for value in message.get_all("From", [])])
    header = addresses[0][1] if len(addresses) == 1 else ""
    return Sender(header=header.strip().lower(), envelope=parseaddr(mail_from)[1].strip().lower())


_TAG = re.compile(r"<[^>]+>")


def _html_to_text(html: str) -> str:
    from html import unescape

    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", html)
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", html)
    html = re.sub(r"(?i)<blockquote\b.*?</blockquote>", "", html, flags=re.S)
    return unescape(_TAG.sub("", html))


def body_text(message: EmailMessage) -> str:
    """The mail's text: its text/plain part, or else its HTML part made text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown charset: read it as UTF-8 with replacement characters
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    return _html_to_text(content) if part.get_content_type() == "text/html" else content


def reply_text(message: EmailMessage) -> str:
    """What the person wrote: the mail's text without the message it quotes and without the signature."""
    text = body_text(message).replace("\r\n", "\n")
    parsed = ParsedReply(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
    reply = parsed.replies[0].body if parsed.replies else ""
    lines = [line for line in reply.splitlines() if line.strip()]
    if all(line.lstrip().startswith(">") for line in lines):  # nothing but quoted text
        return ""
    return reply.strip()


# Taking a mail ----------------------------------------------------------------------------------------------------


def check_recipient(address: str) -> ReplyTarget:
    """The person and thread a recipient address names; raises `ReplyAddressError` (French message)."""
    return read_reply_address(address)


def receive(raw: bytes, mail_from: str, recipient: str) -> Outcome:
    """Take one mail for one recipient (see the module's docstring) and commit; the outcome says what to answer."""
    message = parse(raw)
    key = message_key(message, raw, recipient)
    known = _known(key)
    if known is not None:
        return known
    sender = sender_of(message, mail_from)
    outcome = _decide(message, mail_from, recipient, sender)
    db.session.add(
        InboundMail(
            message_key=key,
            sender=(sender.header or sender.envelope)[:254],
            recipient=recipient[:254],
            status=outcome.status.value,
            reason=outcome.reason[:MAX_REASON_LENGTH] if outcome.reason else None,
            thread_id=outcome_thread_id(recipient),
            posted_message_id=outcome.message_id,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same mail, taken at the same moment by another connection
        db.session.rollback()
        return _known(key) or Outcome(InboundStatus.REFUSED, "Réponse déjà en cours de traitement.")
    return outcome


NUL_IN_MAIL = (
    "Votre réponse contient un caractère nul (U+0000), qui ne peut pas être enregistré : répondez depuis la page "
    "du fil."
)


def _known(key: str) -> Outcome | None:
    row = db.session.scalars(sa.select(InboundMail).where(InboundMail.message_key == key)).first()
    if row is None:
        return None
    return Outcome(InboundStatus(row.status), row.reason, row.posted_message_id, repeated=True)


def outcome_thread_id(recipient: str) -> int | None:
    try:
        return read_reply_address(recipient).thread_id
    except ReplyAddressError:
        return None


def _decide(message: EmailMessage, mail_from: str, recipient: str, sender: Sender) -> Outcome:
    if is_automatic(message, mail_from):
        return Outcome(InboundStatus.IGNORED, "Réponse automatique : ignorée.")
    try:
        target = check_recipient(recipient)
    except ReplyAddressError as error:
        return Outcome(InboundStatus.REFUSED, str(error))
    text = reply_text(message)
    if "\x00" in text:  # the database cannot store it: refused, as on the site
        return Outcome(InboundStatus.REFUSED, NUL_IN_MAIL)
    if not text:
        return Outcome(
            InboundStatus.REFUSED,
            "Votre réponse est vide : écrivez-la au-dessus du message cité, ou répondez depuis la page du fil.",
        )
    if not _handlers:
        raise RuntimeError("no handler of replies by mail is registered")
    savepoint = db.session.begin_nested()
    try:
        message_id = _handlers[0](target, sender, text)
    except ReplyRefused as refusal:
        savepoint.rollback()
        return Outcome(InboundStatus.REFUSED, str(refusal))
    savepoint.commit()
    return Outcome(InboundStatus.POSTED, message_id=message_id)


# The SMTP/LMTP server ---------------------------------------------------------------------------------------------


class ReplyReceiver:
    """The aiosmtpd handler: recipients checked at RCPT, each mail taken in a worker thread of its own (the
    database work is synchronous), inside the application's context."""

    def __init__(self, app: Flask, workers: int = 4):
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reply")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rpartition("@")[2].lower()
        with self.app.app_context():
            expected = reply_domain()
        if domain != expected:
            return "550 5.1.1 Adresse inconnue : ce serveur ne recoit que les reponses aux fils de la plateforme."
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        replies = []
        for recipient in envelope.rcpt_tos:
            replies.append(
                await loop.run_in_executor(
                    self.executor, self._take, envelope.original_content or envelope.content, envelope.mail_from,
                    recipient,
                )
            )  # fmt: skip
        # SMTP has one answer per mail: the first refusal, if any (a reply has one recipient in practice).
        return next((reply for reply in replies if not reply.startswith("250")), replies[0] if replies else "250 OK")

    def _take(self, raw: bytes, mail_from: str, recipient: str) -> str:
        with self.app.app_context():
            try:
                outcome = receive(raw, mail_from, recipient)
            except Exception:
                db.session.rollback()
                logger.exception("reply by mail to %s could not be taken", recipient)
                return "451 4.3.0 Erreur passagere du serveur : la reponse sera prise au prochain essai."
            finally:
                db.session.remove()
        logger.info(
            "reply by mail from %s to %s: %s%s%s",
            mail_from,
            recipient,
            outcome.status.value,
            f" ({outcome.reason})" if outcome.reason else "",
            " (again)" if outcome.repeated else "",
        )
        return outcome.smtp_reply


class LmtpReceiver(ReplyReceiver):
    """The same handler for LMTP, which answers DATA once per recipient."""

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        content = envelope.original_content or envelope.content
        for recipient in envelope.rcpt_tos:
            reply = await loop.run_in_executor(self.executor, self._take, content, envelope.mail_from, recipient)
            if recipient != envelope.rcpt_tos[-1]:
                await server.push(reply)
            else:
                return reply
        return "250 OK"
