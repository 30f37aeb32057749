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
from feedback.capitalisation.demand import DEMAND_KINDS
from feedback.capitalisation.indicators import late_request_condition
from feedback.capitalisation.models import DemandEntry
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Theme
from feedback.extensions import db
from feedback.threads.models import Thread, ThreadKind
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


def figure_thread_ids(
    scope: Scope,
    now: datetime,
    *,
    producers: list[str] | None = None,
    datasets: list[str] | None = None,
    categories: list[str] | None = None,
    demand_cells: list[tuple[str | None, str | None]] | None = None,
) -> FigureThreads:
    """The threads of the figures that the list's filters cannot say, by figure, in four queries: quality
    issues by producer and category, by category and by dataset, overdue data requests by producer (R124-1,
    as the indicators count them), demand by theme × territory. Each can be narrowed to the figures a page
    shows (producer slugs, catalogue ids, categories, theme × territory keys as `views.demand_key`), so that
    a national scope does not name every thread it counts; None: all."""
    quality_cells: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    quality_categories: dict[str, list[int]] = defaultdict(list)
    datasets_ids: dict[str, list[int]] = defaultdict(list)
    quality = sa.and_(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value)
    wanted = [
        sa.true() if producers is None else Organisation.slug.in_(producers),
        sa.true() if datasets is None else Dataset.catalogue_id.in_(datasets),
        sa.true() if categories is None else sa.func.coalesce(Thread.quality_category, "other").in_(categories),
    ]
    for thread_id, slug, category, catalogue_id in db.session.execute(
        sa.select(Thread.id, Organisation.slug, Thread.quality_category, Dataset.catalogue_id)
        .outerjoin(Organisation, Organisation.id == Thread.organisation_id)
        .outerjoin(Dataset, Dataset.id == Thread.dataset_id)
        .where(quality, sa.or_(*wanted))
    ):
        if producers is None or slug in producers:
            quality_cells[(slug, category or "other")].append(thread_id)
        if categories is None or (category or "other") in categories:
            quality_categories[category or "other"].append(thread_id)
        if catalogue_id and (datasets is None or catalogue_id in datasets):
            datasets_ids[catalogue_id].append(thread_id)

    overdue: dict[str, list[int]] = defaultdict(list)
    for thread_id, slug in db.session.execute(
        sa.select(Thread.id, Organisation.slug)
        .join(Organisation, Organisation.id == Thread.organisation_id)
        .where(
            scope.condition(),
            late_request_condition(now),
            sa.true() if producers is None else Organisation.slug.in_(producers),
        )
    ):
        overdue[slug].append(thread_id)

    demand: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    if demand_cells is None or demand_cells:
        cell_conditions = [
            sa.and_(
                sa.and_(Theme.scheme == theme.split(":")[0], Theme.code == theme.split(":", 1)[1])
                if theme
                else DemandEntry.theme_id.is_(None),
                Thread.territory_code == territory if territory else Thread.territory_code.is_(None),
            )
            for theme, territory in demand_cells or ()
        ]
        for thread_id, scheme, code, territory in db.session.execute(
            sa.select(Thread.id, Theme.scheme, Theme.code, Thread.territory_code)
            .select_from(DemandEntry)
            .join(Thread, Thread.id == DemandEntry.thread_id)
            .outerjoin(Theme, Theme.id == DemandEntry.theme_id)
            .where(
                scope.condition(),
                Thread.kind.in_(DEMAND_KINDS),
                sa.or_(*cell_conditions) if cell_conditions else sa.true(),
            )
        ):
            demand[(f"{scheme}:{code}" if code else None, territory)].append(thread_id)
    return FigureThreads(
        quality_cells=quality_cells,
        quality_categories=quality_categories,
        datasets=datasets_ids,
        overdue=overdue,
        demand=demand,
    )


def _any(conditions: list):
    return sa.or_(*conditions) if conditions else sa.true()


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
