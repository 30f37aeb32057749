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


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class ProducerCounts(NamedTuple):
    received: int = 0
    answered: int = 0
    resolved: int = 0
    declined: int = 0
    data_requests: int = 0
    overdue: int = 0
    datagouv_days: float = 0.0  # the sum of data.gouv.fr's capped days over the threads received


def producers(
    scope: Scope, now: datetime | None = None, *, quality_counts: dict[int | None, Counter] | None = None
) -> list[dict]:
    """One entry per producer that received threads in the scope (and each producer the scope names).

    Received, answered (a response of the producer, or its closing the thread: `threads.answers`), the median
    and 90th percentile of working days from its receipt to its first response, resolved, declined (per
    reason), overdue data requests (R124-1), data.gouv.fr's mean days to an answer, and the quality issues by
    category and motif. The delays are those each thread keeps (`answers.response_delays`)."""
    now = now or utcnow()
    condition = sa.and_(scope.condition(), Thread.organisation_id.is_not(None))
    counts = _producer_counts(condition, now)
    declines = _declines(condition)
    working_days = _working_days(condition)
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
            working_days.get(organisation.id, []),
            quality_counts.get(organisation.id, Counter()),
        )
        for organisation in organisations
    ]
    entries.sort(key=lambda e: (-e["received"], normalise(e["name"]), e["slug"]))
    return entries


def _datagouv_days():
    """SQL: one thread's part of data.gouv.fr's indicator, from its kept delay: calendar days to its
    producer's first response, at most 30; 30 when there is none."""
    days, cap = Thread.response_days, float(DATAGOUV_DELAY_CAP_DAYS)
    return sa.case((days.is_(None), cap), (days > cap, cap), (days < 0, 0.0), else_=days)


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
            sa.func.sum(_datagouv_days()),
        )
        .where(condition)
        .group_by(Thread.organisation_id)
    )
    return {
        organisation_id: ProducerCounts(received, answered, resolved, declined, requests, overdue, float(days or 0))
        for organisation_id, received, answered, resolved, declined, requests, overdue, days in rows
    }


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


def _working_days(condition) -> dict[int | None, list[int]]:
    """Per producer, the working days from receipt to first response of its answered threads, in order:
    read as a count per number of days (one grouped query), a few rows whatever the threads."""
    found: dict[int | None, list[int]] = defaultdict(list)
    for organisation_id, days, count in db.session.execute(
        sa.select(Thread.organisation_id, Thread.response_working_days, sa.func.count())
        .where(condition, Thread.response_working_days.is_not(None))
        .group_by(Thread.organisation_id, Thread.response_working_days)
        .order_by(Thread.organisation_id, Thread.response_working_days)
    ):
        if days is not None:  # the query leaves them out; the test tells the type checker
            found[organisation_id].extend([days] * count)
    return found


def _producer_entry(organisation, counts: ProducerCounts, declines: dict[str, int], working: list[int], quality):
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
        "datagouv_mean_answer_days": round(counts.datagouv_days / counts.received, 2) if counts.received else None,
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
    for theme_id, territory_code, kind, count in db.session.execute(
        _demand_entries(scope)
        .add_columns(DemandEntry.theme_id, Thread.territory_code, Thread.kind, sa.func.count())
        .group_by(DemandEntry.theme_id, Thread.territory_code, Thread.kind)
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


def similar_request_groups(scope: Scope) -> list[dict]:
    """The groups of similar data requests and missing-data reports (`demand`) with two threads or more in
    the scope, largest first (then most supported, by theme, first received). Each with the ids of its
    threads in the scope, their votes (summed), territories and kinds; its title is that of its first thread
    in the scope."""
    return similar_request_groups_page(scope)[0]


def similar_request_groups_page(scope: Scope, offset: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
    """The `limit` groups of `similar_request_groups` from `offset` (all when None), and how many there are."""
    figures = [
        GroupFigures(*row)
        for row in db.session.execute(
            _demand_entries(scope)
            .add_columns(
                DemandEntry.theme_id,
                DemandEntry.leader_id,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(Thread.votes_count), 0),
                sa.func.min(Thread.created_at),
                sa.func.min(Thread.id),
            )
            .group_by(DemandEntry.theme_id, DemandEntry.leader_id)
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
    members: dict[tuple[int | None, int], list] = defaultdict(list)
    leaders = [f.leader_id for f in chosen]
    member_rows = _demand_entries(scope).add_columns(
        DemandEntry.theme_id,
        DemandEntry.leader_id,
        DemandEntry.title.label("normalised_title"),
        Thread.id,
        Thread.title,
        Thread.territory_code,
        Thread.kind,
        Thread.created_at,
    )
    if len(leaders) <= 1000:
        member_rows = member_rows.where(DemandEntry.leader_id.in_(leaders))
    wanted = {(f.theme_id, f.leader_id) for f in chosen}
    for row in db.session.execute(member_rows):
        if (row.theme_id, row.leader_id) in wanted:
            members[(row.theme_id, row.leader_id)].append(row)
    groups = []
    for figure in chosen:
        rows = sorted(members[(figure.theme_id, figure.leader_id)], key=lambda r: (r.created_at, r.id))
        groups.append(
            {
                "theme": _theme_entry(theme_rows.get(figure.theme_id)),
                "title": rows[0].title,
                "normalised_title": rows[0].normalised_title,
                "thread_ids": sorted(r.id for r in rows),
                "threads": figure.threads,
                "votes": int(figure.votes),
                "territories": sorted({r.territory_code for r in rows if r.territory_code}),
                "by_kind": {kind: sum(1 for r in rows if r.kind == kind) for kind in DEMAND_KINDS},
            }
        )
    return groups, len(figures)


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
    groups_page: tuple[int, int] | None = None,
) -> dict:
    """Every indicator of `scope`, as a dict ready for JSON. `now`: the instant "overdue" is judged at.
    `progress` is called after each of the REPORT_STEPS steps. With `groups_page` (offset, limit), as the
    dashboard asks: only those groups of similar requests (their number in `demand_groups_total`), and no
    recommendations (they read every group)."""
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
    # Read once, used twice: the quality issues per producer and category.
    quality_counts = _quality_counts(scope)
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
            "by_theme_territory": step(demand_by_theme_and_territory(scope)),
            "use_cases": use_cases(scope),
        },
    }
    groups, data["demand_groups_total"] = step(similar_request_groups_page(scope, *(groups_page or (0, None))))
    data["demand_groups"] = groups
    if groups_page is None:
        data["recommendations"] = draft_recommendations(scope, data, overdue=late_request_condition(now))
        del data["demand_groups_total"]
    return data
