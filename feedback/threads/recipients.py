"""Who is told of a thread event, and what they are told.

The services call `notify_event` where they record an event, so that the notifications are written in the
same transaction as the change (and lost with it if it fails). The rules:

- a new thread: the members of its organisation (coordinators and plain members alike, until people choose
  what they are told of); a thread that no organisation owns, or whose organisation has nobody on the
  platform yet: the curators, who route it or see that it gets an answer;
- a message, a status change, a transfer, a deadline extension: the author, the followers and the assignee;
  a transfer or a routing also tells the members of the organisation that receives the thread;
- an assignment: the person assigned;
- an internal note: the followers and the assignee who may read internal notes (the organisation's members,
  the curators), and nobody else.

Never the person who acted; never, on a restricted thread, someone who may not see it; never an inactive or
password-less account (the placeholders of imported data.gouv.fr authors, who cannot log in).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from feedback.accounts.models import Membership, Role, User
from feedback.extensions import db
from feedback.i18n import french_date
from feedback.notifications.models import Notification, NotificationKind
from feedback.notifications.services import notify
from feedback.threads.models import Message, Subscription, Thread, ThreadEvent, ThreadKind, ThreadStatus
from feedback.threads.workflow import can, can_view

TITLE_LENGTH = 120


def thread_path(thread_id: int, message_id: int | None = None) -> str:
    """Where a notification leads: the thread page, at the message when there is one."""
    return f"/threads/{thread_id}" + (f"#message-{message_id}" if message_id else "")


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
    people = []
    if involved:
        people.append(User.id == thread.author_id)
        people.append(User.id.in_(sa.select(Subscription.user_id).where(Subscription.thread_id == thread.id)))
        if thread.assignee_id is not None:
            people.append(User.id == thread.assignee_id)
    if organisation_id is not None:
        people.append(User.id.in_(sa.select(Membership.user_id).where(Membership.organisation_id == organisation_id)))
    if curators:
        people.append(User.role.in_([Role.CURATOR.value, Role.ADMIN.value]))
    if only is not None:
        people.append(User.id == only)
    if not people:
        return []
    statement = (
        sa.select(User).where(sa.or_(*people), User.active.is_(True), User.password_hash.isnot(None)).order_by(User.id)
    )
    if thread.is_restricted or internal:
        # The permission functions read each person's memberships: load them with the people.
        statement = statement.options(selectinload(User.memberships))
    if actor is not None:
        statement = statement.where(User.id != actor.id)
    found = db.session.scalars(statement).all()
    return [
        person for person in found if can_view(person, thread) and (not internal or can(person, "see_internal", thread))
    ]


def _quoted(title: str) -> str:
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
    title = _quoted(thread.title)
    payload = event.payload or {}
    message_id = message.id if message is not None else payload.get("message_id")
    kind: NotificationKind
    people: list[User]

    if event.type == "created":
        kind = NotificationKind.THREAD_CREATED
        kind_label = ThreadKind(thread.kind).label.lower()
        members = []
        if thread.organisation_id is not None:
            members = recipients(thread, None, involved=False, organisation_id=thread.organisation_id)
        if members:
            text = f"Nouveau fil {title} ({kind_label}), ouvert par {who}"
            people = [member for member in members if actor is None or member.id != actor.id]
        elif thread.organisation_id is not None:
            # Nobody of the service is on the platform yet: the curators see that it does not go unanswered.
            text = (
                f"Nouveau fil {title} ({kind_label}), ouvert par {who}, pour {thread.organisation.name}, "
                "qui n'a pas encore de membre sur la plateforme"
            )
            people = recipients(thread, actor, involved=False, curators=True)
        else:
            text = f"Fil à orienter vers un service : {title} ({kind_label}), ouvert par {who}"
            people = recipients(thread, actor, involved=False, curators=True)
    elif event.type == "message":
        kind = NotificationKind.MESSAGE
        if payload.get("official") and thread.organisation is not None:
            text = f"{who}, pour {thread.organisation.name}, a répondu sur {title}"
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
    else:  # reclassified, message_edited: nobody is told
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
