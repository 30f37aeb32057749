"""Turning an outbox row into a mail and handing it to the SMTP server (or to the console).

The delivery needs one answer of each attempt: the server took the mail, refused it for good (a 5xx reply to
the recipient or to the content: sending it again would only be refused again), or could not take it now (a
4xx reply, a refused or lost connection, a timeout: it may work later). The two exceptions below carry that
answer; `SmtpConnection.send` raises nothing else.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import sys
from collections.abc import Mapping
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr

from feedback.mail.models import OutgoingMail

MAX_ERROR_LENGTH = 500


class DeliveryError(Exception):
    def __init__(self, message: str):
        super().__init__(message[:MAX_ERROR_LENGTH])


class PermanentFailure(DeliveryError):
    """The server refused this mail for good (5xx on the recipient or the content)."""


class TemporaryFailure(DeliveryError):
    """The mail could not be handed over now; `connection_lost`: the server itself is out of reach, so that the
    other mails of the batch would fail the same way."""

    def __init__(self, message: str, *, connection_lost: bool = False):
        super().__init__(message)
        self.connection_lost = connection_lost


class MailPolicy(EmailPolicy):
    """The standard policy, but a subject with accents is folded as encoded words that each carry their spaces:
    the standard folder may put a line break between two encoded words where a space was, and readers, who
    ignore the whitespace between encoded words (RFC 2047), then show "Loiret,a répondu"."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not value.isascii():
            return f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=self.linesep)}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not value.isascii():
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = MailPolicy()


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The mail as it goes out: its Message-ID is the row's, fixed when queued, so that a mail sent twice after
    a crash is recognisable as one; its Date is when it was written."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    for name, value in (mail.headers or {}).items():
        message[name] = value
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    return message


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class ConsoleConnection:
    """No mail server configured: each mail is written to standard output as a person reads it — its headers and
    its text decoded (not quoted-printable), the HTML version, which says the same, left out."""

    def __init__(self, config: Mapping):
        self.sender = config["MAIL_SENDER"]

    def __enter__(self) -> ConsoleConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self.sender)
        shown = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID")
        headers = "".join(f"{name}: {message[name]}\n" for name in shown if message[name] is not None)
        sys.stdout.write(f"{'-' * 30} courriel {mail.key} {'-' * 30}\n{headers}\n{mail.text_body.rstrip()}\n\n")
        sys.stdout.flush()


class SmtpConnection:
    """One SMTP connection for a batch of mails, opened at the first mail (a batch with nothing to send opens
    nothing) and closed at the end; a mail after a lost connection opens a new one."""

    def __init__(self, config: Mapping):
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.security = (config.get("MAIL_SECURITY") or "none").lower()
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.sender = config["MAIL_SENDER"]
        self.envelope_sender = parseaddr(self.sender)[1]
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            self._discard(smtp)
            raise
        return smtp

    @staticmethod
    def _discard(smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(OSError):
            smtp.close()

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._discard(self._smtp)
        self._smtp = None

    def _lost(self, reason: str) -> TemporaryFailure:
        if self._smtp is not None:
            self._discard(self._smtp)
            self._smtp = None
        return TemporaryFailure(reason, connection_lost=True)

    def _forget_if_closing(self, code: int) -> None:
        """421: the server closes the connection after this reply; the next mail opens a new one."""
        if code == 421 and self._smtp is not None:
            self._discard(self._smtp)
            self._smtp = None

    def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self.sender)
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message, from_addr=self.envelope_sender, to_addrs=[mail.to_address])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            text = f"Destinataire refusé : {code} {_reply_text(reply)}"
            if 500 <= code < 600:
                raise PermanentFailure(text) from error
            self._forget_if_closing(code)
            raise TemporaryFailure(text) from error
        except smtplib.SMTPSenderRefused as error:
            # Our own sender address refused: a setting to fix, not this mail's fault; it waits and is retried.
            raise TemporaryFailure(f"Expéditeur refusé : {error.smtp_code} {_reply_text(error.smtp_error)}") from error
        except smtplib.SMTPDataError as error:
            text = f"Contenu refusé : {error.smtp_code} {_reply_text(error.smtp_error)}"
            if 500 <= error.smtp_code < 600:
                raise PermanentFailure(text) from error
            self._forget_if_closing(error.smtp_code)
            raise TemporaryFailure(text) from error
        except smtplib.SMTPServerDisconnected as error:
            raise self._lost(f"Connexion interrompue par le serveur : {error}") from error
        except smtplib.SMTPResponseException as error:
            # Connection, greeting, STARTTLS or login refused: the whole server is unusable for now.
            raise self._lost(f"Serveur indisponible : {error.smtp_code} {_reply_text(error.smtp_error)}") from error
        except TimeoutError as error:
            raise self._lost("Délai dépassé en attendant le serveur de courriel") from error
        except (smtplib.SMTPException, OSError) as error:
            raise self._lost(f"Serveur de courriel injoignable : {error}") from error


def open_connection(config: Mapping) -> SmtpConnection | ConsoleConnection:
    """The way out for a batch of mails: the SMTP server of the settings, or the console without one."""
    if config.get("MAIL_SERVER"):
        return SmtpConnection(config)
    return ConsoleConnection(config)
