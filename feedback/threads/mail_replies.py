"""A reply by mail becomes a message on its thread, as if its author had used the form.

The receiver (`feedback.mail.inbound`) has checked the address's signature and removed the quoted text; this
handler, registered with it by the application factory, checks the rest with the same rules as the web reply:
the sender is the person the address was made for (the From header, or the envelope's sender without one, is the
account's address),
the account is active, the person may still see and answer on the thread (`workflow.can`); then
`services.post_message` posts it — a member of the thread's service answers as the service, exactly as on the
site, and a reply by mail is never an internal note.
"""

from __future__ import annotations

from feedback.accounts.models import User
from feedback.extensions import db
from feedback.mail.inbound import ReplyRefused, Sender, register_reply_handler
from feedback.mail.reply_address import ReplyTarget
from feedback.threads import services
from feedback.threads.models import Thread
from feedback.threads.workflow import can

NOT_THE_PERSON = (
    "Cette adresse de réponse a été donnée à une autre personne : répondez depuis l'adresse qui a reçu le courriel, "
    "ou depuis la page du fil."
)
NO_LONGER_ALLOWED = "Vous ne pouvez plus répondre sur ce fil : il n'existe plus ou ne vous est plus accessible."


def post_reply(target: ReplyTarget, sender: Sender, text: str) -> int:
    user = db.session.get(User, target.user_id)
    if user is None or not user.active:
        raise ReplyRefused(NO_LONGER_ALLOWED)
    if (sender.header or sender.envelope) != user.email.lower():  # who the mail says wrote it
        raise ReplyRefused(NOT_THE_PERSON)
    thread = db.session.get(Thread, target.thread_id)
    if thread is None or not can(user, "reply", thread):
        raise ReplyRefused(NO_LONGER_ALLOWED)
    try:
        message = services.post_message(thread, user, text, internal=False)
    except services.ThreadError as error:  # too long, and whatever the form would refuse
        raise ReplyRefused(f"Votre réponse n'a pas été publiée : {error}") from None
    return message.id


def register() -> None:
    """Called by the application factory: replies by mail are posted by this module."""
    register_reply_handler(post_reply)
