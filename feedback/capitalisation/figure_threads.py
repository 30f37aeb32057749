"""The threads behind the dashboard's figures, for the links that lead from a number to its threads.

The indicators count; these queries name the threads counted, for the figures that the filters of /threads
cannot say by themselves (a quality category, a theme × territory cell, overdue per R124-1), and the whole
scope's threads when they are few enough to be named in a link. Each names only the threads of the figures a
table shows (a page of it), so that a national scope does not name every thread it counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
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
    """Thread ids by figure, for the figures a table shows: quality issues by (producer slug, category) and by
    category, by dataset (catalogue id), overdue data requests by producer slug, demand by (theme
    "scheme:code", territory code). A table fills what it shows; the rest stays empty."""

    quality_cells: dict[tuple[str | None, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    quality_categories: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    datasets: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    overdue: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    demand: dict[tuple[str | None, str | None], list[int]] = field(default_factory=lambda: defaultdict(list))


def quality_thread_ids(
    scope: Scope, found: FigureThreads, *, producers: list[str], datasets: list[str], categories: list[str]
) -> None:
    """The quality issues of these producers (slugs) by category, of these datasets (catalogue ids), and of
    these categories, into `found`: one query."""
    wanted = [
        Organisation.slug.in_(producers),
        Dataset.catalogue_id.in_(datasets),
        sa.func.coalesce(Thread.quality_category, "other").in_(categories),
    ]
    for thread_id, slug, category, catalogue_id in db.session.execute(
        sa.select(Thread.id, Organisation.slug, Thread.quality_category, Dataset.catalogue_id)
        .outerjoin(Organisation, Organisation.id == Thread.organisation_id)
        .outerjoin(Dataset, Dataset.id == Thread.dataset_id)
        .where(scope.condition(), Thread.kind == ThreadKind.QUALITY_ISSUE.value, sa.or_(*wanted))
    ):
        if slug in producers:
            found.quality_cells[(slug, category or "other")].append(thread_id)
        if (category or "other") in categories:
            found.quality_categories[category or "other"].append(thread_id)
        if catalogue_id in datasets:
            found.datasets[catalogue_id].append(thread_id)


def overdue_thread_ids(scope: Scope, now: datetime, found: FigureThreads, *, producers: list[str]) -> None:
    """The overdue data requests of these producers (R124-1, as the indicators count them), into `found`."""
    for thread_id, slug in db.session.execute(
        sa.select(Thread.id, Organisation.slug)
        .join(Organisation, Organisation.id == Thread.organisation_id)
        .where(scope.condition(), late_request_condition(now), Organisation.slug.in_(producers))
    ):
        found.overdue[slug].append(thread_id)


def demand_thread_ids(scope: Scope, found: FigureThreads, *, cells: list[tuple[str | None, str | None]]) -> None:
    """The data requests and missing-data reports of these theme × territory cells (keys as
    `views.demand_key`), into `found`: one query, none without cells."""
    if not cells:
        return
    conditions = [
        sa.and_(
            sa.and_(Theme.scheme == theme.split(":")[0], Theme.code == theme.split(":", 1)[1])
            if theme
            else DemandEntry.theme_id.is_(None),
            Thread.territory_code == territory if territory else Thread.territory_code.is_(None),
        )
        for theme, territory in cells
    ]
    for thread_id, scheme, code, territory in db.session.execute(
        sa.select(Thread.id, Theme.scheme, Theme.code, Thread.territory_code)
        .select_from(DemandEntry)
        .join(Thread, Thread.id == DemandEntry.thread_id)
        .outerjoin(Theme, Theme.id == DemandEntry.theme_id)
        .where(scope.condition(), Thread.kind.in_(DEMAND_KINDS), sa.or_(*conditions))
    ):
        found.demand[(f"{scheme}:{code}" if code else None, territory)].append(thread_id)


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
