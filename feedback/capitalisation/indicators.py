"""Indicators over a scope of threads: volumes, producers, quality, demand.

Each indicator is one or a few grouped SQL queries, written once for SQLite and PostgreSQL alike (no
dialect-specific date function: months are cut at boundaries computed here, in Paris time); what SQL cannot
say the same way on both (working days, calendar-day delays, fuzzy title grouping) is computed here from
the rows of one query, never by loading threads one by one. Results are plain dicts and lists, sorted here
rather than by the database, so that the same threads give the same JSON on both databases.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from feedback.accounts.models import Organisation
from feedback.capitalisation.demand import DEMAND_KINDS
from feedback.capitalisation.models import DemandEntry
from feedback.capitalisation.recommendations import draft_recommendations
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Territory, Theme
from feedback.clock import PARIS, paris_day_start
from feedback.database import utcnow
from feedback.extensions import db
from feedback.search import normalise
from feedback.threads.models import (
    USE_CASE_LABELS,
    DeclineReason,
    Thread,
    ThreadKind,
    ThreadStatus,
)
from feedback.threads.taxonomy import CATEGORIES_BY_CODE, MOTIFS, QUALITY_CATEGORIES

TOP_DATASETS = 10

# data.gouv.fr's answering indicator: each delay counts for at most this many days, and a thread that has
# no answer of its producer counts for as many.
DATAGOUV_DELAY_CAP_DAYS = 30

# The scope's threads, counted once --------------------------------------------------------------------------


class Cell(NamedTuple):
    """The threads of the scope that share a producer, a kind, a status, a decline reason and a quality
    category, and their figures: what the totals, the producers' counts and the quality figures sum."""

    organisation_id: int | None
    kind: str
    status: str
    decline_reason: str | None
    quality_category: str | None
    threads: int
    messages: int
    answered: int
    overdue: int
    datagouv_days: float  # the sum of data.gouv.fr's capped days over these threads


def unordered(column):
    """`column` as a grouping key that no index gives in order (`column + 0`; a text: `column || ''`), labelled
    with its name. Grouped on the bare column, SQLite walks an index that yields the groups in order but holds
    none of the counted columns, and so reads every thread row; grouped on this, it reads the covering
    `ix_thread_figures` (or `ix_demand_entry_thread`) alone, about four times faster at 100,000 threads.
    PostgreSQL plans the same either way. Select and group by the same expression."""
    zero = sa.literal_column("''") if isinstance(column.type, sa.String) else sa.literal_column("0")
    return sa.type_coerce(column.op("||" if isinstance(column.type, sa.String) else "+")(zero), column.type).label(
        column.key
    )


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


def _datagouv_days():
    """SQL: one thread's part of data.gouv.fr's indicator, from its kept delay: calendar days to its
    producer's first response, at most 30; 30 when there is none."""
    days, cap = Thread.response_days, float(DATAGOUV_DELAY_CAP_DAYS)
    return sa.case((days.is_(None), cap), (days > cap, cap), (days < 0, 0.0), else_=days)


def scope_cells(scope: Scope, now: datetime | None = None) -> list[Cell]:
    """The scope's threads by producer, kind, status, decline reason and quality category, in one grouped
    query (it reads `ix_thread_figures` alone): a few thousand cells for the whole country. `now`: the
    instant "overdue" is judged at."""
    now = now or utcnow()
    keys = [
        unordered(column)
        for column in (
            Thread.organisation_id,
            Thread.kind,
            Thread.status,
            Thread.decline_reason,
            Thread.quality_category,
        )
    ]
    rows = db.session.execute(
        sa.select(
            *keys,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Thread.public_messages_count), 0),
            sa.func.count(Thread.answered_at),
            sa.func.count(sa.case((late_request_condition(now), 1))),
            sa.func.coalesce(sa.func.sum(_datagouv_days()), 0.0),
        )
        .where(scope.condition())
        .group_by(*keys)
    )
    return [
        Cell(producer, kind, status, reason, category, threads, int(messages), answered, late, float(days))
        for producer, kind, status, reason, category, threads, messages, answered, late, days in rows
    ]


# Volumes -------------------------------------------------------------------------------------------------


def volumes(scope: Scope, cells: Sequence[Cell] | None = None) -> dict:
    """Threads, public messages, open and closed, by kind and by status: summed from `cells` (those of
    `scope_cells(scope)`) when the caller has them, or else one grouped query by kind and status. Also returns,
    under `first_received` / `last_received`, the span of the threads found (for `by_month`): one more query,
    which the figures index answers from its ends for the public scope."""
    counted: Sequence[tuple[Any, ...]]
    if cells is None:
        keys = (unordered(Thread.kind), unordered(Thread.status))
        counted = db.session.execute(
            sa.select(*keys, sa.func.count(), sa.func.coalesce(sa.func.sum(Thread.public_messages_count), 0))
            .where(scope.condition())
            .group_by(*keys)
        ).all()
    else:
        counted = [(cell.kind, cell.status, cell.threads, cell.messages) for cell in cells]
    by_kind = dict.fromkeys((k.value for k in ThreadKind), 0)
    by_status = dict.fromkeys((s.value for s in ThreadStatus), 0)
    messages = 0
    for kind, status, threads, message_count in counted:
        by_kind[kind] += threads
        by_status[status] += threads
        messages += int(message_count)
    open_count = sum(count for status, count in by_status.items() if ThreadStatus(status).is_open)
    threads = sum(by_kind.values())
    first, last = db.session.execute(
        sa.select(sa.func.min(Thread.created_at), sa.func.max(Thread.created_at)).where(scope.condition())
    ).one()
    return {
        "threads": threads,
        "messages": messages,
        "open": open_count,
        "closed": threads - open_count,
        "by_kind": by_kind,
        "by_status": by_status,
        "first_received": first,
        "last_received": last,
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


def _month_index(starts: list[datetime], low: int, high: int) -> sa.ColumnElement[int]:
    """SQL: the index, from `low` to `high`, of the month a thread was received in, `starts[i]` being the first
    instant of month i + 1: a CASE halving the months at each level, so that a thread is compared with about
    log2(months) instants rather than with each."""
    if low == high:
        return sa.literal(low)
    middle = (low + high + 1) // 2  # the first month of the upper half
    return sa.case(
        (Thread.created_at < starts[middle - 1], _month_index(starts, low, middle - 1)),
        else_=_month_index(starts, middle, high),
    )


def by_month_and_use_case(
    scope: Scope, first_received: datetime | None = None, last_received: datetime | None = None
) -> tuple[list, dict]:
    """Threads received per month (Paris time) and kind, every month of the period listed, and threads by
    the use case they serve, in one grouped query.

    The months run over the scope's period, or, where it is open, from the first to the last thread found.
    Each thread's month is a CASE over the instants at which the months start in Paris, the same SQL on
    both databases."""
    start = scope.date_from or (first_received.astimezone(PARIS).date() if first_received else None)
    end = scope.date_to or (last_received.astimezone(PARIS).date() if last_received else None)
    months = _months(start, end) if start is not None and end is not None and start <= end else []
    starts = [paris_day_start(month) for month in months[1:]]
    month_index = _month_index(starts, 0, len(starts)) if starts else sa.literal(0)
    cut = (
        sa.select(month_index.label("month"), Thread.kind.label("kind"), Thread.use_case.label("use_case"))
        .where(scope.condition())
        .subquery()
    )
    counts: dict[int, Counter] = defaultdict(Counter)
    by_use_case: Counter = Counter()
    for index, kind, use_case, count in db.session.execute(
        sa.select(cut.c.month, cut.c.kind, cut.c.use_case, sa.func.count()).group_by(
            cut.c.month, cut.c.kind, cut.c.use_case
        )
    ):
        counts[int(index)][kind] += count
        by_use_case[use_case] += count
    monthly = []
    for index, month in enumerate(months):
        kinds = {k.value: counts[index][k.value] for k in ThreadKind}
        monthly.append({"month": month.strftime("%Y-%m"), "threads": sum(kinds.values()), "by_kind": kinds})
    use_cases = {
        "by_use_case": {code.value: by_use_case[code.value] for code in USE_CASE_LABELS},
        "unspecified": by_use_case[None],
    }
    return monthly, use_cases


# Producers -----------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle ones for an even count."""
    return float(statistics.median(values)) if values else None


def percentile_90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ⌈0.9 n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class ProducerCounts:
    received: int = 0
    answered: int = 0
    resolved: int = 0
    declined: int = 0
    data_requests: int = 0
    overdue: int = 0
    datagouv_days: float = 0.0  # the sum of data.gouv.fr's capped days over the threads received
    declines: Counter = field(default_factory=Counter)  # by reason
    quality: Counter = field(default_factory=Counter)  # quality issues by category


def _producer_counts(cells: Sequence[Cell]) -> dict[int, ProducerCounts]:
    found: dict[int, ProducerCounts] = defaultdict(ProducerCounts)
    for cell in cells:
        if cell.organisation_id is None:
            continue
        counts = found[cell.organisation_id]
        counts.received += cell.threads
        counts.answered += cell.answered
        counts.overdue += cell.overdue
        counts.datagouv_days += cell.datagouv_days
        if cell.status == ThreadStatus.RESOLVED.value:
            counts.resolved += cell.threads
        elif cell.status == ThreadStatus.DECLINED.value:
            counts.declined += cell.threads
            counts.declines[cell.decline_reason or "unknown"] += cell.threads
        if cell.kind == ThreadKind.DATA_REQUEST.value:
            counts.data_requests += cell.threads
        elif cell.kind == ThreadKind.QUALITY_ISSUE.value:
            counts.quality[cell.quality_category or "other"] += cell.threads
    return found


def producers(scope: Scope, now: datetime | None = None, *, cells: Sequence[Cell] | None = None) -> list[dict]:
    """One entry per producer that received threads in the scope (and each producer the scope names).

    Received, answered (a response of the producer, or its closing the thread: `threads.answers`), the median
    and 90th percentile of working days from its receipt to its first response, resolved, declined (per
    reason), overdue data requests (R124-1), data.gouv.fr's mean days to an answer, and the quality issues by
    category and motif: summed from `scope_cells(scope, now)` (or `cells`, the same), and the delays each
    thread keeps (`answers.response_delays`)."""
    cells = scope_cells(scope, now) if cells is None else cells
    counts = _producer_counts(cells)
    working_days = _working_days(sa.and_(scope.condition(), Thread.organisation_id.is_not(None)))
    organisations = db.session.execute(
        sa.select(Organisation.id, Organisation.slug, Organisation.name, Organisation.datagouv_id).where(
            Organisation.id.in_(set(counts) | set(scope.producer_ids))
        )
    ).all()
    entries = [
        _producer_entry(organisation, counts.get(organisation.id, ProducerCounts()), working_days[organisation.id])
        for organisation in organisations
    ]
    entries.sort(key=lambda e: (-e["received"], normalise(e["name"]), e["slug"]))
    return entries


def _working_days(condition) -> dict[int | None, list[int]]:
    """Per producer, the working days from receipt to first response of its answered threads, in order:
    read as a count per number of days (one grouped query), a few rows whatever the threads."""
    found: dict[int | None, list[int]] = defaultdict(list)
    keys = (unordered(Thread.organisation_id), unordered(Thread.response_working_days))
    for organisation_id, days, count in db.session.execute(
        sa.select(*keys, sa.func.count())
        .where(condition, Thread.response_working_days.is_not(None))
        .group_by(*keys)
        .order_by(*keys)
    ):
        if days is not None:  # the query leaves them out; the test tells the type checker
            found[organisation_id].extend([days] * count)
    return found


def _producer_entry(organisation, counts: ProducerCounts, working: list[int]) -> dict:
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
        "declined_by_reason": {
            reason: counts.declines[reason] for reason in sorted(counts.declines, key=_reason_order)
        },
        "data_requests": counts.data_requests,
        "overdue": counts.overdue,
        "overdue_share": _share(counts.overdue, counts.data_requests),
        "datagouv_mean_answer_days": round(counts.datagouv_days / counts.received, 2) if counts.received else None,
        "quality_by_category": _category_dict(counts.quality),
        "quality_by_motif": _motif_dict(counts.quality),
    }


def _reason_order(reason: str) -> tuple[int, str]:
    order = [r.value for r in DeclineReason]
    return (order.index(reason) if reason in order else len(order), reason)


# Quality -------------------------------------------------------------------------------------------------


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


def quality(scope: Scope, *, cells: Sequence[Cell] | None = None) -> dict:
    """Quality issues of the whole scope (those of no producer included) by category and by motif, summed
    from `scope_cells(scope)` (or `cells`, the same)."""
    total: Counter = Counter()
    for cell in scope_cells(scope) if cells is None else cells:
        if cell.kind == ThreadKind.QUALITY_ISSUE.value:
            total[cell.quality_category or "other"] += cell.threads
    return {"by_category": _category_dict(total), "by_motif": _motif_dict(total)}


def most_reported_datasets(scope: Scope, limit: int = TOP_DATASETS) -> list[dict]:
    """The datasets with the most quality issues weighted by their votes (issues + votes), top `limit`."""
    issues = sa.func.count().label("issues")
    votes = sa.func.coalesce(sa.func.sum(Thread.votes_count), 0).label("votes")
    dataset = unordered(Thread.dataset_id)
    top = db.session.execute(
        sa.select(dataset, issues, votes)
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value, Thread.dataset_id.is_not(None))
        .group_by(dataset)
        .order_by((issues + votes).desc(), issues.desc(), dataset)
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


def _demand_entries(scope: Scope):
    """The (thread, theme) rows of the scope's data requests and missing-data reports (`demand`), joined to
    their threads."""
    return (
        sa.select()
        .select_from(DemandEntry)
        .join(Thread, Thread.id == DemandEntry.thread_id)
        .where(scope.condition(), Thread.kind.in_(DEMAND_KINDS))
    )


def demand_by_theme_and_territory(scope: Scope) -> list[dict]:
    """Data requests and missing-data reports by theme × territory (the territory the thread names; a thread
    counts once under each of its themes and those of its dataset), in one grouped query."""
    cells: dict[tuple, Counter] = defaultdict(Counter)
    keys = (unordered(DemandEntry.theme_id), unordered(Thread.territory_code), unordered(Thread.kind))
    for theme_id, territory_code, kind, count in db.session.execute(
        _demand_entries(scope).add_columns(*keys, sa.func.count()).group_by(*keys)
    ):
        cells[(theme_id, territory_code)][kind] += count
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


class GroupFigures(NamedTuple):
    theme_id: int | None
    leader_id: int
    threads: int
    votes: int
    first_received: datetime
    first_id: int
    members: str  # "id:territory:kind" of each thread of the group in the scope, joined by commas


def similar_request_groups(scope: Scope) -> list[dict]:
    """The groups of similar data requests and missing-data reports (`demand`) with two threads or more in
    the scope, largest first (then most supported, by theme, first received). Each with the ids of its
    threads in the scope, their votes (summed), territories and kinds; its title is that of its first thread
    in the scope."""
    return similar_request_groups_page(scope)[0]


def similar_request_groups_page(scope: Scope, offset: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
    """The `limit` groups of `similar_request_groups` from `offset` (all when None), and how many there are.

    One grouped query gives each group's figures and its members (their ids, territories and kinds joined in
    one string: `aggregate_strings`, group_concat or string_agg); a second finds the first thread of each among
    those received at its first instant; a third reads their titles by key."""
    keys = (unordered(DemandEntry.theme_id), unordered(DemandEntry.leader_id))
    member = sa.cast(Thread.id, sa.String) + ":" + sa.func.coalesce(Thread.territory_code, "") + ":" + Thread.kind
    figures = [
        GroupFigures(*row)
        for row in db.session.execute(
            _demand_entries(scope)
            .add_columns(
                *keys,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(Thread.votes_count), 0),
                sa.func.min(Thread.created_at),
                sa.func.min(Thread.id),
                sa.func.aggregate_strings(member, ","),
            )
            .group_by(*keys)
            .having(sa.func.count() >= 2)
        )
    ]
    if not figures:
        return [], 0
    theme_rows = _themes_by_id({f.theme_id for f in figures})
    figures.sort(
        key=lambda f: (
            -f.threads,
            -f.votes,
            theme_rows[f.theme_id].code if f.theme_id is not None else "~",
            f.first_received,
            f.first_id,
        )
    )
    chosen = figures[offset : None if limit is None else offset + limit]
    if not chosen:
        return [], len(figures)
    # The first thread of each group: the smallest id among its threads received at its first instant.
    first_at = {(f.theme_id, f.leader_id): f.first_received for f in chosen}
    firsts: dict[tuple[int | None, int], int] = {}
    for theme_id, leader_id, thread_id, created_at in db.session.execute(
        _demand_entries(scope)
        .add_columns(unordered(DemandEntry.theme_id), DemandEntry.leader_id, Thread.id, Thread.created_at)
        .where(Thread.created_at.in_(set(first_at.values())))
    ):
        key = (theme_id, leader_id)
        if first_at.get(key) == created_at and thread_id < firsts.get(key, thread_id + 1):
            firsts[key] = thread_id
    titles: dict[int, str] = {}
    normalised: dict[tuple[int, int | None], str] = {}
    ids = sorted(set(firsts.values()))
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        titles.update(db.session.execute(sa.select(Thread.id, Thread.title).where(Thread.id.in_(part))).all())
        for thread_id, theme_id, title in db.session.execute(
            sa.select(DemandEntry.thread_id, DemandEntry.theme_id, DemandEntry.title).where(
                DemandEntry.thread_id.in_(part)
            )
        ):
            normalised[(thread_id, theme_id)] = title
    groups = []
    for figure in chosen:
        members = [item.split(":") for item in figure.members.split(",")]
        first = firsts[(figure.theme_id, figure.leader_id)]
        groups.append(
            {
                "theme": _theme_entry(theme_rows.get(figure.theme_id)),
                "title": titles[first],
                "normalised_title": normalised[(first, figure.theme_id)],
                "thread_ids": sorted(int(thread_id) for thread_id, _, _ in members),
                "threads": figure.threads,
                "votes": int(figure.votes),
                "territories": sorted({territory for _, territory, _ in members if territory}),
                "by_kind": {kind: sum(1 for _, _, k in members if k == kind) for kind in DEMAND_KINDS},
            }
        )
    return groups, len(figures)


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


REPORT_STEPS = 7


def headline(scope: Scope, *, now: datetime | None = None, cells: Sequence[Cell] | None = None) -> dict:
    """What the first screen of the dashboard shows, and every report begins with: the scope, the totals
    against the previous period, the threads by month and by use case. `cells`: `scope_cells(scope, now)`
    when the caller has them."""
    now = now or utcnow()
    current = volumes(scope, cells)
    previous_scope = scope.previous()
    previous = None
    if previous_scope is not None:
        previous_totals = volumes(previous_scope)
        previous = {
            "from": previous_scope.date_from.isoformat() if previous_scope.date_from else None,
            "to": previous_scope.date_to.isoformat() if previous_scope.date_to else None,
            "totals": {k: v for k, v in previous_totals.items() if k not in ("first_received", "last_received")},
        }
    first_received, last_received = current.pop("first_received"), current.pop("last_received")
    monthly, use_cases = by_month_and_use_case(scope, first_received, last_received)
    return {
        "scope": describe_scope(scope),
        "as_of": now.isoformat(),
        "totals": current,
        "previous_period": previous,
        "by_month": monthly,
        "demand": {"use_cases": use_cases},
    }


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

    cells = step(scope_cells(scope, now))  # read once: the totals, the producers and the quality sum it
    first = step(headline(scope, now=now, cells=cells))
    data = {
        "scope": first["scope"],
        "as_of": first["as_of"],
        "totals": first["totals"],
        "previous_period": first["previous_period"],
        "by_month": first["by_month"],
        "producers": step(producers(scope, now, cells=cells)),
        "quality": step(quality(scope, cells=cells)),
        "datasets": step(most_reported_datasets(scope, top_datasets)),
        "demand": {
            "by_theme_territory": step(demand_by_theme_and_territory(scope)),
            "use_cases": first["demand"]["use_cases"],
        },
        "demand_groups": step(similar_request_groups(scope)),
    }
    data["recommendations"] = draft_recommendations(scope, data, overdue=late_request_condition(now))
    return data
