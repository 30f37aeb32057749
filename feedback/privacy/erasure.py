"""Deleting an account, at its owner's request (on the site, or by an operator acting on a written request).

What they wrote stays: the threads and messages belong to the exchange with the public service (and to the
answers others gave), signed « Compte supprimé » from then on. Everything that identifies the person goes: the
name, the address (replaced by a unique address that cannot receive mail), the employer, the password, the
memberships, the browser sessions, the mail preferences, their notifications and the mails not yet sent to them,
the link to their ProConnect identity, their requests to join a service and their API tokens.
Follows go (the thread's follower counter goes down with them); « moi aussi » votes stay, attached to the
anonymous row, so that the counters and the demand figures do not change. Curators and coordinators may delete
their account as anyone: the organisation keeps its other members, and the curators' work stays signed « Compte
supprimé »."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from markupsafe import escape

from feedback.accounts.models import EmployerKind, Membership, Role, User, UserSession
from feedback.auth.models import JoinRequest, ProConnectIdentity
from feedback.database import utcnow
from feedback.extensions import db
from feedback.mail.models import MailStatus, OutgoingMail
from feedback.mail.retention import drop_mails_of
from feedback.moderation.models import ModerationReport
from feedback.notifications.models import Notification, NotificationPreference
from feedback.threads.models import Follow, Subscription, Thread, ThreadEvent

DELETED_NAME = "Compte supprimé"
# `.invalid` is reserved (RFC 2606): no mail can ever be delivered there.
DELETED_ADDRESS_DOMAIN = "compte-supprime.invalid"


class ErasureError(Exception):
    """Why an account cannot be deleted, in French."""


# What the layers above this one erase with an account (the API's tokens): they register it here.
_erasers: list[Callable[[User], None]] = []


def register_eraser(eraser: Callable[[User], None]) -> None:
    """`eraser(user)` runs with every account deletion, before the account row is emptied; registering twice is
    harmless."""
    if eraser not in _erasers:
        _erasers.append(eraser)


def deleted_address(user_id: int) -> str:
    return f"compte-{user_id}@{DELETED_ADDRESS_DOMAIN}"


def is_deleted(user: User) -> bool:
    return user.deleted_at is not None


def delete_account(user: User) -> None:
    """Erase the personal data of `user` and keep their contributions under « Compte supprimé ». Flushes; the
    caller commits (and logs the browser out)."""
    if is_deleted(user):
        raise ErasureError("Ce compte est déjà supprimé.")
    old_name, old_address = user.name, user.email

    # Follows of threads: the counters go down with them, in the database (concurrent follows still count).
    followed = db.session.scalars(sa.select(Subscription.thread_id).where(Subscription.user_id == user.id)).all()
    if followed:
        db.session.execute(sa.delete(Subscription).where(Subscription.user_id == user.id))
        db.session.execute(
            sa.update(Thread)
            .where(Thread.id.in_(followed))
            .values(followers_count=Thread.followers_count - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(sa.delete(Follow).where(Follow.user_id == user.id))
    db.session.execute(sa.delete(Notification).where(Notification.recipient_id == user.id))
    db.session.execute(sa.delete(NotificationPreference).where(NotificationPreference.user_id == user.id))
    db.session.execute(sa.delete(Membership).where(Membership.user_id == user.id))
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    # The link to their ProConnect identity (signing in there again makes a new account) and their requests to
    # join a service.
    db.session.execute(sa.delete(ProConnectIdentity).where(ProConnectIdentity.user_id == user.id))
    db.session.execute(sa.delete(JoinRequest).where(JoinRequest.user_id == user.id))
    for eraser in _erasers:
        eraser(user)
    # Their reports stay for the record of what the moderation did, without the words they wrote.
    db.session.execute(sa.update(ModerationReport).where(ModerationReport.reporter_id == user.id).values(comment=""))
    drop_mails_of(user.id, old_address)
    _forget_name_in_pending_texts(old_name)
    _forget_name_in_assignments(user.id)

    user.name = DELETED_NAME
    user.email = deleted_address(user.id)
    user.password_hash = None
    user.employer_kind = EmployerKind.OTHER.value
    user.employer_name = ""
    user.role = Role.USER.value
    user.active = False
    user.confirmed = False
    user.last_login_at = None
    user.datagouv_id = None
    user.deleted_at = utcnow()
    db.session.expire(user, ["memberships", "browser_sessions"])
    db.session.flush()


def _forget_name_in_pending_texts(name: str) -> None:
    """The notifications and the mails not yet sent to others name the person (« Camille Martin a répondu ») :
    they say « Compte supprimé » instead."""
    if len(name.strip()) < 3:  # too short to be told apart from ordinary words
        return
    new = DELETED_NAME
    for old in sorted({name, str(escape(name))}):
        db.session.execute(
            sa.update(Notification)
            .where(Notification.text.contains(old, autoescape=True))
            .values(text=sa.func.replace(Notification.text, old, new))
            .execution_options(synchronize_session=False)
        )
        pending = OutgoingMail.status == MailStatus.PENDING.value
        db.session.execute(
            sa.update(OutgoingMail)
            .where(pending, OutgoingMail.text_body.contains(old, autoescape=True))
            .values(
                text_body=sa.func.replace(OutgoingMail.text_body, old, new),
                subject=sa.func.replace(OutgoingMail.subject, old, new),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.update(OutgoingMail)
            .where(pending, OutgoingMail.html_body.contains(old, autoescape=True))
            .values(html_body=sa.func.replace(OutgoingMail.html_body, old, new))
            .execution_options(synchronize_session=False)
        )


def _forget_name_in_assignments(user_id: int) -> None:
    """The timeline tells whom a thread was assigned to by the name written then: it says « Compte supprimé »
    now. The threads still assigned to the person are assigned to nobody: their service sees them as such."""
    events = db.session.scalars(
        sa.select(ThreadEvent).where(
            ThreadEvent.type == "assigned", ThreadEvent.payload["assignee_id"].as_integer() == user_id
        )
    ).all()
    for event in events:
        event.payload = {**event.payload, "assignee_name": DELETED_NAME}
    db.session.execute(
        sa.update(Thread)
        .where(Thread.assignee_id == user_id)
        .values(assignee_id=None)
        .execution_options(synchronize_session=False)
    )
