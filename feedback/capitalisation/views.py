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

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from feedback.capitalisation.exports import KINDS, STATUSES, USE_CASES
from feedback.capitalisation.figure_threads import figure_thread_ids, hides_restricted, scope_thread_ids
from feedback.capitalisation.forms import ScopeForm
from feedback.capitalisation.indicators import build_report_data
from feedback.capitalisation.scope import Scope
from feedback.database import utcnow
from feedback.htmx import add_vary_header, is_partial_request
from feedback.threads.queries import MAX_THREAD_IDS
from feedback.threads.taxonomy import CATEGORIES_BY_CODE

blueprint = Blueprint("capitalisation", __name__)

# The groups of similar requests a page lists, largest first: a national scope has thousands; the exports of
# a report give them all.
SHOWN_DEMAND_GROUPS = 50


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
        shown_groups=SHOWN_DEMAND_GROUPS,
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
    """The key of a theme × territory cell of the indicators in `figure_thread_ids()['demand']`."""
    theme = cell["theme"]
    return (
        f"{theme['scheme']}:{theme['code']}" if theme else None,
        cell["territory"]["code"] if cell["territory"] else None,
    )
