"""Reading threads: what a person may see, the filtered lists, the inbox and the counts they show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from feedback.accounts.models import Organisation
from feedback.catalogue.models import Dataset, Territory, Theme, ThemeScheme
from feedback.clock import paris_day_start
from feedback.database import utcnow
from feedback.extensions import db
from feedback.pagination import COUNT_CAP, Page, paginate
from feedback.search import query_words, relevance_ranks, title_relevance
from feedback.threads.deadlines import DUE_SOON
from feedback.threads.models import (
    THREAD_SEARCH,
    Message,
    Subscription,
    Thread,
    ThreadEvent,
    ThreadKind,
    ThreadStatus,
    Vote,
    thread_theme,
)
from feedback.threads.workflow import organisation_ids, readable_events, readable_messages, visible_threads

# What a list of threads shows of each: its service and its dataset, loaded with the page.
LIST_OPTIONS = (joinedload(Thread.organisation), joinedload(Thread.dataset))

# A list of threads named one by one (`fils`) holds at most this many: a link must stay a reasonable URL.
MAX_THREAD_IDS = 200

SORTS = {
    "activite": "Activité récente",
    "recent": "Les plus récents",
    "votes": "Les plus soutenus",
    "echeance": "Échéance la plus proche",
    "pertinence": "Pertinence",
}


@dataclass
class ThreadFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    state: str = ""  # "ouverts" / "clos"
    producer: str = ""  # organisation slug
    dataset: str = ""  # catalogue id
    theme: str = ""  # INSPIRE theme code
    territory: str = ""
    use_case: str = ""
    overdue: bool = False
    mine: bool = False
    assigned: bool = False
    date_from: date | None = None  # received on or after this day (Paris), as in capitalisation scopes
    date_to: date | None = None  # received on or before this day (Paris)
    thread_ids: tuple[int, ...] = ()  # a set of threads named by a figure (similar requests, a dataset's issues)
    sort: str = ""

    @property
    def effective_sort(self) -> str:
        if self.sort in SORTS and (self.sort != "pertinence" or query_words(self.q)):
            return self.sort
        return "pertinence" if query_words(self.q) else "activite"

    @property
    def active(self) -> bool:
        return any(
            [
                self.q,
                self.kind,
                self.status,
                self.state,
                self.producer,
                self.dataset,
                self.theme,
                self.territory,
                self.use_case,
                self.overdue,
                self.mine,
                self.assigned,
                self.date_from,
                self.date_to,
                self.thread_ids,
            ]
        )


def overdue_condition(now=None):
    return sa.and_(Thread.is_open.is_(True), Thread.due_at < (now or utcnow()))


def search_threads(
    filters: ThreadFilters, user, page: int, size: int, count_cap: int | None = COUNT_CAP
) -> Page[Thread]:
    """A page of the threads `user` may see that meet `filters`, counted up to `count_cap` (`paginate`)."""
    statement = sa.select(Thread).where(visible_threads(user))
    words = query_words(filters.q)
    if words:
        dialect = db.session.get_bind().dialect.name
        statement = statement.where(THREAD_SEARCH.matching(dialect, Thread.id, Thread.search_text, words))
    if filters.kind in {k.value for k in ThreadKind}:
        statement = statement.where(Thread.kind == filters.kind)
    if filters.status in {s.value for s in ThreadStatus}:
        statement = statement.where(Thread.status == filters.status)
    if filters.state == "ouverts":
        statement = statement.where(Thread.is_open.is_(True))
    elif filters.state == "clos":
        statement = statement.where(Thread.is_open.is_(False))
    if filters.producer:
        statement = statement.where(
            Thread.organisation_id
            == sa.select(Organisation.id).where(Organisation.slug == filters.producer).scalar_subquery()
        )
    if filters.dataset:
        statement = statement.where(
            Thread.dataset_id == sa.select(Dataset.id).where(Dataset.catalogue_id == filters.dataset).scalar_subquery()
        )
    if filters.theme:
        statement = statement.where(
            sa.exists().where(
                thread_theme.c.thread_id == Thread.id,
                thread_theme.c.theme_id == Theme.id,
                Theme.scheme == ThemeScheme.INSPIRE,
                Theme.code == filters.theme,
            )
        )
    if filters.territory:
        codes = [
            filters.territory,
            *db.session.scalars(sa.select(Territory.code).where(Territory.parent_code == filters.territory)),
        ]
        statement = statement.where(Thread.territory_code.in_(codes))
    if filters.use_case:
        statement = statement.where(Thread.use_case == filters.use_case)
    if filters.overdue:
        statement = statement.where(overdue_condition())
    if filters.mine and user is not None and user.is_authenticated:
        statement = statement.where(Thread.author_id == user.id)
    if filters.assigned and user is not None and user.is_authenticated:
        statement = statement.where(Thread.assignee_id == user.id)
    if filters.date_from is not None:
        statement = statement.where(Thread.created_at >= paris_day_start(filters.date_from))
    if filters.date_to is not None:
        statement = statement.where(Thread.created_at < paris_day_start(filters.date_to + timedelta(days=1)))
    if filters.thread_ids:
        statement = statement.where(Thread.id.in_(filters.thread_ids))

    sort = filters.effective_sort
    ranks = None
    if sort == "pertinence" and words:
        # Relevance first (how many of the words the title holds), then activity: one rank at a time.
        ranks = relevance_ranks(Thread.search_title, words)
        order = [Thread.last_activity_at.desc(), Thread.id.desc()]
    elif sort == "recent":
        order = [Thread.created_at.desc(), Thread.id.desc()]
    elif sort == "votes":
        order = [Thread.votes_count.desc(), Thread.last_activity_at.desc(), Thread.id.desc()]
    elif sort == "echeance":
        order = [Thread.is_open.desc(), Thread.due_at.asc().nulls_last(), Thread.id]
    else:
        order = [Thread.last_activity_at.desc(), Thread.id.desc()]
    return paginate(statement, order, page, size, options=LIST_OPTIONS, ranks=ranks, count_cap=count_cap)


def status_counts(user, **where) -> dict[str, int]:
    """Visible threads by status, in one grouped query (for dataset and organisation pages)."""
    statement = sa.select(Thread.status, sa.func.count()).where(visible_threads(user)).group_by(Thread.status)
    for column, value in where.items():
        statement = statement.where(getattr(Thread, column) == value)
    counts = dict(db.session.execute(statement).all())
    return {status.value: counts.get(status.value, 0) for status in ThreadStatus}


class TimelineEntry(NamedTuple):
    """One line of a thread's timeline: a message, or an event (a status change, a transfer…)."""

    kind: Literal["message", "event"]
    item: Message | ThreadEvent

    @property
    def order(self) -> tuple:
        # At the same instant: the opening first, then the message, then what it caused (status changes…).
        opening = isinstance(self.item, ThreadEvent) and self.item.type == "created"
        return (self.item.created_at, 0 if opening else 1 if self.kind == "message" else 2, self.item.id)


# Events told by the message they go with, or by the message itself: not lines of their own.
MESSAGE_EVENTS = ("message", "internal_note", "message_edited")


def thread_timeline(thread: Thread, user) -> list[TimelineEntry]:
    """The messages and events of `thread` that `user` may read, in time order (three queries: the messages'
    files with them)."""
    messages = (
        sa.select(Message)
        .where(Message.thread_id == thread.id, readable_messages(user, with_hidden=True))
        .options(joinedload(Message.author), joinedload(Message.as_organisation), selectinload(Message.attachments))
    )
    events = (
        sa.select(ThreadEvent)
        .where(ThreadEvent.thread_id == thread.id, ThreadEvent.type.notin_(MESSAGE_EVENTS), readable_events(user))
        .options(joinedload(ThreadEvent.actor))
    )
    entries = [TimelineEntry("message", m) for m in db.session.scalars(messages)]
    entries += [TimelineEntry("event", e) for e in db.session.scalars(events)]
    return sorted(entries, key=lambda entry: entry.order)


TOLD_EVENTS = ("status_changed", "transferred", "routed", "deadline_extended")


def public_timeline(thread: Thread, limit: int) -> list[TimelineEntry]:
    """What a thread's readers are told, newest first, as an anonymous visitor may read it: its messages and
    the events worth telling (`TOLD_EVENTS`; an assignment or a reclassification is an internal matter or
    already told by a message), at most `limit` (the thread's feed). Two queries."""
    messages = db.session.scalars(
        sa.select(Message)
        .where(Message.thread_id == thread.id, readable_messages(None))
        .options(joinedload(Message.author), joinedload(Message.as_organisation))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    events = db.session.scalars(
        sa.select(ThreadEvent)
        .where(ThreadEvent.thread_id == thread.id, ThreadEvent.type.in_(TOLD_EVENTS), readable_events(None))
        .options(joinedload(ThreadEvent.actor))
        .order_by(ThreadEvent.created_at.desc(), ThreadEvent.id.desc())
        .limit(limit)
    ).all()
    # Newest first; at the same instant, what a message caused (a status change) comes after it in time.
    entries = [TimelineEntry("message", m) for m in messages] + [TimelineEntry("event", e) for e in events]
    entries.sort(key=lambda entry: (entry.item.created_at, entry.kind == "event", entry.item.id), reverse=True)
    return entries[:limit]


def openings(threads: list[Thread], user) -> dict[int, Message]:
    """The opening message of each thread, as `user` may read it (none when hidden), in one query."""
    if not threads:
        return {}
    first_messages = (
        sa.select(sa.func.min(Message.id))
        .where(Message.thread_id.in_([t.id for t in threads]), Message.internal.is_(False))
        .group_by(Message.thread_id)
    )
    readable = sa.select(Message).where(Message.id.in_(first_messages), readable_messages(user))
    return {message.thread_id: message for message in db.session.scalars(readable)}


def is_following(thread: Thread, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return db.session.get(Subscription, (thread.id, user.id)) is not None


def has_voted(thread: Thread, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return db.session.get(Vote, (thread.id, user.id)) is not None


INBOX_TABS = {
    "a-traiter": "À traiter",
    "en-retard": "En retard",
    "echeance-proche": "Échéance sous 7 jours",
    "attente-auteur": "En attente du demandeur",
    "assignes": "Qui me sont assignés",
    "ouverts": "Tous les fils ouverts",
}


def inbox_conditions(user) -> dict[str, sa.ColumnElement[bool]]:
    now = utcnow()
    return {
        "a-traiter": Thread.status == ThreadStatus.NEW.value,
        "en-retard": overdue_condition(now),
        "echeance-proche": sa.and_(Thread.is_open.is_(True), Thread.due_at >= now, Thread.due_at < now + DUE_SOON),
        "attente-auteur": Thread.status == ThreadStatus.NEEDS_INFO.value,
        "assignes": sa.and_(Thread.is_open.is_(True), Thread.assignee_id == user.id),
        "ouverts": Thread.is_open.is_(True),
    }


def inbox_counts(user, organisation_ids_: set[int]) -> dict[str, int]:
    """The number of threads under each tab, in one query."""
    conditions = inbox_conditions(user)
    statement = sa.select(
        *(sa.func.count(sa.case((condition, 1))).label(key.replace("-", "_")) for key, condition in conditions.items())
    ).where(Thread.organisation_id.in_(organisation_ids_), Thread.is_open.is_(True))
    row = db.session.execute(statement).one()
    return {key: row[index] for index, key in enumerate(conditions)}


def inbox_threads(user, organisation_ids_: set[int], tab: str, page: int, size: int) -> Page[Thread]:
    condition = inbox_conditions(user)[tab]
    statement = sa.select(Thread).where(Thread.organisation_id.in_(organisation_ids_), condition)
    return paginate(statement, [Thread.due_at.asc().nulls_last(), Thread.id], page, size, options=LIST_OPTIONS)


def regional_threads(region_code: str, user, page: int, size: int) -> Page[Thread]:
    """Open threads of the services of a région's départements (its DDT(M)s), as `user` may see them: what a
    regional service (DREAL…) follows, read only."""
    departements = sa.select(Territory.code).where(Territory.parent_code == region_code)
    statement = (
        sa.select(Thread)
        .join(Organisation, Organisation.id == Thread.organisation_id)
        .where(Organisation.territory_code.in_(departements), Thread.is_open.is_(True), visible_threads(user))
    )
    return paginate(statement, [Thread.due_at.asc().nulls_last(), Thread.id], page, size, options=LIST_OPTIONS)


@dataclass
class Inbox:
    """A member's inbox: the producers they answer for, the count under each tab, the page of the tab asked
    for, and, for a regional service, the open threads of its région's départements."""

    producers: list[Organisation]
    tab: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    page: Page[Thread] | None = None
    regional: Page[Thread] | None = None


def inbox(user, tab: str, page: int, size: int) -> Inbox:
    organisations = organisation_ids(user)
    producers = (
        list(
            db.session.scalars(
                sa.select(Organisation)
                .where(Organisation.id.in_(organisations), Organisation.is_producer)
                .order_by(Organisation.name)
            )
        )
        if organisations
        else []
    )
    if not producers:
        return Inbox(producers=[])
    tab = tab if tab in INBOX_TABS else "a-traiter"
    ids = {o.id for o in producers}
    regions = [o.overseen_region for o in producers if o.overseen_region]
    return Inbox(
        producers=producers,
        tab=tab,
        counts=inbox_counts(user, ids),
        page=inbox_threads(user, ids, tab, page, size),
        regional=regional_threads(regions[0], user, 1, size) if regions else None,
    )


def unrouted_condition():
    """SQL condition on `Thread`: open and addressed to no service — what the curators route (triage)."""
    return sa.and_(Thread.organisation_id.is_(None), Thread.is_open.is_(True))


def unrouted_threads(page: int, size: int) -> Page[Thread]:
    statement = sa.select(Thread).where(unrouted_condition())
    options = (joinedload(Thread.dataset), joinedload(Thread.territory))
    return paginate(statement, [Thread.created_at, Thread.id], page, size, options=options)


def similar_threads(title: str, user, dataset: Dataset | None = None, theme_ids=(), territory_code=None, limit=5):
    """Threads that may already say what is being typed: same dataset first, then same theme or territory,
    each matching at least one significant word of the title."""
    words = [w for w in query_words(title) if len(w) > 3][:6]
    if not words:
        return []
    dialect = db.session.get_bind().dialect.name
    found: list[Thread] = []
    scopes = []
    if dataset is not None:
        scopes.append(Thread.dataset_id == dataset.id)
    if theme_ids:
        scopes.append(sa.exists().where(thread_theme.c.thread_id == Thread.id, thread_theme.c.theme_id.in_(theme_ids)))
    if territory_code:
        scopes.append(Thread.territory_code == territory_code)
    scopes.append(sa.true())
    for scope in scopes:
        statement = sa.select(Thread).where(visible_threads(user), scope)
        if found:
            statement = statement.where(Thread.id.notin_([t.id for t in found]))
        statement = statement.where(
            THREAD_SEARCH.matching(dialect, Thread.id, Thread.search_text, words, any_word=True)
        ).order_by(title_relevance(Thread.search_title, words).desc(), Thread.last_activity_at.desc())
        found.extend(db.session.scalars(statement.limit(limit - len(found))))
        if len(found) >= limit:
            break
    return found


# One's own threads ---------------------------------------------------------------------------------------------

MINE_GROUPS = {
    "waiting": "Précisions demandées : votre réponse est attendue",
    "open": "En cours de traitement",
    "closed": "Clos",
}


def _mine_group():
    return sa.case(
        (Thread.status == ThreadStatus.NEEDS_INFO.value, 0),
        (Thread.is_open.is_(True), 1),
        else_=2,
    )


def my_threads(user, page: int, size: int, count_cap: int | None = COUNT_CAP) -> Page[Thread]:
    """A person's own threads: those waiting for them first (details asked), then the open ones by deadline, then
    the closed ones, latest activity first. Three queries (`paginate`)."""
    statement = sa.select(Thread).where(Thread.author_id == user.id)
    order = [
        _mine_group(),
        sa.case((Thread.is_open.is_(True), Thread.due_at)).asc().nulls_last(),
        Thread.last_activity_at.desc(),
        Thread.id.desc(),
    ]
    return paginate(statement, order, page, size, options=LIST_OPTIONS, count_cap=count_cap)


def my_thread_counts(user) -> dict[str, int]:
    """How many of a person's threads are in each group of `MINE_GROUPS`, in one query."""
    group = _mine_group().label("mine_group")  # grouped by its name: PostgreSQL binds each copy's values apart
    rows = db.session.execute(
        sa.select(group, sa.func.count()).where(Thread.author_id == user.id).group_by(group)
    ).all()
    counted: dict[int, int] = {index: number for index, number in rows}
    return {key: counted.get(index, 0) for index, key in enumerate(MINE_GROUPS)}


def mine_group_of(thread: Thread) -> str:
    if thread.status == ThreadStatus.NEEDS_INFO:
        return "waiting"
    return "open" if thread.is_open else "closed"
