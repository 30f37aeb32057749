"""What a notification's mail tells of what happened: the message's text, the new status and its motive, the new
deadline, and whether its recipient may answer by replying to the mail.

The mail worker lives in the notifications layer, below this one; this module registers `details` with it
(`feedback.notifications.mails.register_detail_source`) when the application factory calls `register()`. It
works on a batch of notifications with a fixed number of queries, and tells each recipient only what they may
read now: a thread they may no longer see, a message hidden since, an internal note for someone who may not see
internal notes give the bare sentence of the notification, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from feedback.accounts.models import User
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.i18n import french_date
from feedback.notifications.mails import NotificationDetail, register_detail_source
from feedback.notifications.models import Notification
from feedback.threads import answers
from feedback.threads.attachments import attachment_links
from feedback.threads.models import DeclineReason, Message, Thread, ThreadEvent, ThreadKind, ThreadStatus
from feedback.threads.workflow import can

_MESSAGE_ANCHOR = re.compile(r"#message-(\d+)$")
# Events after which the deadline is news: a new thread, one that changed hands, one extended.
_DEADLINE_EVENTS = {"created", "transferred", "routed", "deadline_extended"}


def _message_id(notification: Notification, event: ThreadEvent | None) -> int | None:
    found = _MESSAGE_ANCHOR.search(notification.link)
    if found:
        return int(found.group(1))
    return (event.payload or {}).get("message_id") if event is not None else None


def _by_id(model, ids, *options) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)).options(*options))}


def _first_messages(thread_ids: set[int]) -> dict[int, int]:
    """The opening message of each thread (what a new thread's mail shows)."""
    if not thread_ids:
        return {}
    rows = db.session.execute(
        sa.select(Message.thread_id, sa.func.min(Message.id))
        .where(Message.thread_id.in_(thread_ids), Message.internal.is_(False))
        .group_by(Message.thread_id)
    )
    return {thread_id: message_id for thread_id, message_id in rows}


def _motive(event: ThreadEvent, datasets: Mapping[int, Dataset], threads: Mapping[int, Thread]) -> str | None:
    payload = event.payload or {}
    if payload.get("reason"):
        return f"Motif du refus : {DeclineReason(payload['reason']).label}."
    if payload.get("original_id") in threads:
        original = threads[payload["original_id"]]
        return f"Doublon du fil n°{original.id} : « {original.title} »."
    if payload.get("resolution_dataset_id") in datasets:
        return f"Jeu de données qui répond : « {datasets[payload['resolution_dataset_id']].title} »."
    return None


def details(notifications: Sequence[Notification], users: Mapping[int, User]) -> dict[int, NotificationDetail]:
    about_threads = [n for n in notifications if n.thread_id is not None]
    if not about_threads:
        return {}
    events = _by_id(ThreadEvent, (n.event_id for n in about_threads))
    created = {e.thread_id for e in events.values() if e.type == "created"}
    openings = _first_messages(created)
    message_ids: dict[int, int | None] = {}
    for n in about_threads:
        event = events.get(n.event_id)
        message_ids[n.id] = _message_id(n, event) or (
            openings.get(n.thread_id or 0) if event is not None and event.type == "created" else None
        )
    messages = _by_id(
        Message, message_ids.values(), selectinload(Message.author), selectinload(Message.as_organisation)
    )
    payloads = [e.payload or {} for e in events.values()]
    threads = _by_id(
        Thread,
        [n.thread_id for n in about_threads] + [p.get("original_id") for p in payloads],
        selectinload(Thread.organisation),
    )
    datasets = _by_id(Dataset, (p.get("resolution_dataset_id") for p in payloads))
    files = attachment_links([m.id for m in messages.values()])

    told: dict[int, NotificationDetail] = {}
    for notification in about_threads:
        user, thread = users.get(notification.recipient_id), threads.get(notification.thread_id or 0)
        if user is None or thread is None or not can(user, "view", thread):
            continue
        event = events.get(notification.event_id)
        message = messages.get(message_ids[notification.id])
        if message is not None and (
            message.thread_id != thread.id
            or message.hidden_at is not None
            or (message.internal and not can(user, "see_internal", thread))
        ):
            message = None
        status = motive = due_on = None
        if event is not None and event.type == "status_changed":
            status = ThreadStatus((event.payload or {})["status"]).label
            motive = _motive(event, datasets, threads)
        if (
            event is not None
            and event.type in _DEADLINE_EVENTS
            and thread.kind == ThreadKind.DATA_REQUEST
            and thread.due_at is not None
            and ThreadStatus(thread.status).is_open
        ):
            due_on = french_date(thread.due_at)
        author = None
        if message is not None:
            author = message.author.name
            if message.as_organisation is not None:
                author = f"{author}, pour {message.as_organisation.name}"
        told[notification.id] = NotificationDetail(
            thread_id=thread.id,
            thread_title=thread.title,
            author=author,
            text=message.body if message is not None else None,
            # body_html is render_markdown's output, sanitised by nh3's allow-list when the message was written.
            html=Markup(message.body_html) if message is not None else None,  # nosec B704
            internal=bool(message is not None and message.internal),
            status=status,
            motive=motive,
            due_on=due_on,
            files=files.get(message.id, []) if message is not None else [],
            can_reply=can(user, "reply", thread),
            answers_for_service=answers.answers_for_service(user, thread),
        )
    return told


def register() -> None:
    """Called by the application factory: the mail worker tells what happened with this module."""
    register_detail_source(details)
