"""Indicators over a scope of threads: volumes, producers, quality, demand.

Each indicator is one or a few grouped SQL queries, written once for SQLite and PostgreSQL alike (no
dialect-specific date function: months are cut at boundaries computed here, in Paris time); what SQL cannot
say the same way on both (working days, calendar-day delays, fuzzy title grouping) is computed here from
the rows of one query, never by loading threads one by one. Results are plain dicts and lists, sorted here
rather than by the database, so that the same threads give the same JSON on both databases.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz, process

from feedback.accounts.models import Organisation
from feedback.capitalisation.recommendations import draft_recommendations
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Territory, Theme, dataset_theme
from feedback.clock import PARIS, paris_day_start, working_days_between
from feedback.database import utcnow
from feedback.extensions import db
from feedback.search import normalise
from feedback.threads.models import (
    USE_CASE_LABELS,
    DeclineReason,
    Thread,
    ThreadKind,
    ThreadStatus,
    thread_theme,
)
from feedback.threads.taxonomy import CATEGORIES_BY_CODE, MOTIFS, QUALITY_CATEGORIES

DEMAND_KINDS = (ThreadKind.DATA_REQUEST.value, ThreadKind.MISSING_DATA.value)
TOP_DATASETS = 10

# data.gouv.fr's answering indicator: each delay counts for at most this many days, and a thread that has
# no answer of its producer counts for as many.
DATAGOUV_DELAY_CAP_DAYS = 30

# Two requests are "similar" when their normalised titles (stop words and place names taken out) score at
# least this with rapidfuzz's token_set_ratio. 85 groups "Zones humides de la Nièvre" with "Inventaire des
# zones humides du Loiret" (both reduce to "zones humides": 100) or "Débit des cours d'eau" with "Débits des
# cours d'eau" (97), and keeps apart what shares only a word: "zones humides" / "zones inondables" (69),
# "débit des cours d'eau" / "qualité des cours d'eau" (75). Lower, such pairs start to merge; higher, plural
# and spelling variants stop grouping.
SIMILARITY_THRESHOLD = 85
# A title is compared only with the groups whose first title shares enough word stems with it (a stem: the
# first letters of a word): at least half of the stems of the shorter of the two. Below that, token_set_ratio
# stays far under the threshold (the words they share are too little of either title); the subset case (all
# of one title's words in the other, which token_set_ratio scores 100) is always kept. See `StemIndex`.
STEM_LENGTH = 4

# Words that say nothing of what is wanted: French function words and the vocabulary of any request.
_STOP_WORDS = """
    a au aux avec ce ces cet cette d dans de des du en et est il ils j l la le les leur leurs m ma mes mon n ne
    nos notre on ou par pas pour qu que qui s sa se ses son sont sur t ta un une vos votre y
    acces besoin carte cartes cartographie cherche demande donnee donnees disponible disponibles fichier
    fichiers format formats information informations inventaire jeu jeux liste manquant manquante manquantes
    manquants merci recherche souhaite
    commune communes departement departemental departementale region regional regionale territoire
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[0-9a-z]+")


# Volumes -------------------------------------------------------------------------------------------------


def volumes(scope: Scope) -> dict:
    """Threads, public messages, open and closed, by kind and by status: one grouped query.

    Also returns, under `first_received` / `last_received`, the span of the threads found (for `by_month`)."""
    rows = db.session.execute(
        sa.select(
            Thread.kind,
            Thread.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Thread.public_messages_count), 0),
            sa.func.min(Thread.created_at),
            sa.func.max(Thread.created_at),
        )
        .where(scope.condition())
        .group_by(Thread.kind, Thread.status)
    ).all()
    by_kind = dict.fromkeys((k.value for k in ThreadKind), 0)
    by_status = dict.fromkeys((s.value for s in ThreadStatus), 0)
    messages = 0
    firsts, lasts = [], []
    for kind, status, count, message_count, first, last in rows:
        by_kind[kind] += count
        by_status[status] += count
        messages += int(message_count)
        firsts.append(first)
        lasts.append(last)
    open_count = sum(count for status, count in by_status.items() if ThreadStatus(status).is_open)
    threads = sum(by_kind.values())
    return {
        "threads": threads,
        "messages": messages,
        "open": open_count,
        "closed": threads - open_count,
        "by_kind": by_kind,
        "by_status": by_status,
        "first_received": min(firsts) if firsts else None,
        "last_received": max(lasts) if lasts else None,
    }


def _months(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s to `last`'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (
            month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)
        )
    return months


def by_month(scope: Scope, first_received: datetime | None = None, last_received: datetime | None = None) -> list:
    """Threads received per month (Paris time) and kind, every month of the period listed, in one query.

    The months run over the scope's period, or, where it is open, from the first to the last thread found.
    Each thread's month is a CASE over the instants at which the months start in Paris, the same SQL on
    both databases."""
    start = scope.date_from or (first_received.astimezone(PARIS).date() if first_received else None)
    end = scope.date_to or (last_received.astimezone(PARIS).date() if last_received else None)
    if start is None or end is None or start > end:
        return []
    months = _months(start, end)
    month_index: sa.ColumnElement[int]
    if len(months) == 1:
        month_index = sa.literal(0)
    else:
        month_index = sa.case(
            *(
                (Thread.created_at < paris_day_start(month), index - 1)
                for index, month in enumerate(months[1:], start=1)
            ),
            else_=len(months) - 1,
        )
    cut = sa.select(month_index.label("month"), Thread.kind.label("kind")).where(scope.condition()).subquery()
    counts: dict[int, Counter] = defaultdict(Counter)
    for index, kind, count in db.session.execute(
        sa.select(cut.c.month, cut.c.kind, sa.func.count()).group_by(cut.c.month, cut.c.kind)
    ):
        counts[int(index)][kind] = count
    result = []
    for index, month in enumerate(months):
        kinds = {k.value: counts[index][k.value] for k in ThreadKind}
        result.append({"month": month.strftime("%Y-%m"), "threads": sum(kinds.values()), "by_kind": kinds})
    return result


# Producers -----------------------------------------------------------------------------------------------


def late_request_condition(now: datetime):
    """R124-1 compliance: a data request still open past its due date, or answered after it (`threads.answers`).
    (The lists' « en retard » is narrower, `threads.queries.overdue_condition`: still open past its due date,
    what needs doing now.)"""
    return sa.and_(
        Thread.kind == ThreadKind.DATA_REQUEST.value,
        Thread.due_at.is_not(None),
        sa.or_(
            sa.and_(Thread.is_open.is_(True), Thread.due_at < now),
            Thread.answered_at > Thread.due_at,
        ),
    )


def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle ones for an even count."""
    return float(statistics.median(values)) if values else None


def percentile_90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ⌈0.9 n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def datagouv_delay_days(received_at: datetime, answered_at: datetime | None) -> float:
    """One thread's part of data.gouv.fr's indicator: calendar days to the producer's first answer, at
    most 30; 30 when there is none."""
    if answered_at is None:
        return float(DATAGOUV_DELAY_CAP_DAYS)
    days = (answered_at - received_at).total_seconds() / 86400
    return min(max(days, 0.0), float(DATAGOUV_DELAY_CAP_DAYS))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class ProducerCounts(NamedTuple):
    received: int = 0
    answered: int = 0
    resolved: int = 0
    declined: int = 0
    data_requests: int = 0
    overdue: int = 0


@dataclass
class Delays:
    """Per producer: working days from receipt to first response (answered threads), and data.gouv.fr's
    capped calendar days (every thread)."""

    working_days: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    datagouv: dict[int | None, list[float]] = field(default_factory=lambda: defaultdict(list))


def producers(
    scope: Scope, now: datetime | None = None, *, quality_counts: dict[int | None, Counter] | None = None
) -> list[dict]:
    """One entry per producer that received threads in the scope (and each producer the scope names).

    Received, answered (a response of the producer, or its closing the thread: `threads.answers`), the median
    and 90th percentile of working days from its receipt to its first response, resolved, declined (per
    reason), overdue data requests (R124-1), data.gouv.fr's mean days to an answer, and the quality issues by
    category and motif."""
    now = now or utcnow()
    condition = sa.and_(scope.condition(), Thread.organisation_id.is_not(None))
    counts = _producer_counts(condition, now)
    declines = _declines(condition)
    delays = _delays(condition)
    if quality_counts is None:
        quality_counts = _quality_counts(scope)
    organisations = db.session.execute(
        sa.select(Organisation.id, Organisation.slug, Organisation.name, Organisation.datagouv_id).where(
            Organisation.id.in_(set(counts) | set(scope.producer_ids))
        )
    ).all()
    entries = [
        _producer_entry(
            organisation,
            counts.get(organisation.id, ProducerCounts()),
            declines.get(organisation.id, {}),
            delays,
            quality_counts.get(organisation.id, Counter()),
        )
        for organisation in organisations
    ]
    entries.sort(key=lambda e: (-e["received"], normalise(e["name"]), e["slug"]))
    return entries


def _producer_counts(condition, now: datetime) -> dict[int | None, ProducerCounts]:
    """The counts of each producer, in one grouped query."""
    rows = db.session.execute(
        sa.select(
            Thread.organisation_id,
            sa.func.count(),
            sa.func.count(Thread.answered_at),
            sa.func.count(sa.case((Thread.status == ThreadStatus.RESOLVED.value, 1))),
            sa.func.count(sa.case((Thread.status == ThreadStatus.DECLINED.value, 1))),
            sa.func.count(sa.case((Thread.kind == ThreadKind.DATA_REQUEST.value, 1))),
            sa.func.count(sa.case((late_request_condition(now), 1))),
        )
        .where(condition)
        .group_by(Thread.organisation_id)
    )
    return {organisation_id: ProducerCounts(*figures) for organisation_id, *figures in rows}


def _declines(condition) -> dict[int | None, dict[str, int]]:
    """Declined threads of each producer by reason, in one grouped query."""
    declines: dict[int | None, dict[str, int]] = defaultdict(dict)
    for organisation_id, reason, count in db.session.execute(
        sa.select(Thread.organisation_id, Thread.decline_reason, sa.func.count())
        .where(condition, Thread.status == ThreadStatus.DECLINED.value)
        .group_by(Thread.organisation_id, Thread.decline_reason)
    ):
        declines[organisation_id][reason or "unknown"] = count
    return declines


def _delays(condition) -> Delays:
    """The (received by the service, first response) pairs of the scope, in one query; days counted here."""
    delays = Delays()
    for organisation_id, received_at, answered_at in db.session.execute(
        sa.select(Thread.organisation_id, Thread.received_at, Thread.first_response_at).where(condition)
    ):
        delays.datagouv[organisation_id].append(datagouv_delay_days(received_at, answered_at))
        if answered_at is not None:
            delays.working_days[organisation_id].append(working_days_between(received_at, answered_at))
    return delays


def _producer_entry(organisation, counts: ProducerCounts, declines: dict[str, int], delays: Delays, quality) -> dict:
    calendar = delays.datagouv.get(organisation.id, [])
    working = delays.working_days.get(organisation.id, [])
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "datagouv_id": organisation.datagouv_id,
        "received": counts.received,
        "answered": counts.answered,
        "answered_share": _share(counts.answered, counts.received),
        "median_working_days": median(working),
        "p90_working_days": percentile_90(working),
        "resolved": counts.resolved,
        "declined": counts.declined,
        "declined_by_reason": {reason: declines[reason] for reason in sorted(declines, key=_reason_order)},
        "data_requests": counts.data_requests,
        "overdue": counts.overdue,
        "overdue_share": _share(counts.overdue, counts.data_requests),
        "datagouv_mean_answer_days": round(sum(calendar) / len(calendar), 2) if calendar else None,
        "quality_by_category": _category_dict(quality),
        "quality_by_motif": _motif_dict(quality),
    }


def _reason_order(reason: str) -> tuple[int, str]:
    order = [r.value for r in DeclineReason]
    return (order.index(reason) if reason in order else len(order), reason)


# Quality -------------------------------------------------------------------------------------------------


def _quality_counts(scope: Scope) -> dict[int | None, Counter]:
    """Quality issues per producer (None: no producer yet) and category, in one grouped query."""
    result: dict[int | None, Counter] = defaultdict(Counter)
    for organisation_id, category, count in db.session.execute(
        sa.select(Thread.organisation_id, Thread.quality_category, sa.func.count())
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value)
        .group_by(Thread.organisation_id, Thread.quality_category)
    ):
        result[organisation_id][category or "other"] += count
    return result


def _category_dict(counts: Counter) -> dict[str, int]:
    """The categories in the taxonomy's order with their counts (zeros left out), then any code it lacks."""
    known = {c.code: counts[c.code] for c in QUALITY_CATEGORIES if counts[c.code]}
    return known | {code: n for code, n in sorted(counts.items()) if code not in CATEGORIES_BY_CODE and n}


def _motif_dict(counts: Counter) -> dict[str, int]:
    motifs: Counter = Counter()
    for code, count in counts.items():
        category = CATEGORIES_BY_CODE.get(code)
        motifs[category.motif if category else "Autre"] += count
    return {motif: motifs[motif] for motif in MOTIFS if motifs[motif]}


def quality(scope: Scope, *, quality_counts: dict[int | None, Counter] | None = None) -> dict:
    """Quality issues of the whole scope (those of no producer included) by category and by motif;
    `quality_counts`: those of `_quality_counts(scope)` when the caller has them already."""
    total: Counter = Counter()
    for counts in (quality_counts if quality_counts is not None else _quality_counts(scope)).values():
        total.update(counts)
    return {"by_category": _category_dict(total), "by_motif": _motif_dict(total)}


def most_reported_datasets(scope: Scope, limit: int = TOP_DATASETS) -> list[dict]:
    """The datasets with the most quality issues weighted by their votes (issues + votes), top `limit`."""
    issues = sa.func.count().label("issues")
    votes = sa.func.coalesce(sa.func.sum(Thread.votes_count), 0).label("votes")
    top = db.session.execute(
        sa.select(Thread.dataset_id, issues, votes)
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value, Thread.dataset_id.is_not(None))
        .group_by(Thread.dataset_id)
        .order_by((issues + votes).desc(), issues.desc(), Thread.dataset_id)
        .limit(limit)
    ).all()
    if not top:
        return []
    ids = [row.dataset_id for row in top]
    categories: dict[int | None, Counter] = defaultdict(Counter)
    for dataset_id, category, count in db.session.execute(
        sa.select(Thread.dataset_id, Thread.quality_category, sa.func.count())
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value, Thread.dataset_id.in_(ids))
        .group_by(Thread.dataset_id, Thread.quality_category)
    ):
        categories[dataset_id][category or "other"] += count
    datasets = {
        row.id: row
        for row in db.session.execute(
            sa.select(
                Dataset.id, Dataset.catalogue_id, Dataset.slug, Dataset.title, Organisation.slug.label("producer")
            )
            .outerjoin(Organisation, Organisation.id == Dataset.organisation_id)
            .where(Dataset.id.in_(ids))
        )
    }
    result = []
    for row in top:
        dataset = datasets[row.dataset_id]
        result.append(
            {
                "catalogue_id": dataset.catalogue_id,
                "slug": dataset.slug,
                "title": dataset.title,
                "producer": dataset.producer,
                "quality_issues": row.issues,
                "votes": int(row.votes),
                "weight": row.issues + int(row.votes),
                "by_category": _category_dict(categories[row.dataset_id]),
            }
        )
    return result


# Demand --------------------------------------------------------------------------------------------------


def _demand_threads(scope: Scope):
    """Data requests and missing-data reports of the scope, one row per (thread, theme): the themes given
    to the thread and those of its dataset; theme_id is None for a thread without any."""
    condition = sa.and_(scope.condition(), Thread.kind.in_(DEMAND_KINDS))
    own = sa.select(thread_theme.c.thread_id.label("thread_id"), thread_theme.c.theme_id.label("theme_id")).join(
        Thread, Thread.id == thread_theme.c.thread_id
    )
    of_dataset = sa.select(Thread.id.label("thread_id"), dataset_theme.c.theme_id.label("theme_id")).join(
        dataset_theme, dataset_theme.c.dataset_id == Thread.dataset_id
    )
    themes = sa.union(own.where(condition), of_dataset.where(condition)).subquery()
    return condition, themes


def _theme_entry(theme) -> dict | None:
    if theme is None:
        return None
    return {"scheme": theme.scheme, "code": theme.code, "label": theme.label}


def _themes_by_id(ids) -> dict[int | None, Any]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {
        row.id: row
        for row in db.session.execute(
            sa.select(Theme.id, Theme.scheme, Theme.code, Theme.label).where(Theme.id.in_(ids))
        )
    }


def demand_rows(scope: Scope) -> Sequence[Any]:
    """The data requests and missing-data reports of the scope, one row per (theme, thread), in one query:
    what both the theme × territory table and the groups of similar requests are made of."""
    condition, themes = _demand_threads(scope)
    return db.session.execute(
        sa.select(
            themes.c.theme_id,
            Thread.id,
            Thread.title,
            Thread.votes_count,
            Thread.territory_code,
            Thread.kind,
            Thread.created_at,
        )
        .select_from(Thread)
        .outerjoin(themes, themes.c.thread_id == Thread.id)
        .where(condition)
    ).all()


def demand_by_theme_and_territory(scope: Scope, rows: Sequence[Any] | None = None) -> list[dict]:
    """Data requests and missing-data reports by theme × territory (the territory the thread names; a
    thread counts once under each of its themes), counted from `demand_rows(scope)` (or `rows`, the same)."""
    rows = demand_rows(scope) if rows is None else rows
    cells: dict[tuple, Counter] = defaultdict(Counter)
    for row in rows:
        cells[(row.theme_id, row.territory_code)][row.kind] += 1
    theme_rows = _themes_by_id({theme_id for theme_id, _ in cells})
    territory_names = dict(
        db.session.execute(
            sa.select(Territory.code, Territory.name).where(Territory.code.in_({code for _, code in cells if code}))
        ).all()
    )
    result: list[dict[str, Any]] = []
    for (theme_id, territory_code), kinds in cells.items():
        result.append(
            {
                "theme": _theme_entry(theme_rows.get(theme_id)),
                "territory": (
                    {"code": territory_code, "name": territory_names.get(territory_code, territory_code)}
                    if territory_code
                    else None
                ),
                **{kind: kinds[kind] for kind in DEMAND_KINDS},
                "total": sum(kinds.values()),
            }
        )
    result.sort(
        key=lambda c: (
            -c["total"],
            (c["theme"]["scheme"], c["theme"]["code"]) if c["theme"] else ("~", ""),
            c["territory"]["code"] if c["territory"] else "~",
        )
    )
    return result


def place_pattern() -> re.Pattern | None:
    """A pattern of every territory's name, normalised, longest first (to take them out of titles)."""
    found = {" ".join(_WORD.findall(normalise(name))) for name in db.session.scalars(sa.select(Territory.name))}
    names = sorted((n for n in found if n), key=lambda n: (-len(n), n))
    if not names:
        return None
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(re.escape(n) for n in names) + r")(?![0-9a-z])")


def normalise_title(title: str, places: re.Pattern | None = None) -> str:
    """A request's title reduced to what it asks for: lower case, no accents, place names and stop words
    taken out ("Données des zones humides de la Nièvre" → "zones humides"). Place names stay when nothing
    else would."""
    words = " ".join(_WORD.findall(normalise(title)))
    kept = places.sub(" ", words) if places is not None else words
    meaningful = [w for w in kept.split() if w not in STOP_WORDS]
    if not meaningful:
        meaningful = [w for w in words.split() if w not in STOP_WORDS]
    return " ".join(meaningful)


def word_stems(title: str) -> set[str]:
    """The first four letters of each word: "zones humides" and "zone humide" share theirs."""
    return {word[:STEM_LENGTH] for word in title.split()}


def _needed(size: int) -> int:
    """The stems two titles must share when the shorter has `size` of them: half, rounded up."""
    return (size + 1) // 2


class StemIndex:
    """The first titles of the groups of a theme, found by the stems they share with a new title.

    A prefix filter, as in set-similarity joins: stems are ranked rarest first (`rank`); a title's *prefix* is
    its rarest stems, as many as it may miss and still share `_needed` of them with a title no longer than
    itself. If two titles share at least `_needed(shorter)` stems, then the shorter one's prefix holds a
    stem of the longer one; so a leader is filed under its prefix stems (found when it is the shorter) and
    under all its stems (found from the new title's prefix, when the new title is the shorter). Only the
    stems of prefixes are looked up, and they are the rare ones: the common ones ("zone", "plan") no longer
    make every title a candidate of every other."""

    def __init__(self, rank: dict[str, int]):
        self.rank = rank  # each stem's place, rarest first
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        self.by_stem: dict[str, list[int]] = defaultdict(list)
        # Each leader's stems as 64 bits (a stem's bit: its rank modulo 64), whose common bits count at least
        # the stems two titles share (two stems may share a bit): a cheap test that never drops a candidate
        # that shares enough, and drops most of those that do not.
        self.bits: list[int] = []
        self.needed: list[int] = []

    def _prefix(self, stems: set[str]) -> list[str]:
        ordered = sorted(stems, key=self.rank.__getitem__)
        return ordered[: len(ordered) - _needed(len(ordered)) + 1]

    def _bits(self, stems: set[str]) -> int:
        bits = 0
        for stem in stems:
            bits |= 1 << (self.rank[stem] % 64)
        return bits

    def add(self, index: int, stems: set[str]) -> None:
        for stem in self._prefix(stems):
            self.by_prefix[stem].append(index)
        for stem in stems:
            self.by_stem[stem].append(index)
        self.bits.append(self._bits(stems))
        self.needed.append(_needed(len(stems)))

    def candidates(self, stems: set[str]) -> list[int]:
        found = {i for stem in stems for i in self.by_prefix.get(stem, ())}
        found.update(i for stem in self._prefix(stems) for i in self.by_stem.get(stem, ()))
        # Enough in common with the shorter title: `_needed(min(a, b))` is the smaller of the two `_needed`.
        bits, needed, leaders, leaders_needed = self._bits(stems), _needed(len(stems)), self.bits, self.needed
        return sorted(
            i for i in found if (common := (leaders[i] & bits).bit_count()) >= needed or common >= leaders_needed[i]
        )


def similar_request_groups(
    scope: Scope, threshold: int = SIMILARITY_THRESHOLD, rows: Sequence[Any] | None = None
) -> list[dict]:
    """Groups of similar data requests and missing-data reports within a theme.

    Within each theme, threads are taken in the order they were received; each joins the group of an
    earlier thread with the same normalised title, or else, among the groups whose first title shares enough
    word stems with its own (`StemIndex`), the one whose first title scores best, and at least `threshold`
    (rapidfuzz token_set_ratio), against its own, or else starts one.
    Comparing with a group's first title only, not with any member, keeps a chain of near neighbours from
    merging unrelated requests. Only groups of two threads or more are returned, each with its thread ids,
    votes (summed), territories and kinds. `rows`: those of `demand_rows(scope)` when the caller has them."""
    rows = demand_rows(scope) if rows is None else rows
    if not rows:
        return []
    places = place_pattern()
    titles: dict[int, str] = {}
    buckets: dict[int | None, list] = defaultdict(list)
    for row in rows:
        if row.id not in titles:
            titles[row.id] = normalise_title(row.title, places)
        buckets[row.theme_id].append(row)
    theme_rows = _themes_by_id(buckets)
    stems_of = {title: word_stems(title) for title in set(titles.values())}
    frequency = Counter(stem for stems in stems_of.values() for stem in stems)
    rank = {stem: place for place, stem in enumerate(sorted(frequency, key=lambda stem: (frequency[stem], stem)))}

    groups, order = [], []
    for theme_id, members in buckets.items():
        members.sort(key=lambda r: (r.created_at, r.id))
        leaders: list[str] = []
        theme_groups: list[list] = []
        group_of_title: dict[str, int] = {}  # the same normalised title goes to the same group
        index_of_leaders = StemIndex(rank)
        for row in members:
            title = titles[row.id]
            index = group_of_title.get(title) if title else None
            if index is None and title:
                # Only the groups whose first title shares enough stems with this one can score high enough.
                candidates = index_of_leaders.candidates(stems_of[title])
                match = process.extractOne(
                    title, [leaders[i] for i in candidates], scorer=fuzz.token_set_ratio, score_cutoff=threshold
                )
                index = candidates[match[2]] if match is not None else None
            if index is None:
                index = len(theme_groups)
                leaders.append(title)
                theme_groups.append([])
                index_of_leaders.add(index, stems_of[title])
            group_of_title[title] = index
            theme_groups[index].append(row)
        for group in theme_groups:
            if len(group) < 2:
                continue
            groups.append(
                {
                    "theme": _theme_entry(theme_rows.get(theme_id)),
                    "title": group[0].title,
                    "normalised_title": titles[group[0].id],
                    "thread_ids": sorted(r.id for r in group),
                    "threads": len(group),
                    "votes": sum(r.votes_count for r in group),
                    "territories": sorted({r.territory_code for r in group if r.territory_code}),
                    "by_kind": {kind: sum(1 for r in group if r.kind == kind) for kind in DEMAND_KINDS},
                }
            )
            order.append(
                (
                    -len(group),
                    -groups[-1]["votes"],
                    theme_rows[theme_id].code if theme_id else "~",
                    group[0].created_at,
                    group[0].id,
                )
            )
    return [group for _, group in sorted(zip(order, groups, strict=True), key=lambda pair: pair[0])]


def use_cases(scope: Scope) -> dict:
    """Threads of the scope by the use case they serve, in one grouped query."""
    counts = dict(
        db.session.execute(
            sa.select(Thread.use_case, sa.func.count()).where(scope.condition()).group_by(Thread.use_case)
        ).all()
    )
    return {
        "by_use_case": {code.value: counts.get(code.value, 0) for code in USE_CASE_LABELS},
        "unspecified": counts.get(None, 0),
    }


# The report ------------------------------------------------------------------------------------------------


def describe_scope(scope: Scope) -> dict:
    producers_named = db.session.execute(
        sa.select(Organisation.slug, Organisation.name).where(Organisation.id.in_(scope.producer_ids))
    ).all()
    return {
        "from": scope.date_from.isoformat() if scope.date_from else None,
        "to": scope.date_to.isoformat() if scope.date_to else None,
        "kinds": sorted(scope.kinds),
        "producers": sorted(({"slug": slug, "name": name} for slug, name in producers_named), key=lambda p: p["slug"]),
        "themes": sorted(scope.theme_codes),
        "territories": sorted(scope.territory_codes),
        "use_cases": sorted(scope.use_cases),
        "include_restricted": scope.include_restricted,
    }


REPORT_STEPS = 8


def build_report_data(
    scope: Scope,
    *,
    now: datetime | None = None,
    top_datasets: int = TOP_DATASETS,
    progress: Callable[[], None] | None = None,
) -> dict:
    """Every indicator of `scope`, as a dict ready for JSON. `now`: the instant "overdue" is judged at.
    `progress` is called after each of the REPORT_STEPS steps."""
    now = now or utcnow()

    def step(value):
        if progress is not None:
            progress()
        return value

    current = step(volumes(scope))
    previous_scope = scope.previous()
    previous = None
    if previous_scope is not None:
        previous_totals = volumes(previous_scope)
        previous = {
            "from": previous_scope.date_from.isoformat() if previous_scope.date_from else None,
            "to": previous_scope.date_to.isoformat() if previous_scope.date_to else None,
            "totals": {k: v for k, v in previous_totals.items() if k not in ("first_received", "last_received")},
        }
    step(previous)
    first_received, last_received = current.pop("first_received"), current.pop("last_received")
    # Read once, used twice: the quality issues per producer and category, the demand rows.
    quality_counts = _quality_counts(scope)
    demand = demand_rows(scope)
    data = {
        "scope": describe_scope(scope),
        "as_of": now.isoformat(),
        "totals": current,
        "previous_period": previous,
        "by_month": step(by_month(scope, first_received, last_received)),
        "producers": step(producers(scope, now, quality_counts=quality_counts)),
        "quality": step(quality(scope, quality_counts=quality_counts)),
        "datasets": step(most_reported_datasets(scope, top_datasets)),
        "demand": {
            "by_theme_territory": step(demand_by_theme_and_territory(scope, demand)),
            "use_cases": use_cases(scope),
        },
        "demand_groups": step(similar_request_groups(scope, rows=demand)),
    }
    data["recommendations"] = draft_recommendations(scope, data, overdue=late_request_condition(now))
    return data
