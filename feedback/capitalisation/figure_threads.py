"""The threads behind the dashboard's figures, for the links that lead from a number to its threads.

The indicators count; these queries name the threads counted, for the figures that the filters of /threads
cannot say by themselves (a quality category, a theme × territory cell, overdue per R124-1), and the whole
scope's threads when they are few enough to be named in a link.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from feedback.accounts.models import Organisation
from feedback.capitalisation.indicators import DEMAND_KINDS, late_request_condition
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Theme, dataset_theme
from feedback.extensions import db
from feedback.threads.models import Thread, ThreadKind, thread_theme
from feedback.threads.workflow import visible_threads


@dataclass
class FigureThreads:
    """Thread ids by figure: quality issues by (producer slug, category) and by category, by dataset
    (catalogue id), overdue data requests by producer slug, demand by (theme "scheme:code", territory code)."""

    quality_cells: dict[tuple[str | None, str], list[int]]
    quality_categories: dict[str, list[int]]
    datasets: dict[str, list[int]]
    overdue: dict[str, list[int]]
    demand: dict[tuple[str | None, str | None], list[int]]


def figure_thread_ids(scope: Scope, now: datetime) -> FigureThreads:
    """The threads of the figures that the list's filters cannot say, by figure, in three queries: quality
    issues by producer and category and by dataset, overdue data requests by producer (R124-1, as the
    indicators count them), demand by theme × territory."""
    quality_cells: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    quality_categories: dict[str, list[int]] = defaultdict(list)
    datasets: dict[str, list[int]] = defaultdict(list)
    for thread_id, slug, category, catalogue_id in db.session.execute(
        sa.select(Thread.id, Organisation.slug, Thread.quality_category, Dataset.catalogue_id)
        .outerjoin(Organisation, Organisation.id == Thread.organisation_id)
        .outerjoin(Dataset, Dataset.id == Thread.dataset_id)
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value)
    ):
        quality_cells[(slug, category or "other")].append(thread_id)
        quality_categories[category or "other"].append(thread_id)
        if catalogue_id:
            datasets[catalogue_id].append(thread_id)

    overdue: dict[str, list[int]] = defaultdict(list)
    for thread_id, slug in db.session.execute(
        sa.select(Thread.id, Organisation.slug)
        .join(Organisation, Organisation.id == Thread.organisation_id)
        .where(scope.condition(), late_request_condition(now))
    ):
        overdue[slug].append(thread_id)

    condition = sa.and_(scope.condition(), Thread.kind.in_(DEMAND_KINDS))
    own = sa.select(thread_theme.c.thread_id.label("thread_id"), thread_theme.c.theme_id.label("theme_id"))
    of_dataset = sa.select(Thread.id.label("thread_id"), dataset_theme.c.theme_id.label("theme_id")).join(
        dataset_theme, dataset_theme.c.dataset_id == Thread.dataset_id
    )
    themes = sa.union(own, of_dataset).subquery()
    demand: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for thread_id, scheme, code, territory in db.session.execute(
        sa.select(Thread.id, Theme.scheme, Theme.code, Thread.territory_code)
        .select_from(Thread)
        .outerjoin(themes, themes.c.thread_id == Thread.id)
        .outerjoin(Theme, Theme.id == themes.c.theme_id)
        .where(condition)
    ):
        demand[(f"{scheme}:{code}" if code else None, territory)].append(thread_id)
    return FigureThreads(
        quality_cells=quality_cells,
        quality_categories=quality_categories,
        datasets=datasets,
        overdue=overdue,
        demand=demand,
    )


def scope_thread_ids(scope: Scope, limit: int) -> tuple[int, ...] | None:
    """The ids of the scope's threads, or None when there are more than `limit` (one query)."""
    ids = tuple(db.session.scalars(sa.select(Thread.id).where(scope.condition()).order_by(Thread.id).limit(limit + 1)))
    return ids if len(ids) <= limit else None


def hides_restricted(scope: Scope, user) -> bool:
    """Whether /threads would show `user` restricted threads of the scope's period (and the previous one)
    that the scope leaves out — a producer's own, or any for a curator who did not ask for them: one EXISTS
    query."""
    if scope.include_restricted or user is None or not user.is_authenticated:
        return False
    previous = scope.previous()
    widened = replace(scope, include_restricted=True, date_from=(previous or scope).date_from)
    return bool(
        db.session.scalar(
            sa.select(sa.exists().where(widened.condition(), sa.not_(visible_threads(None)), visible_threads(user)))
        )
    )
