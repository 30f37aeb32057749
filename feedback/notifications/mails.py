"""From notifications to mails: what the worker (`flask notifications send`) does before delivering the outbox.

1. `queue_notification_mails`: every notification the worker has not looked at yet (`mail_state` pending) gets
   its recipient's frequency for its kind: at once, its own mail (key `notification:<id>`, state `queued`);
   daily or weekly, it waits for a digest (`digest`); never, or no address that can receive, `skipped`.
2. `queue_digests`: at 07:00 Paris time (or the first pass after), one mail per person gathering the
   notifications that waited from before then, once a day (key `digest:daily:<user>:<date>`) and once per ISO
   week on Monday (`digest:weekly:<user>:<monday>`); those notifications become `digested`.
3. `queue_summaries`: on Mondays from 07:00 Paris time, the weekly summary (topic `summary`) of each person
   who wants it and has something to be told (key `summary:weekly:<user>:<monday>`).

A notification's own mail carries what happened (the message's text, the new status and its motive, the new
deadline) and, where the person may answer, a `Reply-To` address of their own for that thread (answering the
mail posts on the thread: `feedback.mail.inbound`). What happened is known to the threads layer: it registers a
composer of details (`register_detail_source`, filled by `feedback.threads.notification_details`), asked once
per batch of notifications; without one, the mail says the notification's sentence and leads to the site.

The summary speaks of threads, which live in a layer above this one. Rather than this layer importing threads,
the threads layer registers its composer here (`register_summary_source`, filled by
`feedback.threads.summaries` when it is imported): the worker asks every registered source for the sections of
a batch of people, and lays them out. The dependency stays pointing down, and the notifications layer needs no
knowledge of statuses, deadlines or organisations' threads.

Every query works on a batch (of notifications, of people): none is made per notification.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeGuard

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from feedback.accounts.models import User
from feedback.clock import PARIS
from feedback.database import utcnow
from feedback.extensions import db
from feedback.i18n import french_date, french_datetime
from feedback.mail.delivery import on_sent
from feedback.mail.models import OutgoingMail
from feedback.mail.outbox import mail_domain, queue_mail
from feedback.mail.reply_address import reply_address
from feedback.notifications.models import Frequency, MailState, Notification, NotificationKind
from feedback.notifications.preferences import ALL_TOPICS, SUMMARY, TOPICS, FrequencyTable
from feedback.notifications.unsubscribe import unsubscribe_path

DIGEST_TIME = time(7, 0)
BATCH_SIZE = 500
PREFERENCES_PATH = "/notifications/preferences"

# Why someone gets a mail of each kind: said in every mail, after the content.
REASONS: dict[str, str] = {
    NotificationKind.THREAD_CREATED.value: (
        "ce fil est adressé à un service dont vous êtes membre, ou attend d'être orienté vers un service"
    ),
    NotificationKind.FOLLOWED_THREAD.value: "vous suivez le jeu de données ou le producteur auquel ce fil se rapporte",
    NotificationKind.MESSAGE.value: "vous êtes l'auteur de ce fil, vous le suivez ou il vous est assigné",
    NotificationKind.INTERNAL_NOTE.value: (
        "vous suivez ce fil ou il vous est assigné, en tant que membre du service ou administrateur des données"
    ),
    NotificationKind.STATUS_CHANGED.value: "vous êtes l'auteur de ce fil, vous le suivez ou il vous est assigné",
    NotificationKind.TRANSFERRED.value: (
        "vous êtes concerné par ce fil (auteur, abonné, assigné) ou membre du service qui le reçoit"
    ),
    NotificationKind.ROUTED.value: "vous êtes concerné par ce fil ou membre du service vers lequel il est orienté",
    NotificationKind.DEADLINE_EXTENDED.value: "vous êtes l'auteur de ce fil, vous le suivez ou il vous est assigné",
    NotificationKind.ASSIGNED.value: "ce fil vous a été assigné",
    NotificationKind.DEADLINE_REMINDER.value: "vous répondez pour le service auquel ce fil est adressé",
    NotificationKind.ESCALATION.value: (
        "vous coordonnez le service auquel ce fil est adressé, ou vous êtes administrateur des données"
    ),
    NotificationKind.REPORT_PUBLISHED.value: "ce rapport concerne un service dont vous êtes membre ou vos fils",
    NotificationKind.MODERATION.value: "vous avez signalé ce contenu à la modération",
    NotificationKind.JOIN_REQUEST.value: (
        "vous coordonnez le service concerné ou êtes administrateur des données, ou vous avez demandé à le rejoindre"
    ),
}
assert set(REASONS) == {kind.value for kind in NotificationKind}, "every kind of notification says why it is sent"


# The weekly summary's sources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryItem:
    text: str
    link: str  # a path of this site
    detail: str | None = None


@dataclass
class SummaryGroup:
    heading: str
    items: list[SummaryItem]
    total: int  # may exceed len(items): long lists are cut


@dataclass
class SummarySection:
    heading: str
    groups: list[SummaryGroup] = field(default_factory=list)


# `source(user_ids, now)` → the sections to tell each of these people (someone left out has nothing to be told).
SummarySource = Callable[[Sequence[int], datetime], Mapping[int, list[SummarySection]]]
_summary_sources: list[SummarySource] = []


def register_summary_source(source: SummarySource) -> SummarySource:
    """Add a composer of the weekly summary (see the module's docstring); registering twice is harmless."""
    if source not in _summary_sources:
        _summary_sources.append(source)
    return source


# What happened, told in the mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationDetail:
    """What a notification's mail says of what happened, for its recipient (who may read all of it)."""

    thread_id: int
    thread_title: str
    author: str | None = None  # who wrote the message, as the thread shows it
    text: str | None = None  # the message's markdown source, as plain text
    html: Markup | None = None  # its sanitised HTML, stored when it was written
    internal: bool = False  # an internal note: a reply by mail would be public
    status: str | None = None  # the new status's label
    motive: str | None = None  # what goes with the status: decline reason, original thread, resolving dataset
    due_on: str | None = None  # the deadline, in French, when it is news
    files: list[tuple[str, str]] = field(default_factory=list)  # (name, path of this site)
    can_reply: bool = False  # may answer on the thread: the mail gets a Reply-To of its own
    answers_for_service: bool = False  # a reply is published in the service's name


# `source(notifications, users)` → the details of those it knows (users: the recipients, by id, memberships loaded).
DetailSource = Callable[[Sequence[Notification], Mapping[int, User]], Mapping[int, NotificationDetail]]
_detail_sources: list[DetailSource] = []


def register_detail_source(source: DetailSource) -> DetailSource:
    """Add a composer of what notifications' mails say (see the module's docstring); registering twice is
    harmless."""
    if source not in _detail_sources:
        _detail_sources.append(source)
    return source


def notification_details(
    notifications: Sequence[Notification], users: Mapping[int, User]
) -> dict[int, NotificationDetail]:
    details: dict[int, NotificationDetail] = {}
    for source in _detail_sources:
        details.update(source(notifications, users))
    return details


def thread_reference(thread_id: int) -> str:
    """The Message-ID every mail of a thread refers to, so that mail clients show them as one conversation."""
    return f"<fil-{thread_id}@{mail_domain()}>"


# Addresses and links -------------------------------------------------------------------------------------------


def can_receive(user: User | None) -> TypeGuard[User]:
    """An address worth writing to: an active account that can log in, whose address was confirmed (never an
    imported placeholder, never an address nobody proved to own)."""
    return bool(
        user is not None
        and user.active
        and user.password_hash
        and user.confirmed
        and user.email
        and not user.email.endswith(".invalid")
    )


def absolute_url(path: str) -> str:
    return current_app.config["FEEDBACK_BASE_URL"].rstrip("/") + path


def _links(user: User, topic: str) -> tuple[dict, dict[str, str]]:
    """The links every mail ends with, and the headers of one-click unsubscription (RFC 8058)."""
    unsubscribe_url = absolute_url(unsubscribe_path(user.id, topic))
    context = {
        "preferences_url": absolute_url(PREFERENCES_PATH),
        "unsubscribe_url": unsubscribe_url,
        "unsubscribe_all": topic == ALL_TOPICS,
        "topic_label": TOPICS.get(topic),
    }
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    return context, headers


def _render(name: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of `templates/mail/<name>.{txt,html}` (rendered without a request)."""
    env = current_app.jinja_env
    context.setdefault("site_url", absolute_url("/"))
    return env.get_template(f"mail/{name}.txt").render(**context), env.get_template(f"mail/{name}.html").render(
        **context
    )


def _paris(now: datetime) -> datetime:
    return now.astimezone(PARIS)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# 1. Notifications -----------------------------------------------------------------------------------------------


@dataclass
class MailingResult:
    queued: int = 0  # notifications mailed on their own
    waiting: int = 0  # notifications put aside for a digest
    skipped: int = 0  # notifications not mailed
    digests: int = 0  # digest mails queued
    summaries: int = 0  # weekly summaries queued


def _users(user_ids, *, memberships: bool = False) -> dict[int, User]:
    """The people of a batch; `memberships`: with them loaded (what they may read and answer depends on them)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    statement = sa.select(User).where(User.id.in_(ids))
    if memberships:
        statement = statement.options(selectinload(User.memberships))
    return {user.id: user for user in db.session.scalars(statement)}


def notification_mail(
    notification: Notification, user: User, now: datetime, detail: NotificationDetail | None = None
) -> OutgoingMail | None:
    """Queue the mail of one notification (None if it was already queued); `detail`: what happened, told to
    `user` (see `NotificationDetail`)."""
    links, headers = _links(user, notification.kind)
    subject = notification.text
    if notification.thread_id is not None:
        subject = f"[Fil n°{notification.thread_id}] {notification.text}"
        headers["References"] = headers["In-Reply-To"] = thread_reference(notification.thread_id)
    if detail is not None and detail.can_reply:
        headers["Reply-To"] = reply_address(user.id, detail.thread_id, now=now)
    text, html = _render(
        "notification",
        user=user,
        notification=notification,
        detail=detail,
        kind_label=NotificationKind(notification.kind).label,
        when=french_datetime(notification.created_at),
        thread_url=absolute_url(notification.link),
        file_links=[(name, absolute_url(path)) for name, path in (detail.files if detail else [])],
        reason=REASONS[notification.kind],
        **links,
    )
    return queue_mail(
        f"notification:{notification.id}",
        user.email,
        subject,
        text,
        html,
        recipient_id=user.id,
        headers=headers,
        at=now,
    )


def queue_notification_mails(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> MailingResult:
    """Look at every pending notification (see the module's docstring); commits after each batch."""
    result = MailingResult()
    now = now or utcnow()
    while True:
        notifications = list(
            db.session.scalars(
                sa.select(Notification)
                .where(Notification.mail_state == MailState.PENDING.value)
                .order_by(Notification.id)
                .limit(batch_size)
            )
        )
        if not notifications:
            return result
        users = _users((n.recipient_id for n in notifications), memberships=True)
        table = FrequencyTable.load(users.values())
        wanted = {
            n.id: table.of(user.id, n.kind) if can_receive(user := users.get(n.recipient_id)) else Frequency.NEVER
            for n in notifications
        }
        details = notification_details([n for n in notifications if wanted[n.id] == Frequency.IMMEDIATE], users)
        for notification in notifications:
            user = users.get(notification.recipient_id)
            if wanted[notification.id] == Frequency.IMMEDIATE and can_receive(user):
                notification_mail(notification, user, now, details.get(notification.id))
                notification.mail_state = MailState.QUEUED.value
                result.queued += 1
            elif wanted[notification.id] in (Frequency.DAILY, Frequency.WEEKLY):
                notification.mail_state = MailState.DIGEST.value
                result.waiting += 1
            else:
                notification.mail_state = MailState.SKIPPED.value
                result.skipped += 1
        db.session.commit()


# 2. Digests -----------------------------------------------------------------------------------------------------


def _digest_mail(
    user: User, period: str, day: date, notifications: list[Notification], now: datetime
) -> OutgoingMail | None:
    topics = {n.kind for n in notifications}
    links, headers = _links(user, topics.pop() if len(topics) == 1 else ALL_TOPICS)
    label = "quotidien" if period == "daily" else "hebdomadaire"
    count = len(notifications)
    subject = f"Votre résumé {label} : {count} notification{'s' if count > 1 else ''}"
    items = [
        {
            "kind_label": NotificationKind(n.kind).label,
            "when": french_datetime(n.created_at),
            "text": n.text,
            "url": absolute_url(n.link),
            "reason": REASONS[n.kind],
        }
        for n in notifications
    ]
    text, html = _render(
        "digest",
        user=user,
        period_label=label,
        day=french_date(day),
        items=items,
        subject=subject,
        **links,
    )
    return queue_mail(
        f"digest:{period}:{user.id}:{day.isoformat()}",
        user.email,
        subject,
        text,
        html,
        recipient_id=user.id,
        headers=headers,
        at=now,
    )


def last_digest_moments(now: datetime) -> tuple[datetime, datetime]:
    """The latest daily digest time (07:00 Paris) and the latest weekly one (Monday 07:00 Paris) at or before
    `now`, as aware datetimes."""
    local = _paris(now)
    daily = datetime.combine(local.date(), DIGEST_TIME, tzinfo=PARIS)
    if daily > local:
        daily -= timedelta(days=1)
    weekly = datetime.combine(_monday(daily.date()), DIGEST_TIME, tzinfo=PARIS)
    return daily, weekly


def queue_digests(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> MailingResult:
    """Queue the digests due at `now`; commits after each batch of people.

    A digest belongs to its moment (07:00 Paris, Monday 07:00 for the weekly one) and gathers what waited
    from before that moment: a notification of 15:00 waits for the next morning even if no digest went that
    day. Its key makes it once; a worker that was stopped at 07:00 sends it at its next pass."""
    result = MailingResult()
    now = now or utcnow()
    daily_moment, weekly_moment = last_digest_moments(now)
    moments = {"daily": daily_moment, "weekly": weekly_moment}
    recipients = list(
        db.session.scalars(
            sa.select(Notification.recipient_id)
            .where(Notification.mail_state == MailState.DIGEST.value, Notification.created_at < daily_moment)
            .distinct()
            .order_by(Notification.recipient_id)
        )
    )
    for start in range(0, len(recipients), batch_size):
        chunk = recipients[start : start + batch_size]
        users = _users(chunk)
        table = FrequencyTable.load(users.values())
        keys = {
            (user_id, period): f"digest:{period}:{user_id}:{moment.date().isoformat()}"
            for user_id in chunk
            for period, moment in moments.items()
        }
        already = set(db.session.scalars(sa.select(OutgoingMail.key).where(OutgoingMail.key.in_(keys.values()))))
        waiting = db.session.scalars(
            sa.select(Notification)
            .where(
                Notification.mail_state == MailState.DIGEST.value,
                Notification.recipient_id.in_(chunk),
                Notification.created_at < daily_moment,
            )
            .order_by(Notification.recipient_id, Notification.created_at, Notification.id)
        )
        by_period: dict[tuple[int, str], list[Notification]] = {}
        for notification in waiting:
            user = users.get(notification.recipient_id)
            wanted = table.of(user.id, notification.kind) if can_receive(user) else Frequency.NEVER
            if wanted == Frequency.NEVER or not can_receive(user):
                notification.mail_state = MailState.SKIPPED.value
                result.skipped += 1
                continue
            # Someone who went back to "at once" since gets what waited in the next daily digest.
            period = "weekly" if wanted == Frequency.WEEKLY else "daily"
            if notification.created_at < moments[period] and keys[(user.id, period)] not in already:
                by_period.setdefault((user.id, period), []).append(notification)
        for (user_id, period), notifications in by_period.items():
            if _digest_mail(users[user_id], period, moments[period].date(), notifications, now) is not None:
                result.digests += 1
                for notification in notifications:
                    notification.mail_state = MailState.DIGESTED.value
        db.session.commit()
    return result


# 3. The weekly summary -----------------------------------------------------------------------------------------


_summary_key_prefix = sa.literal("summary:weekly:", sa.String)


def queue_summaries(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> MailingResult:
    """On Mondays from 07:00 Paris time, queue the weekly summary of every person who wants it (topic `summary`)
    and has something to be told; commits after each batch of people.

    Only on Monday: a summary of "this week" read on a Thursday would mislead. Someone with nothing to be told
    gets no mail, and no trace of it: they are looked at again at the next pass of that Monday (each source
    first narrows a batch to the people it may speak of, with indexed queries)."""
    result = MailingResult()
    now = now or utcnow()
    local = _paris(now)
    if not _summary_sources or local.weekday() != 0 or local.time() < DIGEST_TIME:
        return result
    monday = local.date()
    suffix = f":{monday.isoformat()}"
    last_id = 0
    while True:
        users = list(
            db.session.scalars(
                sa.select(User)
                .where(
                    User.id > last_id,
                    User.active.is_(True),
                    User.confirmed.is_(True),
                    User.password_hash.isnot(None),
                    ~sa.exists().where(OutgoingMail.key == _summary_key_prefix + sa.cast(User.id, sa.String) + suffix),
                )
                .order_by(User.id)
                .limit(batch_size)
            )
        )
        if not users:
            return result
        last_id = users[-1].id
        table = FrequencyTable.load(users)
        wanted = [user for user in users if can_receive(user) and table.of(user.id, SUMMARY) == Frequency.WEEKLY]
        sections: dict[int, list[SummarySection]] = {}
        for source in _summary_sources:
            for user_id, found in source([user.id for user in wanted], now).items():
                sections.setdefault(user_id, []).extend(found)
        for user in wanted:
            told = [section for section in sections.get(user.id, []) if any(group.total for group in section.groups)]
            if told and _summary_mail(user, monday, told, now) is not None:
                result.summaries += 1
        db.session.commit()


def _summary_mail(user: User, monday: date, sections: list[SummarySection], now: datetime) -> OutgoingMail | None:
    links, headers = _links(user, SUMMARY)
    subject = f"Votre point hebdomadaire du {french_date(monday)}"
    text, html = _render(
        "summary",
        user=user,
        subject=subject,
        sections=sections,
        absolute_url=absolute_url,
        **links,
    )
    return queue_mail(
        f"summary:weekly:{user.id}:{monday.isoformat()}",
        user.email,
        subject,
        text,
        html,
        recipient_id=user.id,
        headers=headers,
        at=now,
    )


# When the mail went ----------------------------------------------------------------------------------------------


@on_sent
def record_emailed(mail: OutgoingMail) -> None:
    """`emailed_at` of the notifications a mail carried, when the server accepts it (in the same commit)."""
    kind, _, rest = mail.key.partition(":")
    if kind == "notification" and rest.isdigit():
        condition = Notification.id == int(rest)
    elif kind == "digest" and mail.recipient_id is not None:
        # The notifications of that person gathered into a digest by the time it was written.
        condition = sa.and_(
            Notification.recipient_id == mail.recipient_id,
            Notification.mail_state == MailState.DIGESTED.value,
            Notification.created_at <= mail.created_at,
        )
    else:
        return
    db.session.execute(
        sa.update(Notification)
        .where(condition, Notification.emailed_at.is_(None))
        .values(emailed_at=mail.sent_at)
        .execution_options(synchronize_session=False)
    )


# One pass of the worker ----------------------------------------------------------------------------------------


def prepare_mails(*, now: datetime | None = None) -> MailingResult:
    """Everything the worker queues in one pass: the notifications' own mails, the digests and summaries due."""
    now = now or utcnow()
    result = queue_notification_mails(now=now)
    digests = queue_digests(now=now)
    summaries = queue_summaries(now=now)
    result.skipped += digests.skipped
    result.digests = digests.digests
    result.summaries = summaries.summaries
    return result
