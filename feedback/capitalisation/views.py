"""The capitalisation dashboard, /capitalisation: the indicators over a scope chosen with filters.

Every count links to the threads behind it on /threads. A count whose threads the list's own filters can
say (period, kind, status, producer, use case) links with them; one they cannot (a quality category, a
theme × territory cell, overdue per R124-1, several values of a filter, a theme or territory filter, or
restricted threads the visitor would see there but the scope leaves out) links with the ids of its threads,
when they are few enough for a link (`MAX_THREAD_IDS`); otherwise it is shown without a link.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from feedback.accounts.models import Organisation
from feedback.capitalisation.exports import KINDS, STATUSES, USE_CASES
from feedback.capitalisation.forms import ScopeForm
from feedback.capitalisation.indicators import DEMAND_KINDS, build_report_data, late_request_condition
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Theme, dataset_theme
from feedback.database import utcnow
from feedback.extensions import db
from feedback.htmx import add_vary_header, is_partial_request
from feedback.threads.models import Thread, ThreadKind, Visibility, thread_theme
from feedback.threads.queries import MAX_THREAD_IDS, visible_condition
from feedback.threads.taxonomy import CATEGORIES_BY_CODE

blueprint = Blueprint("capitalisation", __name__)

# The groups of similar requests a page lists, largest first: a national scope has thousands; the exports of
# a report give them all.
SHOWN_DEMAND_GROUPS = 50


@blueprint.app_context_processor
def capitalisation_constants():
    return {"shown_groups": SHOWN_DEMAND_GROUPS}


THREADS_ENDPOINT = "threads.list_threads"
REPORT_ENDPOINT = "reports.new"


def may_include_restricted(user) -> bool:
    """Restricted threads may be counted for the curators only: their figures are internal."""
    return bool(user is not None and user.is_authenticated and user.is_curator)


@blueprint.get("/capitalisation")
def dashboard():
    form = ScopeForm()
    form.validate()
    curator = may_include_restricted(current_user)
    scope = form.to_scope(allow_restricted=curator)
    now = utcnow()
    data = build_report_data(scope, now=now)
    slugs = {organisation_id: slug for slug, organisation_id in form.producer_ids().items()}
    links = ThreadLinks(scope, slugs, current_user)
    context = dict(
        form=form,
        data=data,
        links=links,
        ids=figure_thread_ids(scope, now),
        curator=curator,
        labels={
            "kinds": KINDS,
            "statuses": STATUSES,
            "use_cases": USE_CASES,
            "categories": {code: category.label for code, category in CATEGORIES_BY_CODE.items()},
        },
        report_url=_report_url(form) if curator else None,
        scope=scope,
        as_of=now,
        demand_key=demand_key,
        month_period=month_period,
    )
    if is_partial_request():
        response = current_app.make_response(render_block("capitalisation/dashboard.html", "results", **context))
    else:
        form.fill_choices()
        response = current_app.make_response(render_template("capitalisation/dashboard.html", **context))
    return add_vary_header(response)


def _report_url(form: ScopeForm) -> str | None:
    """The new report of these filters, once the reports pages offer one."""
    if REPORT_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(REPORT_ENDPOINT, **form.query_args())


# Links to the threads behind a figure -----------------------------------------------------------------


class ThreadLinks:
    """Builds the /threads link of a figure: the scope's criteria plus the figure's own."""

    def __init__(self, scope: Scope, producer_slugs: dict[int, str], user):
        self.scope = scope
        self.producer_slugs = producer_slugs
        self.user = user
        self._scope_ids: tuple[int, ...] | bool | None = False  # False: not looked up yet
        self._hidden_restricted: bool | None = None

    def threads(
        self,
        *,
        kind: str | None = None,
        producer: str | None = None,
        use_case: str | None = None,
        status: str | None = None,
        state: str | None = None,
        period: tuple[date | None, date | None] | None = None,
        allow_ids: bool = True,
    ) -> str | None:
        """The link of the scope's threads that also have `kind`, `producer` (slug)… and, with `period`, were
        received within it (a part of the scope's period); None when no link can list exactly them."""
        start, end = period or (self.scope.date_from, self.scope.date_to)
        args: dict = {"du": start.isoformat() if start else None, "au": end.isoformat() if end else None}
        by_ids = bool(self.scope.theme_codes or self.scope.territory_codes) or self._hides_restricted()
        single = {
            "type": (kind, self.scope.kinds),
            "producteur": (producer, tuple(self.producer_slugs.get(i, "") for i in self.scope.producer_ids)),
            "usage": (use_case, self.scope.use_cases),
        }
        for name, (value, scoped) in single.items():
            if value is not None:
                args[name] = value
            elif len(scoped) == 1:
                args[name] = scoped[0]
            elif len(scoped) > 1:
                by_ids = True
        if by_ids:
            ids = self._ids_of_scope() if allow_ids else None
            if not ids:
                return None
            args["fils"] = ",".join(map(str, ids))
        args["statut"], args["etat"] = status, state
        return url_for(THREADS_ENDPOINT, **{key: value for key, value in args.items() if value})

    def previous(self, previous: dict, **criteria) -> str | None:
        """The link of a figure of the previous period, when the list's filters can say it (the ids at hand
        are those of the current period)."""
        period = (date.fromisoformat(previous["from"]), date.fromisoformat(previous["to"]))
        return self.threads(period=period, allow_ids=False, **criteria)

    @staticmethod
    def of_ids(ids) -> str | None:
        """The link of threads named one by one: a group of similar requests, a dataset's issues…"""
        ids = sorted(set(ids or ()))
        if not ids or len(ids) > MAX_THREAD_IDS:
            return None
        return url_for(THREADS_ENDPOINT, fils=",".join(map(str, ids)))

    def _hides_restricted(self) -> bool:
        """Whether /threads would show this visitor restricted threads of the period that the scope leaves
        out (a producer's own, or any for a curator who did not ask for them): one EXISTS query."""
        if self._hidden_restricted is None:
            self._hidden_restricted = False
            if not self.scope.include_restricted and self.user is not None and self.user.is_authenticated:
                previous = self.scope.previous()
                widened = replace(self.scope, include_restricted=True, date_from=(previous or self.scope).date_from)
                self._hidden_restricted = bool(
                    db.session.scalar(
                        sa.select(
                            sa.exists().where(
                                widened.condition(),
                                Thread.visibility != Visibility.PUBLIC.value,
                                visible_condition(self.user),
                            )
                        )
                    )
                )
        return self._hidden_restricted

    def _ids_of_scope(self) -> tuple[int, ...] | None:
        """The ids of the scope's threads, or None when they are too many for a link (one query)."""
        if self._scope_ids is False:
            ids = tuple(
                db.session.scalars(
                    sa.select(Thread.id).where(self.scope.condition()).order_by(Thread.id).limit(MAX_THREAD_IDS + 1)
                )
            )
            self._scope_ids = ids if len(ids) <= MAX_THREAD_IDS else None
        return self._scope_ids


def month_period(scope: Scope, month: str) -> tuple[date, date]:
    """A month of the chart (`2025-04`) as a period, cut to the scope's own."""
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if scope.date_from and scope.date_from > first:
        first = scope.date_from
    if scope.date_to and scope.date_to < last:
        last = scope.date_to
    return first, last


def figure_thread_ids(scope: Scope, now) -> dict:
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
    demand: dict[tuple, list[int]] = defaultdict(list)
    for thread_id, scheme, code, territory in db.session.execute(
        sa.select(Thread.id, Theme.scheme, Theme.code, Thread.territory_code)
        .select_from(Thread)
        .outerjoin(themes, themes.c.thread_id == Thread.id)
        .outerjoin(Theme, Theme.id == themes.c.theme_id)
        .where(condition)
    ):
        demand[(f"{scheme}:{code}" if code else None, territory)].append(thread_id)
    return {
        "quality_cells": quality_cells,
        "quality_categories": quality_categories,
        "datasets": datasets,
        "overdue": overdue,
        "demand": demand,
    }


def demand_key(cell: dict) -> tuple:
    """The key of a theme × territory cell of the indicators in `figure_thread_ids()['demand']`."""
    theme = cell["theme"]
    return (
        f"{theme['scheme']}:{theme['code']}" if theme else None,
        cell["territory"]["code"] if cell["territory"] else None,
    )
