"""Operations on threads. Each checks permission, changes the rows, writes one event per change, keeps
the counters in the thread row, tells the people concerned (`recipients.notify_event`), and flushes; the
caller (one request, one command) commits once, the change and its notifications together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from feedback.accounts.models import Membership, Organisation, User
from feedback.catalogue.models import Dataset, Territory, Theme
from feedback.database import utcnow
from feedback.extensions import db
from feedback.markdown import plain_text, render_markdown
from feedback.search import normalise
from feedback.threads import answers, deadlines, recipients
from feedback.threads.attachments import Upload, store_uploads
from feedback.threads.models import (
    THREAD_SEARCH,
    DeclineReason,
    Follow,
    Message,
    MessagePurpose,
    RequestWant,
    Subscription,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
    UseCase,
    Visibility,
    Vote,
)
from feedback.threads.taxonomy import CATEGORIES_BY_CODE
from feedback.threads.workflow import can, can_edit_message, extension_window_open

MAX_BODY_LENGTH = 50_000
MAX_TITLE_LENGTH = 200


class ThreadError(Exception):
    """An operation that cannot be carried out; the message is French, for the person."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class PermissionDenied(ThreadError):
    pass


class Conflict(ThreadError):
    """Someone else changed the thread since the page was loaded."""


CONFLICT_MESSAGE = (
    "Ce fil a été modifié par quelqu'un d'autre pendant que vous le consultiez. "
    "Rechargez la page pour voir ses changements, puis recommencez."
)


def _require(user, action: str, thread: Thread) -> None:
    if not can(user, action, thread):
        raise PermissionDenied("Vous n'avez pas le droit de faire cette action sur ce fil.")


def _check_version(thread: Thread, expected_version: int | None) -> None:
    """Compare and set: a change decided on what the person saw (status, transfer, deadline, assignment, kind)
    goes on only if the thread is still at the version the page showed, and raises that version in the
    database at once. Of two such changes from the same version, the second finds the version moved (on
    PostgreSQL it waits for the first to commit, on SQLite for the write lock) and is refused. Replies, votes
    and follows do not raise it: they never conflict with each other. `expected_version` None: an operation
    of the platform itself, checked against the version it has just read."""
    expected = thread.version if expected_version is None else expected_version
    if expected != thread.version:
        raise Conflict(CONFLICT_MESSAGE)
    raised = db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread.id, Thread.version == expected)
        .values(version=Thread.version + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(raised, "rowcount", 0) != 1:  # a CursorResult: an UPDATE tells how many rows it changed
        raise Conflict(CONFLICT_MESSAGE)
    set_committed_value(thread, "version", expected + 1)


def _add_counter(thread: Thread, column: str, step: int) -> None:
    """Add `step` to one of the thread's counters in the database (`count = count + 1`), not from the value
    read earlier: concurrent replies, votes and follows each count."""
    setattr(thread, column, getattr(Thread, column) + step)


def _insert_once(model, **values) -> bool:
    """Insert a row keyed by its primary key unless it exists (a double click, two tabs): whether it was added."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.flush()
    table = model.__table__
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return db.session.execute(statement).first() is not None


def _delete_once(model, *conditions) -> bool:
    """Delete a row if it is still there: whether this call took it away."""
    db.session.flush()
    removed = db.session.execute(sa.delete(model).where(*conditions).execution_options(synchronize_session="fetch"))
    return getattr(removed, "rowcount", 0) == 1


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ThreadError("Le message ne peut pas être vide.", "body")
    if len(body) > MAX_BODY_LENGTH:
        raise ThreadError(
            f"Le message dépasse {MAX_BODY_LENGTH:,} caractères ({len(body):,}).".replace(",", "\u202f"), "body"
        )
    return body


def record_event(
    thread: Thread, actor: User | None, type: str, internal: bool = False, at: datetime | None = None, **payload
) -> ThreadEvent:
    event = ThreadEvent(
        thread_id=thread.id,
        actor_id=actor.id if actor else None,
        type=type,
        payload=payload,
        internal=internal,
        created_at=at or utcnow(),
    )
    db.session.add(event)
    return event


def _set_status(thread: Thread, status: ThreadStatus, now: datetime) -> None:
    thread.status = status.value
    thread.is_open = status.is_open
    thread.closed_at = None if status.is_open else now


def _touch(thread: Thread, now: datetime) -> None:
    thread.last_activity_at = now


def _reindex(thread: Thread, new_text: str | sa.ColumnElement[str], *, indexed: bool = True) -> None:
    """Change a thread's search text, keeping the SQLite full-text index in step. `indexed`: whether the
    thread's current text is in the index (FTS5 must be told exactly what it holds to take it out)."""
    db.session.flush()
    if indexed:
        THREAD_SEARCH.forget(db.session, [thread.id])
    thread.search_text = new_text
    db.session.flush()
    THREAD_SEARCH.index(db.session, [thread.id])


def search_text_of(title: str, bodies: list[str]) -> str:
    return normalise(" ".join([title, *(plain_text(body)[:5000] for body in bodies)]))[:100_000]


def initial_due_at(kind: ThreadKind, received_at: datetime) -> datetime:
    if kind == ThreadKind.DATA_REQUEST:
        return deadlines.legal_due_at(received_at)
    return deadlines.service_due_at(received_at, current_app.config["FEEDBACK_SERVICE_TARGET_WORKING_DAYS"])


def _follow(thread: Thread, user: User) -> bool:
    exists = db.session.get(Subscription, (thread.id, user.id))
    if exists:
        return False
    if not _insert_once(Subscription, thread_id=thread.id, user_id=user.id):
        return False
    _add_counter(thread, "followers_count", 1)
    return True


@dataclass
class NewThread:
    kind: ThreadKind
    title: str
    body: str
    dataset: Dataset | None = None
    organisation: Organisation | None = None
    quality_category: str | None = None
    use_case: UseCase | None = None
    territory: Territory | None = None
    themes: list[Theme] | None = None
    related_datasets: list[Dataset] | None = None
    request_want: RequestWant | None = None
    wished_on: date | None = None
    restricted: bool = False
    files: Sequence[Upload] = ()  # checked by `attachments.check_uploads`


def create_thread(author: User, new: NewThread, *, created_at: datetime | None = None) -> Thread:
    """Post a thread and its first message; the author follows it."""
    title = (new.title or "").strip()
    if not title:
        raise ThreadError("Donnez un titre à votre message.", "title")
    if len(title) > MAX_TITLE_LENGTH:
        raise ThreadError(f"Le titre ne doit pas dépasser {MAX_TITLE_LENGTH} caractères.", "title")
    body = _check_body(new.body)
    kind = ThreadKind(new.kind)
    if kind == ThreadKind.QUALITY_ISSUE:
        if new.dataset is None:
            raise ThreadError("Un signalement qualité porte sur un jeu de données : indiquez lequel.", "dataset")
        if new.quality_category not in CATEGORIES_BY_CODE:
            raise ThreadError("Choisissez la nature du problème.", "quality_category")
    if kind in (ThreadKind.DATA_REQUEST, ThreadKind.QUESTION) and new.dataset is None and new.organisation is None:
        raise ThreadError("Indiquez le jeu de données ou le service producteur concerné.", "dataset")
    if kind == ThreadKind.MISSING_DATA and (not new.themes or new.territory is None):
        raise ThreadError("Indiquez le thème et le territoire de la donnée recherchée.", "theme")
    if new.restricted and kind != ThreadKind.DATA_REQUEST:
        raise ThreadError("Seule une demande de données peut être restreinte.", "restricted")
    if new.organisation is not None and not new.organisation.is_producer:
        raise ThreadError("Un fil s'adresse à un service producteur : choisissez-en un dans la liste.", "organisation")

    now = created_at or utcnow()
    organisation = new.organisation or (new.dataset.organisation if new.dataset else None)
    thread = Thread(
        kind=kind.value,
        title=title,
        search_title=normalise(title),
        status=ThreadStatus.NEW.value,
        is_open=True,
        visibility=(Visibility.RESTRICTED if new.restricted else Visibility.PUBLIC).value,
        author_id=author.id,
        dataset_id=new.dataset.id if new.dataset else None,
        organisation_id=organisation.id if organisation else None,
        territory_code=new.territory.code if new.territory else None,
        use_case=UseCase(new.use_case).value if new.use_case else None,
        quality_category=new.quality_category if kind == ThreadKind.QUALITY_ISSUE else None,
        request_want=RequestWant(new.request_want).value if new.request_want else None,
        wished_on=new.wished_on,
        due_at=initial_due_at(kind, now) if organisation else None,
        created_at=now,
        received_at=now,
        last_activity_at=now,
        messages_count=1,
        public_messages_count=1,
        search_text="",
    )
    if new.themes:
        thread.themes = list(new.themes)
    if new.related_datasets:
        thread.related_datasets = list(new.related_datasets)
    db.session.add(thread)
    db.session.flush()
    opening = Message(
        thread_id=thread.id, author_id=author.id, body=body, body_html=str(render_markdown(body)), created_at=now
    )
    held = is_held_for_review(author)
    if held:  # shown to its author only until a curator publishes it (feedback.moderation): nobody is told yet
        thread.hidden_at = thread.held_at = opening.held_at = now
    db.session.add(opening)
    if new.files:
        db.session.flush()
        store_uploads(opening, new.files)
    _follow(thread, author)
    event = record_event(thread, author, "created", at=now, kind=kind.value, organisation_id=thread.organisation_id)
    _reindex(thread, search_text_of(title, [body]), indexed=False)
    if not held:
        recipients.notify_event(thread, event, author)
    return thread


def is_held_for_review(author: User) -> bool:
    """Whether a post of `author` waits for a curator before anyone else reads it: the first
    FEEDBACK_HOLD_FIRST_POSTS posts of an account that is neither a curator nor a member of a service, until
    that many of its posts were published."""
    held_posts = current_app.config.get("FEEDBACK_HOLD_FIRST_POSTS", 0)
    if held_posts <= 0 or author.is_curator or author.memberships:
        return False
    published = db.session.scalar(
        sa.select(sa.func.count()).where(Message.author_id == author.id, Message.held_at.is_(None))
    )
    return (published or 0) < held_posts


def post_message(
    thread: Thread,
    author: User,
    body: str,
    *,
    internal: bool = False,
    purpose: MessagePurpose | None = None,
    posted_at: datetime | None = None,
    moves_status: bool = True,
    notify: bool = True,
    files: Sequence[Upload] = (),
) -> Message:
    """A reply, the service's answer, or an internal note; `purpose`: what the operation that posts it makes of
    it (a request for details, a transfer note, an extension motive — `answers.message_purpose`).

    The service's first response moves a new thread to "pris en compte"; the author's reply to a request for
    details moves it back there (unless `moves_status` is false: the caller sets the status). The message's
    notification tells of that move too. `notify` false: the caller's own event tells of the message (a
    motive, a question, the word on a transfer), so that nobody is told twice. `files`: checked uploads
    (`attachments.check_uploads`), stored with the message (an internal note's files are internal too)."""
    _require(author, "internal_note" if internal else "reply", thread)
    body = _check_body(body)
    now = posted_at or utcnow()
    as_organisation = None
    if not internal and answers.answers_for_service(author, thread):
        as_organisation = thread.organisation_id  # signed "pour <service>"
    message = Message(
        thread_id=thread.id,
        author_id=author.id,
        body=body,
        body_html=str(render_markdown(body)),
        as_organisation_id=as_organisation,
        internal=internal,
        purpose=answers.message_purpose(author, thread, internal=internal, requested=purpose).value,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    if files:
        store_uploads(message, files)
    _add_counter(thread, "messages_count", 1)
    _follow(thread, author)  # whoever writes in a thread hears of the answers (the service's agent, too)
    if not internal:  # lists show the last activity: an internal note must not show through it
        _touch(thread, now)
    event = record_event(
        thread,
        author,
        "internal_note" if internal else "message",
        internal=internal,
        at=now,
        message_id=message.id,
        purpose=message.purpose,
    )
    if internal:
        if notify:
            recipients.notify_event(thread, event, author, message=message)
        return message
    if is_held_for_review(author):  # published later by a curator (feedback.moderation), told then
        message.hidden_at = message.held_at = now
        return message
    _add_counter(thread, "public_messages_count", 1)
    answers.note_message(thread, message)
    if answers.is_response(message):
        if moves_status and thread.status == ThreadStatus.NEW:
            _move_automatically(thread, author, now)
    elif moves_status and author.id == thread.author_id and thread.status == ThreadStatus.NEEDS_INFO:
        _move_automatically(thread, author, now)
    # Appended in the database, so that a concurrent reply's words stay in the search text too.
    _reindex(thread, Thread.search_text + (" " + normalise(plain_text(body)[:5000])))
    if notify:
        recipients.notify_event(thread, event, author, message=message)
    return message


def _move_automatically(thread: Thread, author: User, now: datetime) -> None:
    """A reply's automatic move to "pris en compte": a status change, checked like one; if another change
    landed meanwhile (a concurrent first answer), the reply stands and that change stays."""
    try:
        _check_version(thread, None)
    except Conflict:
        return
    _change(thread, author, ThreadStatus.ACKNOWLEDGED, now, automatic=True)


def _change(
    thread: Thread, actor: User | None, status: ThreadStatus, now: datetime, automatic: bool = False, **payload
) -> ThreadEvent:
    """Set the status and record it; the caller tells people (with the message that goes with it, if any)."""
    previous = thread.status
    _set_status(thread, status, now)
    _touch(thread, now)
    return record_event(
        thread, actor, "status_changed", at=now, previous=previous, status=status.value, automatic=automatic, **payload
    )


def change_status(
    thread: Thread,
    actor: User,
    status: ThreadStatus,
    *,
    expected_version: int | None = None,
    decline_reason: str | None = None,
    motive: str | None = None,
    duplicate_of: Thread | None = None,
    resolution_dataset: Dataset | None = None,
) -> None:
    """Move a thread to another status, with what that status requires."""
    status = ThreadStatus(status)
    if status == ThreadStatus.WITHDRAWN:
        return withdraw_thread(thread, actor, motive=motive, expected_version=expected_version)
    _require(actor, "change_status", thread)
    _check_version(thread, expected_version)
    if status.value == thread.status:
        raise ThreadError(f"Ce fil est déjà « {status.label} ».", "status")
    if status == ThreadStatus.NEW:
        raise ThreadError("Un fil ne revient pas au statut « Nouveau ».", "status")
    payload: dict = {}
    now = utcnow()
    if status == ThreadStatus.DECLINED:
        if decline_reason not in {r.value for r in DeclineReason}:
            raise ThreadError("Choisissez le motif du refus.", "decline_reason")
        explained = (motive or "").strip()
        if not explained:
            raise ThreadError("Expliquez le refus au demandeur : le motif est obligatoire.", "motive")
        thread.decline_reason = decline_reason
        payload.update(reason=decline_reason, motive=explained)
    if status == ThreadStatus.DUPLICATE:
        original = _mark_duplicate(thread, duplicate_of)
        payload.update(original_id=original.id)
    if status == ThreadStatus.RESOLVED and resolution_dataset is not None:
        if thread.kind not in (ThreadKind.DATA_REQUEST, ThreadKind.MISSING_DATA):
            raise ThreadError(
                "Seule une demande ou une donnée manquante est résolue par un jeu de données.", "resolution_dataset"
            )
        thread.resolution_dataset_id = resolution_dataset.id
        payload.update(resolution_dataset_id=resolution_dataset.id)
    by_service = answers.answers_for_service(actor, thread)
    if status in answers.SERVICE_CLOSINGS:
        payload.update(by_service=by_service)
    event = _change(thread, actor, status, now, **payload)
    answers.note_status(thread, status, by_service=by_service, at=now)
    message = None
    if motive and motive.strip():  # the motive, or a word on the change, goes to the requester
        message = post_message(thread, actor, motive, posted_at=now, moves_status=False, notify=False)
    recipients.notify_event(thread, event, actor, message=message)


def _mark_duplicate(thread: Thread, original: Thread | None) -> Thread:
    if original is None:
        raise ThreadError("Indiquez le fil d'origine dont celui-ci est le doublon.", "duplicate_of")
    if original.id == thread.id:
        raise ThreadError("Un fil ne peut pas être le doublon de lui-même.", "duplicate_of")
    if original.visibility == Visibility.RESTRICTED and thread.visibility != Visibility.RESTRICTED:
        # Its supporters and followers would move to a thread they may not see.
        raise ThreadError("Un fil public ne peut pas être le doublon d'une demande restreinte.", "duplicate_of")
    root: Thread | None = original
    while root is not None and root.duplicate_of_id is not None:
        if root.duplicate_of_id == thread.id:
            raise ThreadError("Ce fil est déjà l'original de celui que vous indiquez.", "duplicate_of")
        root = db.session.get(Thread, root.duplicate_of_id)
    thread.duplicate_of_id = original.id
    # Votes and followers move to the original.
    for vote in db.session.scalars(sa.select(Vote).where(Vote.thread_id == thread.id)):
        if _insert_once(Vote, thread_id=original.id, user_id=vote.user_id, created_at=vote.created_at):
            _add_counter(original, "votes_count", 1)
    for follower in db.session.scalars(sa.select(Subscription).where(Subscription.thread_id == thread.id)):
        if _insert_once(Subscription, thread_id=original.id, user_id=follower.user_id):
            _add_counter(original, "followers_count", 1)
    return original


def withdraw_thread(
    thread: Thread, actor: User, *, motive: str | None = None, expected_version: int | None = None
) -> None:
    """The author withdraws their thread; a curator may withdraw someone else's, saying why (the motive is
    kept in the event, posted on the thread and told to the author)."""
    _require(actor, "withdraw", thread)
    _check_version(thread, expected_version)
    motive = (motive or "").strip()
    if actor.id != thread.author_id and not motive:
        raise ThreadError("Dites à l'auteur pourquoi ce fil est retiré : le motif est obligatoire.", "motive")
    now = utcnow()
    payload: dict = {"motive": motive} if motive else {}
    event = _change(thread, actor, ThreadStatus.WITHDRAWN, now, **payload)
    message = None
    if motive:
        message = post_message(thread, actor, motive, posted_at=now, moves_status=False, notify=False)
    recipients.notify_event(thread, event, actor, message=message)


def reopen_thread(thread: Thread, actor: User, *, expected_version: int | None = None) -> None:
    _require(actor, "reopen", thread)
    _check_version(thread, expected_version)
    status = ThreadStatus.ACKNOWLEDGED if thread.first_response_at else ThreadStatus.NEW
    thread.decline_reason = None
    thread.duplicate_of_id = None
    thread.resolution_dataset_id = None
    event = _change(thread, actor, status, utcnow(), reopened=True)
    recipients.notify_event(thread, event, actor)


def ask_details(thread: Thread, actor: User, question: str, *, expected_version: int | None = None) -> None:
    """Ask the author to clarify (R124-1: a request too general is declined only after this)."""
    _require(actor, "ask_details", thread)
    _check_version(thread, expected_version)
    question = _check_body(question)
    now = utcnow()
    event = None
    if thread.status != ThreadStatus.NEEDS_INFO:
        event = _change(thread, actor, ThreadStatus.NEEDS_INFO, now)
    # Already waiting for details: the question is a message like another.
    message = post_message(
        thread,
        actor,
        question,
        purpose=MessagePurpose.DETAILS_REQUEST,
        posted_at=now,
        moves_status=False,
        notify=event is None,
    )
    if event is not None:
        recipients.notify_event(thread, event, actor, message=message)


def transfer_thread(
    thread: Thread, actor: User, organisation: Organisation, message: str, *, expected_version: int | None = None
) -> None:
    """Hand the thread to the service that holds the data, telling the requester why."""
    _require(actor, "transfer", thread)
    _check_version(thread, expected_version)
    if organisation.id == thread.organisation_id:
        raise ThreadError("Ce fil est déjà adressé à ce service.", "organisation")
    if not organisation.is_producer:
        raise ThreadError("On ne transfère un fil qu'à un service producteur.", "organisation")
    message = _check_body(message)
    now = utcnow()
    previous = thread.organisation_id
    word = post_message(
        thread, actor, message, purpose=MessagePurpose.TRANSFER_NOTE, posted_at=now, moves_status=False, notify=False
    )
    thread.organisation_id = organisation.id
    thread.assignee_id = None
    answers.note_received(thread, now)
    event = record_event(
        thread,
        actor,
        "transferred",
        at=now,
        previous_organisation_id=previous,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
    )
    _touch(thread, now)
    recipients.notify_event(thread, event, actor, message=word)


def extend_deadline(thread: Thread, actor: User, motive: str, *, expected_version: int | None = None) -> None:
    """Extend a data request to two months (R124-1), once, within the first month, with a motive."""
    now = utcnow()
    if thread.due_at is not None and not extension_window_open(thread, now):
        # `can` knows this rule too (no panel is offered); said here in words for whoever calls anyway.
        raise ThreadError("Le délai d'un mois est dépassé : il ne peut plus être prolongé.", "motive")
    _require(actor, "extend", thread)
    _check_version(thread, expected_version)
    motive = (motive or "").strip()
    if not motive:
        raise ThreadError("Le motif de la prolongation est obligatoire : il est envoyé au demandeur.", "motive")
    previous = thread.due_at
    assert previous is not None  # `can` extends only a thread with a deadline
    thread.due_at = deadlines.legal_due_at(thread.created_at, extended=True)
    thread.deadline_extended = True
    message = post_message(
        thread, actor, motive, purpose=MessagePurpose.EXTENSION_MOTIVE, posted_at=now, moves_status=False, notify=False
    )
    event = record_event(
        thread,
        actor,
        "deadline_extended",
        previous_due_at=previous.isoformat(),
        due_at=thread.due_at.isoformat(),
        motive=motive,
    )
    recipients.notify_event(thread, event, actor, message=message)


def assign_thread(thread: Thread, actor: User, assignee: User | None, *, expected_version: int | None = None) -> None:
    _require(actor, "assign", thread)
    _check_version(thread, expected_version)
    if assignee is not None:
        member = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(Membership.user_id == assignee.id, Membership.organisation_id == thread.organisation_id)
        )
        if not member:
            raise ThreadError("On n'assigne un fil qu'à un membre du service concerné.", "assignee")
    thread.assignee_id = assignee.id if assignee else None
    event = record_event(
        thread, actor, "assigned", assignee_id=thread.assignee_id, assignee_name=assignee.name if assignee else None
    )
    _touch(thread, utcnow())
    recipients.notify_event(thread, event, actor)


def reclassify_thread(
    thread: Thread,
    actor: User,
    kind: ThreadKind,
    quality_category: str | None = None,
    *,
    expected_version: int | None = None,
) -> None:
    _require(actor, "reclassify", thread)
    _check_version(thread, expected_version)
    kind = ThreadKind(kind)
    if kind == ThreadKind.QUALITY_ISSUE:
        if thread.dataset_id is None:
            raise ThreadError("Un signalement qualité porte sur un jeu de données ; ce fil n'en a pas.", "kind")
        if quality_category not in CATEGORIES_BY_CODE:
            raise ThreadError("Choisissez la nature du problème.", "quality_category")
    else:
        quality_category = None
    if kind.value == thread.kind and quality_category == thread.quality_category:
        raise ThreadError("Rien n'a changé.", "kind")
    previous = {"kind": thread.kind, "quality_category": thread.quality_category}
    if (kind == ThreadKind.DATA_REQUEST) != (thread.kind == ThreadKind.DATA_REQUEST) and thread.organisation_id:
        # A data request is due one month after receipt (R124-1); the other kinds have a working-days target.
        thread.due_at = initial_due_at(kind, thread.created_at)
        thread.deadline_extended = False
    thread.kind = kind.value
    thread.quality_category = quality_category
    record_event(thread, actor, "reclassified", previous=previous, kind=kind.value, quality_category=quality_category)
    _touch(thread, utcnow())


def toggle_vote(thread: Thread, user: User) -> bool:
    """Add or take back a "moi aussi"; returns whether the user now votes for the thread."""
    _require(user, "vote", thread)
    vote = db.session.get(Vote, (thread.id, user.id))
    if vote is not None:
        if _delete_once(Vote, Vote.thread_id == thread.id, Vote.user_id == user.id):
            _add_counter(thread, "votes_count", -1)
        db.session.flush()
        return False
    if _insert_once(Vote, thread_id=thread.id, user_id=user.id, created_at=utcnow()):
        _add_counter(thread, "votes_count", 1)
    db.session.flush()
    return True


def toggle_follow(thread: Thread, user: User) -> bool:
    _require(user, "follow", thread)
    subscription = db.session.get(Subscription, (thread.id, user.id))
    if subscription is not None:
        if _delete_once(Subscription, Subscription.thread_id == thread.id, Subscription.user_id == user.id):
            _add_counter(thread, "followers_count", -1)
        db.session.flush()
        return False
    _follow(thread, user)
    db.session.flush()
    return True


def _toggle_follow_target(user: User, **target: int) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Connectez-vous pour suivre un jeu de données ou un service.")
    ((column, target_id),) = target.items()
    follow = db.session.scalars(
        sa.select(Follow).where(Follow.user_id == user.id, getattr(Follow, column) == target_id)
    ).first()
    if follow is not None:
        db.session.delete(follow)
        db.session.flush()
        return False
    db.session.add(Follow(user_id=user.id, **target))
    db.session.flush()
    return True


def toggle_follow_dataset(dataset: Dataset, user: User) -> bool:
    """Follow a dataset, or stop: its followers are told of its new threads. Returns whether `user` now
    follows it."""
    return _toggle_follow_target(user, dataset_id=dataset.id)


def toggle_follow_organisation(organisation: Organisation, user: User) -> bool:
    """Follow a producer, or stop: its followers are told of the new threads addressed to it. Returns
    whether `user` now follows it."""
    if not organisation.is_producer:
        raise ThreadError("On ne suit que les services producteurs : les fils ne sont adressés qu'à eux.")
    return _toggle_follow_target(user, organisation_id=organisation.id)


def follows(user, *, dataset: Dataset | None = None, organisation: Organisation | None = None) -> bool:
    """Whether `user` follows that dataset or that organisation (for its page's button)."""
    if user is None or not user.is_authenticated:
        return False
    if dataset is not None:
        target = Follow.dataset_id == dataset.id
    elif organisation is not None:
        target = Follow.organisation_id == organisation.id
    else:
        raise ValueError("follows() needs a dataset or an organisation")
    return db.session.scalar(sa.select(Follow.id).where(Follow.user_id == user.id, target).limit(1)) is not None


def edit_message(message: Message, user: User, body: str) -> None:
    if not can_edit_message(user, message):
        raise PermissionDenied("Vous ne pouvez modifier que vos propres messages.")
    body = _check_body(body)
    if body == message.body:
        return
    message.body = body
    message.body_html = str(render_markdown(body))
    message.edited_at = utcnow()
    thread = message.thread
    record_event(thread, user, "message_edited", internal=message.internal, message_id=message.id)
    if not message.internal:
        reindex_thread(thread)


def reindex_thread(thread: Thread) -> None:
    """Search a thread again by its title and the messages its readers see: after an edit, or when the
    moderation hides or restores a message."""
    bodies = db.session.scalars(
        sa.select(Message.body)
        .where(Message.thread_id == thread.id, Message.internal.is_(False), Message.hidden_at.is_(None))
        .order_by(Message.created_at)
    ).all()
    _reindex(thread, search_text_of(thread.title, list(bodies)))


def route_thread(thread: Thread, actor: User, organisation: Organisation) -> None:
    """A curator gives a thread that no service owns to the service that should answer it."""
    _require(actor, "route", thread)
    if not organisation.is_producer:
        raise ThreadError("On n'adresse un fil qu'à un service producteur.", "organisation")
    if thread.organisation_id == organisation.id:
        raise ThreadError("Ce fil est déjà adressé à ce service.", "organisation")
    _check_version(thread, None)  # the thread changes hands: a form loaded before is out of date
    previous = thread.organisation_id
    thread.organisation_id = organisation.id
    now = utcnow()
    answers.note_received(thread, now)
    if thread.due_at is None:  # the deadline runs from the request's receipt by the administration
        thread.due_at = initial_due_at(ThreadKind(thread.kind), thread.created_at)
    event = record_event(
        thread,
        actor,
        "routed",
        at=now,
        previous_organisation_id=previous,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
    )
    _touch(thread, now)
    recipients.notify_event(thread, event, actor)
