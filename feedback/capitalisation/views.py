"""The capitalisation dashboard, /capitalisation: the indicators over a scope chosen with filters.

Every count links to the threads behind it on /threads. A count whose threads the list's own filters can
say (period, kind, status, producer, use case) links with them; one they cannot (a quality category, a
theme × territory cell, overdue per R124-1, several values of a filter, a theme or territory filter, or
restricted threads the visitor would see there but the scope leaves out) links with the ids of its threads,
when they are few enough for a link (`MAX_THREAD_IDS`); otherwise it is shown without a link.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from feedback.capitalisation.exports import KINDS, STATUSES, USE_CASES
from feedback.capitalisation.figure_threads import (
    FigureThreads,
    demand_thread_ids,
    hides_restricted,
    overdue_thread_ids,
    quality_thread_ids,
    scope_thread_ids,
)
from feedback.capitalisation.forms import ScopeForm
from feedback.capitalisation.indicators import (
    demand_by_theme_and_territory,
    headline,
    most_reported_datasets,
    producers,
    quality,
    scope_cells,
    similar_request_groups_page,
)
from feedback.capitalisation.scope import Scope
from feedback.database import utcnow
from feedback.htmx import add_vary_header, is_partial_request
from feedback.pagination import Page, page_number
from feedback.threads.queries import MAX_THREAD_IDS
from feedback.threads.taxonomy import CATEGORIES_BY_CODE

blueprint = Blueprint("capitalisation", __name__)

# The first screen carries the headline figures and charts; the long tables (producers, quality, theme ×
# territory, similar requests) each have a page of their own, which the dashboard loads into its place as it
# is scrolled to (htmx) and links to (without JavaScript), TABLE_PAGE_SIZE rows at a time: a national scope
# has about a hundred producers, thousands of cells and of groups. The exports of a report give them whole.
TABLE_PAGE_SIZE = 25
# The table pages: URL segment → (section id, title).
TABLES = {
    "services": ("producers", "Services producteurs"),
    "qualite": ("quality", "Qualité des données"),
    "demande": ("demand", "Demande : thèmes et territoires"),
    "demandes-similaires": ("groups", "Demandes similaires"),
}


THREADS_ENDPOINT = "threads.list_threads"
REPORT_ENDPOINT = "reports.new"


def may_include_restricted(user) -> bool:
    """Restricted threads may be counted for the curators only: their figures are internal."""
    return bool(user is not None and user.is_authenticated and user.is_curator)


def _scope_context(now) -> dict:
    """What every page of the dashboard shares: the filters read from the query, the scope they make, the
    links to the threads behind a figure, the labels."""
    form = ScopeForm()
    form.validate()
    curator = may_include_restricted(current_user)
    scope = form.to_scope(allow_restricted=curator)
    slugs = {organisation_id: slug for slug, organisation_id in form.producer_ids().items()}
    return dict(
        form=form,
        curator=curator,
        scope=scope,
        links=ThreadLinks(scope, slugs, current_user),
        ids=FigureThreads(),
        labels={
            "kinds": KINDS,
            "statuses": STATUSES,
            "use_cases": USE_CASES,
            "categories": {code: category.label for code, category in CATEGORIES_BY_CODE.items()},
        },
        as_of=now,
        demand_key=demand_key,
        month_period=month_period,
        table_urls={section: url_for("capitalisation.table", table=name, **form.query_args())
                    for name, (section, _) in TABLES.items()},
    )  # fmt: skip


@blueprint.get("/capitalisation")
def dashboard():
    now = utcnow()
    context = _scope_context(now)
    scope, form = context["scope"], context["form"]
    context.update(data=headline(scope, now=now), report_url=_report_url(form) if context["curator"] else None)
    if is_partial_request():
        response = current_app.make_response(render_block("capitalisation/dashboard.html", "results", **context))
    else:
        form.fill_choices()
        response = current_app.make_response(render_template("capitalisation/dashboard.html", **context))
    return add_vary_header(response)


@blueprint.get('/capitalisation/<any(services, qualite, demande, "demandes-similaires"):table>')
def table(table: str):
    """One long table of the dashboard, a page at a time: alone (a page of its own, without JavaScript) or
    as the fragment the dashboard loads into its place."""
    now = utcnow()
    context = _scope_context(now)
    scope, ids = context["scope"], context["ids"]
    number = page_number(request.args.get("page"))
    section, title = TABLES[table]
    if section == "producers":
        page = _page(producers(scope, now), number)
        overdue_thread_ids(scope, now, ids, producers=[p["slug"] for p in page.items])
        context.update(page=page)
    elif section == "quality":
        cells = scope_cells(scope, now)  # read once for the totals and the producers' columns
        found = quality(scope, cells=cells)
        with_issues = [p for p in producers(scope, now, cells=cells) if p["quality_by_category"]]
        page = _page(with_issues, number)
        datasets = most_reported_datasets(scope)
        quality_thread_ids(
            scope,
            ids,
            producers=[p["slug"] for p in page.items],
            datasets=[d["catalogue_id"] for d in datasets],
            categories=[c for c, total in found["by_category"].items() if total <= MAX_THREAD_IDS],
        )
        context.update(page=page, quality=found, datasets=datasets)
    elif section == "demand":
        page = _page(demand_by_theme_and_territory(scope), number)
        demand_thread_ids(scope, ids, cells=[demand_key(c) for c in page.items if c["total"] <= MAX_THREAD_IDS])
        context.update(page=page)
    else:
        groups, total = similar_request_groups_page(scope, (number - 1) * TABLE_PAGE_SIZE, TABLE_PAGE_SIZE)
        if not groups and total:  # past the end: the last page
            number = -(-total // TABLE_PAGE_SIZE)
            groups, total = similar_request_groups_page(scope, (number - 1) * TABLE_PAGE_SIZE, TABLE_PAGE_SIZE)
        context.update(page=Page(groups, total, number, TABLE_PAGE_SIZE))
    context.update(
        table=section,
        title=title,
        dashboard_url=url_for("capitalisation.dashboard", **context["form"].query_args()),
        # Loaded or paged in the dashboard's place (any htmx request): a heading level below its results'.
        in_dashboard=bool(request.headers.get("HX-Request")),
    )
    if is_partial_request():
        response = current_app.make_response(render_block("capitalisation/table.html", "table", **context))
    else:
        response = current_app.make_response(render_template("capitalisation/table.html", **context))
    return add_vary_header(response)


def _page(items: list, number: int) -> Page:
    """One page of a table of the dashboard (a number past the end: the last page)."""
    number = min(number, max(1, -(-len(items) // TABLE_PAGE_SIZE)))
    start = (number - 1) * TABLE_PAGE_SIZE
    return Page(items[start : start + TABLE_PAGE_SIZE], len(items), number, TABLE_PAGE_SIZE)


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
        by_ids = bool(self.scope.theme_codes or self.scope.territory_codes) or self._hides_restricted
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
            ids = self._scope_ids if allow_ids else None
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

    @cached_property
    def _hides_restricted(self) -> bool:
        return hides_restricted(self.scope, self.user)

    @cached_property
    def _scope_ids(self) -> tuple[int, ...] | None:
        """The ids of the scope's threads, or None when they are too many for a link."""
        return scope_thread_ids(self.scope, MAX_THREAD_IDS)


def month_period(scope: Scope, month: str) -> tuple[date, date]:
    """A month of the chart (`2025-04`) as a period, cut to the scope's own."""
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if scope.date_from and scope.date_from > first:
        first = scope.date_from
    if scope.date_to and scope.date_to < last:
        last = scope.date_to
    return first, last


def demand_key(cell: dict) -> tuple:
    """The key of a theme × territory cell of the indicators in `FigureThreads.demand`."""
    theme = cell["theme"]
    return (
        f"{theme['scheme']}:{theme['code']}" if theme else None,
        cell["territory"]["code"] if cell["territory"] else None,
    )
