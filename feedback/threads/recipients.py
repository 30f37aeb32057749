"""Who is told of a thread event, and what they are told.

The services call `notify_event` where they record an event, so that the notifications are written in the
same transaction as the change (and lost with it if it fails). The rules:

- a new thread: its organisation's coordinators always; its plain members only when they chose to be told
  of new threads (a `NotificationPreference` row for `thread_created` other than `never`: a busy service
  should not drown its agents); the people who follow its dataset or its organisation (`Follow`); and the
  curators, who route it or see that it gets an answer, when nobody of the organisation would be told (no
  organisation, nobody on the platform yet, or no coordinator and no member who asked). Never its author;
- a message, a status change, a transfer, a deadline extension: the author, the followers and the assignee;
  a transfer or a routing also tells the members of the organisation that receives the thread;
- an assignment: the person assigned;
- an internal note: the followers and the assignee who may read internal notes (the organisation's members,
  the curators), and nobody else;
- the reminders and escalations of `deadlines check` (`alerts.py`) choose their own people and record
  their own event (`escalated`), which nobody is told of through here.

Never the person who acted; never, on a restricted thread, someone who may not see it; never an inactive or
password-less account (the placeholders of imported data.gouv.fr authors, who cannot log in).
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import ColumnExpressionArgument

from feedback.accounts.models import Membership, MembershipRole, User
from feedback.extensions import db
from feedback.i18n import french_date
from feedback.notifications.models import Frequency, Notification, NotificationKind, NotificationPreference
from feedback.notifications.services import notify
from feedback.threads.models import (
    Follow,
    Message,
    MessagePurpose,
    Subscription,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
)
from feedback.threads.workflow import can, can_view

TITLE_LENGTH = 120


def thread_path(thread_id: int, message_id: int | None = None) -> str:
    """Where a notification leads: the thread page, at the message when there is one."""
    return f"/fils/{thread_id}" + (f"#message-{message_id}" if message_id else "")


def reachable():
    """The accounts that may be told anything: active ones that can log in (SQL conditions on `User`)."""
    return (User.active.is_(True), User.password_hash.isnot(None))


def recipients(
    thread: Thread,
    actor: User | None,
    *,
    involved: bool = True,
    organisation_id: int | None = None,
    curators: bool = False,
    only: int | None = None,
    internal: bool = False,
) -> list[User]:
    """The people to tell, in one query: `involved` the author, the followers and the assignee;
    `organisation_id` that organisation's members; `curators` the curators; `only` that one person.
    Then the rules that hold for every event: not the actor, an account that can log in, someone who may
    see the thread (and its internal notes, for an internal note)."""
    people: list[ColumnExpressionArgument[bool]] = []
    if involved:
        people.append(User.id == thread.author_id)
        people.append(User.id.in_(sa.select(Subscription.user_id).where(Subscription.thread_id == thread.id)))
        if thread.assignee_id is not None:
            people.append(User.id == thread.assignee_id)
    if organisation_id is not None:
        people.append(User.id.in_(sa.select(Membership.user_id).where(Membership.organisation_id == organisation_id)))
    if curators:
        people.append(User.is_curator)
    if only is not None:
        people.append(User.id == only)
    if not people:
        return []
    statement = sa.select(User).where(sa.or_(*people), *reachable()).order_by(User.id)
    if thread.is_restricted or internal:
        # The permission functions read each person's memberships: load them with the people.
        statement = statement.options(selectinload(User.memberships))
    if actor is not None:
        statement = statement.where(User.id != actor.id)
    found = db.session.scalars(statement).all()
    return [
        person for person in found if can_view(person, thread) and (not internal or can(person, "see_internal", thread))
    ]


class NewThreadAudience(NamedTuple):
    """Who hears of a new thread besides the curators."""

    of_organisation: list[User]  # its coordinators and the members who asked for it
    followers: list[User]  # the followers of its dataset and of its organisation, not among the above
    organisation_told: bool  # anyone of the organisation knows (else the curators step in)


def told_of_new_thread(thread: Thread) -> NewThreadAudience:
    """The people told of a new thread besides the curators, in one query: the organisation's coordinators and
    its members who asked to be told of new threads; then, apart, the followers of its dataset and of its
    organisation who are not among them; only those who may see the thread, never its author. Also whether
    anyone of the organisation is told (the curators step in when not)."""
    of_organisation = []
    if thread.organisation_id is not None:
        in_organisation = Membership.organisation_id == thread.organisation_id
        coordinators = sa.select(Membership.user_id).where(
            in_organisation, Membership.role == MembershipRole.COORDINATOR.value
        )
        members_who_asked = (
            sa.select(Membership.user_id)
            .join(NotificationPreference, NotificationPreference.user_id == Membership.user_id)
            .where(
                in_organisation,
                Membership.role == MembershipRole.MEMBER.value,
                NotificationPreference.topic == NotificationKind.THREAD_CREATED.value,
                NotificationPreference.frequency != Frequency.NEVER.value,
            )
        )
        of_organisation = [User.id.in_(coordinators), User.id.in_(members_who_asked)]
    followers = []
    if thread.dataset_id is not None:
        followers.append(User.id.in_(sa.select(Follow.user_id).where(Follow.dataset_id == thread.dataset_id)))
    if thread.organisation_id is not None:
        followers.append(User.id.in_(sa.select(Follow.user_id).where(Follow.organisation_id == thread.organisation_id)))
    if not of_organisation and not followers:
        return NewThreadAudience([], [], False)
    flag = sa.or_(*of_organisation) if of_organisation else sa.literal(False)
    statement = (
        sa.select(User, flag.label("of_organisation"))
        .where(sa.or_(*of_organisation, *followers), *reachable())
        .order_by(User.id)
    )
    if thread.is_restricted:
        statement = statement.options(selectinload(User.memberships))
    rows = db.session.execute(statement).all()
    # The author counts as someone of the organisation who knows (a member writing to their own service).
    organisation_told = any(bool(row.of_organisation) for row in rows)
    told = [(user, bool(of)) for user, of in rows if user.id != thread.author_id and can_view(user, thread)]
    return NewThreadAudience(
        of_organisation=[user for user, of in told if of],
        followers=[user for user, of in told if not of],
        organisation_told=organisation_told,
    )


def _has_members(organisation_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id == organisation_id, *reachable())
        )
    )


def _notify_new_thread(thread: Thread, event: ThreadEvent, actor: User | None) -> list[Notification]:
    who = actor.name if actor is not None else "La plateforme"
    title = quoted_title(thread.title)
    kind_label = ThreadKind(thread.kind).label.lower()
    people, followers, organisation_told = told_of_new_thread(thread)
    if actor is not None:
        people = [person for person in people if person.id != actor.id]
        followers = [person for person in followers if person.id != actor.id]
    text = f"Nouveau fil {title} ({kind_label}), ouvert par {who}"
    curators: list[User] = []
    service = thread.organisation.name if thread.organisation is not None else ""
    if not organisation_told:
        if thread.organisation_id is None:
            curators_text = f"Fil à orienter vers un service : {title} ({kind_label}), ouvert par {who}"
        elif _has_members(thread.organisation_id):
            curators_text = f"{text}, pour {service}, qui n'a pas de coordinateur sur la plateforme"
        else:
            # Nobody of the service is on the platform yet: the curators see that it does not go unanswered.
            curators_text = f"{text}, pour {service}, qui n'a pas encore de membre sur la plateforme"
        curators = [
            person
            for person in recipients(thread, actor, involved=False, curators=True)
            if person.id != thread.author_id
        ]
        # A curator who also follows the dataset is told once, with what asks them to act.
        curator_ids = {person.id for person in curators}
        followers = [person for person in followers if person.id not in curator_ids]
    link = thread_path(thread.id)
    sent = notify(
        people, NotificationKind.THREAD_CREATED, text, link, thread_id=thread.id, event_id=event.id, at=event.created_at
    )
    if followers:
        where = f"sur « {thread.dataset.title} »" if thread.dataset is not None else f"pour {service}"
        sent += notify(
            followers,
            NotificationKind.FOLLOWED_THREAD,
            f"{text}, {where}",
            link,
            thread_id=thread.id,
            event_id=event.id,
            at=event.created_at,
        )
    if curators:
        sent += notify(
            curators,
            NotificationKind.THREAD_CREATED,
            curators_text,
            link,
            thread_id=thread.id,
            event_id=event.id,
            at=event.created_at,
        )
    return sent


def quoted_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rstrip() + "…"
    return f"« {title} »"


def notify_event(
    thread: Thread, event: ThreadEvent, actor: User | None, *, message: Message | None = None
) -> list[Notification]:
    """Tell the right people of `event` (just recorded on `thread` by `actor`); `message`: the message that
    goes with it (a motive, a question, the word on a transfer), which the notification leads to."""
    db.session.flush()  # the event's id, and the thread's current state, for the queries below
    who = actor.name if actor is not None else "La plateforme"
    title = quoted_title(thread.title)
    payload = event.payload or {}
    message_id = message.id if message is not None else payload.get("message_id")
    kind: NotificationKind
    people: list[User]

    if event.type == "created":
        return _notify_new_thread(thread, event, actor)
    if event.type == "message":
        kind = NotificationKind.MESSAGE
        if message is not None and message.as_organisation_id is not None and thread.organisation is not None:
            verb = "demande des précisions" if message.purpose == MessagePurpose.DETAILS_REQUEST else "a répondu"
            text = f"{who}, pour {thread.organisation.name}, {verb} sur {title}"
        else:
            text = f"{who} a répondu sur {title}"
        people = recipients(thread, actor)
    elif event.type == "internal_note":
        kind = NotificationKind.INTERNAL_NOTE
        text = f"{who} a écrit une note interne sur {title}"
        people = recipients(thread, actor, internal=True)
    elif event.type == "status_changed":
        kind = NotificationKind.STATUS_CHANGED
        status = ThreadStatus(payload["status"])
        if payload.get("reopened"):
            text = f"{who} a rouvert {title}"
        elif status == ThreadStatus.NEEDS_INFO:
            text = f"{who} demande des précisions sur {title}"
        else:
            text = f"{who} a passé {title} au statut « {status.label} »"
        if status == ThreadStatus.WITHDRAWN and payload.get("motive"):  # why, said to the author in the sentence
            text = f"{text} : « {payload['motive']} »"
        people = recipients(thread, actor)
    elif event.type in ("transferred", "routed"):
        kind = NotificationKind.TRANSFERRED if event.type == "transferred" else NotificationKind.ROUTED
        verb = "transféré" if event.type == "transferred" else "adressé"
        text = f"{who} a {verb} {title} à {payload['organisation_name']}"
        people = recipients(thread, actor, organisation_id=payload["organisation_id"])
    elif event.type == "deadline_extended":
        kind = NotificationKind.DEADLINE_EXTENDED
        text = f"{who} a prolongé jusqu'au {french_date(thread.due_at)} le délai de réponse de {title}"
        people = recipients(thread, actor)
    elif event.type == "assigned":
        if thread.assignee_id is None:
            return []
        kind = NotificationKind.ASSIGNED
        text = f"{who} vous a assigné {title}"
        people = recipients(thread, actor, involved=False, only=thread.assignee_id)
    else:  # reclassified, message_edited, escalated (alerts.py tells its own people): nobody is told here
        return []

    return notify(
        people,
        kind,
        text,
        thread_path(thread.id, message_id),
        thread_id=thread.id,
        event_id=event.id,
        at=event.created_at,
    )
