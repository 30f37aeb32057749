"""What a person can download about themselves: their account, the threads they opened, the messages they
wrote, their votes and follows, their notifications and mail preferences, their ProConnect identity and requests
to join a service, and what the layers above register (the API's tokens). Only theirs: another person's
messages, internal notes or the title of a restricted thread they may no longer see are never part of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feedback.accounts.models import Organisation, User, UserSession
from feedback.auth.models import JoinRequest, ProConnectIdentity
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.moderation.models import ModerationReport
from feedback.notifications.models import Frequency, Notification, NotificationPreference
from feedback.notifications.preferences import TOPICS
from feedback.threads.models import Follow, Message, Subscription, Thread, Vote
from feedback.threads.workflow import can_view

FORMAT_VERSION = 1


# What the layers above this one hold about a person (the API's tokens), each under its key: they register it here,
# as this module cannot import them.
_sections: dict[str, Callable[[User], Any]] = {}


def register_personal_data(key: str, section: Callable[[User], Any]) -> None:
    """Add `section(user)` to every export, under `key`; registering again replaces it."""
    _sections[key] = section


def iso(moment: datetime | None) -> str | None:
    """A moment as the exports write it: ISO 8601, or None."""
    return moment.isoformat() if moment is not None else None


def _thread_reference(thread: Thread, user: User) -> dict[str, Any]:
    """A thread the person took part in: its title only while they may still see it."""
    visible = can_view(user, thread)
    return {"id": thread.id, "title": thread.title if visible else None, "visible": visible}


def personal_data(user: User) -> dict[str, Any]:
    """Everything the platform holds about `user`, with stable keys and ISO 8601 dates (UTC)."""
    threads = db.session.scalars(sa.select(Thread).where(Thread.author_id == user.id).order_by(Thread.id)).all()
    messages = db.session.execute(
        sa.select(Message, Thread)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.author_id == user.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    votes = db.session.execute(
        sa.select(Vote, Thread)
        .join(Thread, Thread.id == Vote.thread_id)
        .where(Vote.user_id == user.id)
        .order_by(Vote.created_at)
    ).all()
    subscriptions = db.session.execute(
        sa.select(Subscription, Thread)
        .join(Thread, Thread.id == Subscription.thread_id)
        .where(Subscription.user_id == user.id)
        .order_by(Subscription.created_at)
    ).all()
    follows = db.session.execute(
        sa.select(Follow, Dataset, Organisation)
        .outerjoin(Dataset, Dataset.id == Follow.dataset_id)
        .outerjoin(Organisation, Organisation.id == Follow.organisation_id)
        .where(Follow.user_id == user.id)
        .order_by(Follow.created_at)
    ).all()
    notifications = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.created_at)
    ).all()
    reports = db.session.execute(
        sa.select(ModerationReport, Thread)
        .join(Thread, Thread.id == ModerationReport.thread_id)
        .where(ModerationReport.reporter_id == user.id)
        .order_by(ModerationReport.created_at)
    ).all()
    browsers = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at)
    ).all()
    preferences = db.session.scalars(
        sa.select(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.topic)
    ).all()
    return {
        "format_version": FORMAT_VERSION,
        "account": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "employer_kind": user.employer_kind,
            "employer_kind_label": user.employer_kind_label,
            "employer_name": user.employer_name,
            "role": user.role,
            "role_label": user.role_label,
            "created_at": iso(user.created_at),
            "last_login_at": iso(user.last_login_at),
            "memberships": [
                {
                    "organisation": membership.organisation.name,
                    "organisation_slug": membership.organisation.slug,
                    "role": membership.role,
                    "role_label": membership.role_label,
                    "since": iso(membership.created_at),
                }
                for membership in user.memberships
            ],
        },
        "threads": [
            {
                "id": thread.id,
                "kind": thread.kind,
                "title": thread.title,
                "status": thread.status,
                "visibility": thread.visibility,
                "created_at": iso(thread.created_at),
            }
            for thread in threads
        ],
        "messages": [
            {
                "id": message.id,
                "thread": _thread_reference(thread, user),
                "internal": message.internal,
                "created_at": iso(message.created_at),
                "edited_at": iso(message.edited_at),
                "body": message.body,
            }
            for message, thread in messages
        ],
        "votes": [
            {"thread": _thread_reference(thread, user), "created_at": iso(vote.created_at)} for vote, thread in votes
        ],
        "followed_threads": [
            {"thread": _thread_reference(thread, user), "created_at": iso(subscription.created_at)}
            for subscription, thread in subscriptions
        ],
        "followed_datasets": [
            {"dataset": dataset.title, "dataset_slug": dataset.slug, "created_at": iso(follow.created_at)}
            for follow, dataset, _ in follows
            if dataset is not None
        ],
        "followed_organisations": [
            {
                "organisation": organisation.name,
                "organisation_slug": organisation.slug,
                "created_at": iso(follow.created_at),
            }
            for follow, _, organisation in follows
            if organisation is not None
        ],
        "moderation_reports": [
            {
                "thread": _thread_reference(thread, user),
                "message_id": report.message_id,
                "reason": report.reason,
                "comment": report.comment,
                "created_at": iso(report.created_at),
                "outcome": report.outcome,
            }
            for report, thread in reports
        ],
        "browser_sessions": [
            {
                "browser": session.user_agent,
                "created_at": iso(session.created_at),
                "last_seen_at": iso(session.last_seen_at),
                "ended_at": iso(session.ended_at),
            }
            for session in browsers
        ],
        "notifications": [
            {
                "kind": notification.kind,
                "text": notification.text,
                "link": notification.link,
                "created_at": iso(notification.created_at),
                "read_at": iso(notification.read_at),
                "emailed_at": iso(notification.emailed_at),
            }
            for notification in notifications
        ],
        "notification_preferences": [
            {
                "topic": preference.topic,
                "topic_label": TOPICS.get(preference.topic, preference.topic),
                "frequency": preference.frequency,
                "frequency_label": Frequency(preference.frequency).label,
            }
            for preference in preferences
        ],
        "proconnect": _proconnect_identity(user),
        "join_requests": [
            {
                "organisation": organisation.name,
                "organisation_slug": organisation.slug,
                "siret": request.siret,
                "status": request.status,
                "created_at": iso(request.created_at),
                "decided_at": iso(request.decided_at),
            }
            for request, organisation in db.session.execute(
                sa.select(JoinRequest, Organisation)
                .join(Organisation, Organisation.id == JoinRequest.organisation_id)
                .where(JoinRequest.user_id == user.id)
                .order_by(JoinRequest.created_at)
            )
        ],
        **{key: section(user) for key, section in _sections.items()},
    }


def _proconnect_identity(user: User) -> dict[str, Any] | None:
    """The ProConnect identity the account is linked to, if any: what ProConnect said of it at the last sign-in."""
    identity = db.session.scalars(sa.select(ProConnectIdentity).where(ProConnectIdentity.user_id == user.id)).first()
    if identity is None:
        return None
    return {
        "issuer": identity.issuer,
        "subject": identity.subject,
        "siret": identity.siret,
        "acr": identity.acr,
        "amr": identity.amr,
        "linked_at": iso(identity.created_at),
        "last_sign_in_at": iso(identity.last_login_at),
    }
