"""The operations of moderation: report, hide and restore, dismiss, suspend and reactivate.

Each flushes and lets the request commit. Hiding keeps the text for the record: `hidden_at` is set and every
reader but the curators sees a notice instead (`threads.workflow.readable_messages`, `visible_threads`); each
change to a thread is an internal event of its timeline, and the people who reported it are told the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload

from feedback.accounts.models import User
from feedback.accounts.services import end_all_sessions
from feedback.database import utcnow
from feedback.extensions import db
from feedback.moderation.models import ModerationReport, ReportOutcome, ReportReason
from feedback.notifications.models import NotificationKind
from feedback.notifications.services import notify
from feedback.threads import answers, recipients
from feedback.threads.models import Message, Thread, ThreadEvent
from feedback.threads.services import record_event, reindex_thread
from feedback.threads.workflow import can

MAX_COMMENT_LENGTH = 2000
MAX_MOTIVE_LENGTH = 1000


class ModerationError(Exception):
    """A moderation request that cannot be done, with the French message to show (and the field concerned)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _require_curator(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_curator):
        raise ModerationError("Seuls les administrateurs des données modèrent les contenus.")


def _motive(text: str | None) -> str:
    motive = (text or "").strip()
    if not motive:
        raise ModerationError("Indiquez le motif : il reste dans l'historique interne du fil.", "motive")
    if len(motive) > MAX_MOTIVE_LENGTH:
        raise ModerationError(f"Le motif tient en {MAX_MOTIVE_LENGTH} caractères au plus.", "motive")
    return motive


# Reports ------------------------------------------------------------------------------------------------------


def report_content(
    reporter: User, thread: Thread, message: Message | None, reason: str, comment: str = ""
) -> ModerationReport:
    """Someone who reads a thread reports it, or one of its messages, to the curators."""
    if not (reporter.is_authenticated and reporter.is_active):
        raise ModerationError("Connectez-vous pour signaler un contenu.")
    if not can(reporter, "view", thread) or (message is not None and message.thread_id != thread.id):
        raise ModerationError("Ce contenu n'existe pas ou ne vous est pas visible.")
    if message is not None and (message.hidden_at is not None or message.author_id == reporter.id):
        raise ModerationError("Ce message ne peut pas être signalé.")
    try:
        reason = ReportReason(reason).value
    except ValueError:
        raise ModerationError("Choisissez le motif du signalement.", "reason") from None
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ModerationError(f"Le commentaire tient en {MAX_COMMENT_LENGTH} caractères au plus.", "comment")
    already = db.session.scalar(
        sa.select(ModerationReport.id).where(
            ModerationReport.reporter_id == reporter.id,
            ModerationReport.thread_id == thread.id,
            ModerationReport.message_id.is_(None) if message is None else ModerationReport.message_id == message.id,
            ModerationReport.closed_at.is_(None),
        )
    )
    if already is not None:
        raise ModerationError("Vous avez déjà signalé ce contenu : les administrateurs des données l'examinent.")
    report = ModerationReport(
        reporter_id=reporter.id,
        thread_id=thread.id,
        message_id=message.id if message is not None else None,
        reason=reason,
        comment=comment,
        created_at=utcnow(),
    )
    db.session.add(report)
    db.session.flush()
    return report


@dataclass(frozen=True)
class QueueItem:
    """One reported content of the queue: the thread, the message (None: the thread itself), its open reports."""

    thread: Thread
    message: Message | None
    reports: list[ModerationReport]

    @property
    def reasons(self) -> list[str]:
        return sorted({report.reason_label for report in self.reports})


def open_reports_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(ModerationReport.closed_at.is_(None))) or 0


def queue(reason: str | None = None) -> list[QueueItem]:
    """The open reports, grouped by what they report, the content reported longest ago first (one query)."""
    statement = (
        sa.select(ModerationReport)
        .where(ModerationReport.closed_at.is_(None))
        .options(
            joinedload(ModerationReport.reporter),
            joinedload(ModerationReport.thread),
            joinedload(ModerationReport.message).joinedload(Message.author),
        )
        .order_by(ModerationReport.created_at, ModerationReport.id)
    )
    if reason:
        statement = statement.where(ModerationReport.reason == reason)
    groups: dict[tuple[int, int | None], list[ModerationReport]] = {}
    for report in db.session.scalars(statement).unique():
        groups.setdefault((report.thread_id, report.message_id), []).append(report)
    return [QueueItem(reports[0].thread, reports[0].message, reports) for reports in groups.values()]


def counts_by_reason() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(ModerationReport.reason, sa.func.count())
        .where(ModerationReport.closed_at.is_(None))
        .group_by(ModerationReport.reason)
    )
    return {reason: count for reason, count in rows}


def _close_reports(
    actor: User, thread: Thread, message: Message | None, outcome: ReportOutcome
) -> Sequence[ModerationReport]:
    """Close the open reports of this content and tell each reporter what became of it."""
    target = ModerationReport.message_id.is_(None) if message is None else ModerationReport.message_id == message.id
    reports = db.session.scalars(
        sa.select(ModerationReport).where(
            ModerationReport.thread_id == thread.id, target, ModerationReport.closed_at.is_(None)
        )
    ).all()
    now = utcnow()
    for report in reports:
        report.closed_at = now
        report.closed_by_id = actor.id
        report.outcome = outcome.value
    what = "le message que vous avez signalé" if message is not None else "le fil que vous avez signalé"
    if outcome is ReportOutcome.HIDDEN:
        text = f"Merci : {what} sur « {thread.title} » a été masqué par la modération."
    else:
        text = f"Après examen, {what} sur « {thread.title} » reste visible : il ne contrevient pas aux règles."
    reporters = [report.reporter for report in reports]
    # A hidden thread is no longer visible to its reporters: their notification leads to their notifications.
    link = (
        url_for("notifications.list_notifications")
        if message is None and outcome is ReportOutcome.HIDDEN
        else url_for("threads.thread", thread_id=thread.id)
    )
    notify(reporters, NotificationKind.MODERATION, text, link, thread_id=thread.id, at=now)
    return reports


def dismiss(actor: User, thread: Thread, message: Message | None) -> None:
    """The curators keep the content as it is: its open reports are closed, the reporters told."""
    _require_curator(actor)
    if not _close_reports(actor, thread, message, ReportOutcome.DISMISSED):
        raise ModerationError("Ce contenu n'a plus de signalement ouvert.")
    record_event(thread, actor, "reports_dismissed", internal=True, message_id=message.id if message else None)


# Hiding and restoring -----------------------------------------------------------------------------------------


def _set_hidden(model: type[Message] | type[Thread], row: Message | Thread, at: datetime | None) -> bool:
    """Hide (`at`) or restore (None) in one conditional UPDATE, so that two curators acting at once change it,
    and its counter, once: whether this call changed it."""
    db.session.flush()
    already = model.hidden_at.is_(None) if at is not None else model.hidden_at.is_not(None)
    changed = db.session.execute(
        sa.update(model)
        .where(model.id == row.id, already)
        .values(hidden_at=at)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, changed).rowcount != 1:
        return False
    row.hidden_at = at
    return True


def _count_public(thread: Thread, message: Message, step: int) -> None:
    if not message.internal:
        thread.public_messages_count = Thread.public_messages_count + step  # in the database, as replies do


def hide_message(actor: User, message: Message, motive: str) -> None:
    _require_curator(actor)
    motive = _motive(motive)
    if not _set_hidden(Message, message, utcnow()):
        raise ModerationError("Ce message est déjà masqué.")
    thread = message.thread
    _count_public(thread, message, -1)
    record_event(thread, actor, "message_hidden", internal=True, message_id=message.id, motive=motive)
    _close_reports(actor, thread, message, ReportOutcome.HIDDEN)
    reindex_thread(thread)


def restore_message(actor: User, message: Message) -> None:
    _require_curator(actor)
    if not _set_hidden(Message, message, None):
        raise ModerationError("Ce message n'est pas masqué.")
    thread = message.thread
    _count_public(thread, message, 1)
    record_event(thread, actor, "message_restored", internal=True, message_id=message.id)
    reindex_thread(thread)


def hide_thread(actor: User, thread: Thread, motive: str) -> None:
    _require_curator(actor)
    motive = _motive(motive)
    if not _set_hidden(Thread, thread, utcnow()):
        raise ModerationError("Ce fil est déjà masqué.")
    record_event(thread, actor, "thread_hidden", internal=True, motive=motive)
    _close_reports(actor, thread, None, ReportOutcome.HIDDEN)


def restore_thread(actor: User, thread: Thread) -> None:
    _require_curator(actor)
    if not _set_hidden(Thread, thread, None):
        raise ModerationError("Ce fil n'est pas masqué.")
    record_event(thread, actor, "thread_restored", internal=True)


# Posts held for review (FEEDBACK_HOLD_FIRST_POSTS) ------------------------------------------------------------


@dataclass(frozen=True)
class HeldPost:
    """A new account's post waiting for a curator: a thread (`message` None, its opening message with it) or a
    reply on a published thread."""

    thread: Thread
    message: Message | None

    @property
    def author(self) -> User:
        return self.message.author if self.message is not None else self.thread.author


def held_posts() -> list[HeldPost]:
    """The held threads and the held replies of published threads, oldest first (two queries)."""
    threads = db.session.scalars(
        sa.select(Thread).where(Thread.held_at.is_not(None)).options(joinedload(Thread.author)).order_by(Thread.held_at)
    ).all()
    replies = db.session.scalars(
        sa.select(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.held_at.is_not(None), Thread.held_at.is_(None))
        .options(joinedload(Message.author), joinedload(Message.thread))
        .order_by(Message.held_at)
    ).all()
    posts = [HeldPost(thread, None) for thread in threads] + [HeldPost(m.thread, m) for m in replies]
    return sorted(posts, key=lambda post: (post.message or post.thread).held_at or utcnow())


def _posting_event(thread: Thread, message: Message | None) -> ThreadEvent | None:
    """The event recorded when the post was written, which its readers are told of once it is published."""
    events = db.session.scalars(
        sa.select(ThreadEvent)
        .where(ThreadEvent.thread_id == thread.id, ThreadEvent.type == ("created" if message is None else "message"))
        .order_by(ThreadEvent.id)
    ).all()
    if message is None:
        return events[0] if events else None
    return next((event for event in events if (event.payload or {}).get("message_id") == message.id), None)


def _tell_author(post: HeldPost, text: str, *, readable: bool = True) -> None:
    """`readable`: whether the author can still open the thread (not a refused thread of theirs)."""
    if readable:
        link = url_for("threads.thread", thread_id=post.thread.id)
    else:
        link = url_for("notifications.list_notifications")
    notify([post.author], NotificationKind.MODERATION, text, link, thread_id=post.thread.id)


def publish_held(actor: User, thread: Thread, message: Message | None) -> None:
    """A curator publishes a held post: from now on it is read, counted and searched as any other, and the
    people a post is told to are told."""
    _require_curator(actor)
    row: Message | Thread = message if message is not None else thread
    if row.held_at is None:
        raise ModerationError("Ce contenu n'attend pas d'être publié.")
    if not _set_hidden(type(row), row, None):
        raise ModerationError("Ce contenu n'attend pas d'être publié.")
    row.held_at = None
    post = HeldPost(thread, message)
    if message is not None:
        _count_public(thread, message, 1)
        answers.note_message(thread, message)
        reindex_thread(thread)
        record_event(thread, actor, "message_published", internal=True, message_id=message.id)
    else:
        for opening in db.session.scalars(sa.select(Message).where(Message.thread_id == thread.id)):
            opening.held_at = None
        record_event(thread, actor, "thread_published", internal=True)
    event = _posting_event(thread, message)
    if event is not None:
        recipients.notify_event(thread, event, post.author, message=message)
    _tell_author(post, f"Votre {'message' if message else 'fil'} sur « {thread.title} » est publié.")


def refuse_held(actor: User, thread: Thread, message: Message | None, motive: str) -> None:
    """A curator refuses a held post: it stays hidden (kept for the record, as a hidden post is), and its author
    is told why."""
    _require_curator(actor)
    motive = _motive(motive)
    row: Message | Thread = message if message is not None else thread
    if row.held_at is None:
        raise ModerationError("Ce contenu n'attend pas d'être publié.")
    row.held_at = None
    if message is not None:
        record_event(thread, actor, "message_hidden", internal=True, message_id=message.id, motive=motive)
    else:
        record_event(thread, actor, "thread_hidden", internal=True, motive=motive)
    post = HeldPost(thread, message)
    text = f"Votre {'message' if message else 'fil'} sur « {thread.title} » n'est pas publié : {motive}"
    _tell_author(post, text, readable=message is not None)


# Accounts -----------------------------------------------------------------------------------------------------


def suspend_account(actor: User, user: User) -> None:
    """A suspended account can neither sign in nor post; its open sessions end now."""
    _require_curator(actor)
    if user.id == actor.id:
        raise ModerationError("Vous ne pouvez pas suspendre votre propre compte.")
    if not user.active:
        raise ModerationError("Ce compte est déjà suspendu.")
    user.active = False
    end_all_sessions(user)


def reactivate_account(actor: User, user: User) -> None:
    _require_curator(actor)
    if user.active:
        raise ModerationError("Ce compte n'est pas suspendu.")
    user.active = True


def suspended_accounts() -> Sequence[User]:
    """The accounts suspended by the moderation: not a deleted account (it is gone), nor one that never had a
    password (the authors of imported discussions, who cannot sign in)."""
    return db.session.scalars(
        sa.select(User)
        .where(User.active.is_(False), User.deleted_at.is_(None), User.password_hash.is_not(None))
        .order_by(User.name)
    ).all()
