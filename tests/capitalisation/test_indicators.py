"""The indicators of a report, each checked against figures computed by hand from the scene of conftest.py.

The whole report is compared with one expected dict written here: the suite runs on SQLite and on
PostgreSQL (TEST_DATABASE_URL), so passing on both proves that both give the same JSON.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import sqlalchemy as sa

from feedback.capitalisation import demand
from feedback.capitalisation.demand import SIMILARITY_THRESHOLD, normalise_title, place_pattern
from feedback.capitalisation.exports import report_json
from feedback.capitalisation.indicators import (
    build_report_data,
    median,
    percentile_90,
    producers,
    similar_request_groups,
    volumes,
)
from feedback.capitalisation.scope import Scope
from feedback.clock import PARIS
from feedback.extensions import db
from feedback.threads.models import Thread
from feedback.threads.workflow import visible_threads

from .conftest import NOW, QUARTER

KINDS = ("data_request", "quality_issue", "missing_data", "question")
STATUSES = ("new", "acknowledged", "needs_info", "in_progress", "resolved", "declined", "duplicate", "withdrawn")
USE_CASES = (
    "pcaet",
    "scot",
    "plu",
    "sraddet",
    "impact_study",
    "environmental_assessment",
    "green_blue_grid",
    "risk_prevention",
    "gemapi",
    "zan",
    "energy_renovation",
    "mobility",
    "other",
)
HY = {"scheme": "inspire", "code": "hy", "label": "Hydrographie"}
NZ = {"scheme": "inspire", "code": "nz", "label": "Zones à risque naturel"}
LC = {"scheme": "inspire", "code": "lc", "label": "Occupation des terres"}


def kinds(**counts) -> dict:
    return {kind: counts.get(kind, 0) for kind in KINDS}


def statuses(**counts) -> dict:
    return {status: counts.get(status, 0) for status in STATUSES}


def expected_report(capi) -> dict:
    t = capi.t
    return {
        "scope": {
            "from": "2025-04-01",
            "to": "2025-06-30",
            "kinds": [],
            "producers": [],
            "themes": [],
            "territories": [],
            "use_cases": [],
            "include_restricted": False,
        },
        "as_of": "2025-07-15T12:00:00+00:00",
        # In the period, public: t12 t8 t14 t1 t2 t3 t4 t11 t9 t6 t7 t10 t15 = 13 threads
        # (t5 is restricted; t0a, t0b are before, t13 after: 1 July in Paris).
        "totals": {
            "threads": 13,
            # Public messages: each thread's first one (13), the producers' answers of t8 t1 t2 t4 t9 t6 (6),
            # the motives of the two refusals t9 t6 (2); t1's internal note does not count: 13 + 6 + 2 = 21.
            "messages": 21,
            "open": 10,  # new 7 + acknowledged 2 + in_progress 1
            "closed": 3,  # resolved t1, declined t9 t6
            "by_kind": kinds(
                data_request=5,  # t14 t1 t2 t6 t15
                quality_issue=2,  # t3 t4
                missing_data=4,  # t8 t11 t9 t7
                question=2,  # t12 t10
            ),
            "by_status": statuses(
                new=7,  # t12 t14 t3 t11 t7 t10 t15
                acknowledged=2,  # t8 t4
                in_progress=1,  # t2
                resolved=1,  # t1
                declined=2,  # t9 t6
            ),
        },
        # 2024-12-31 to 2025-03-31: t0a (10 March), t0b (15 January); t12 is 1 April in Paris.
        "previous_period": {
            "from": "2024-12-31",
            "to": "2025-03-31",
            "totals": {
                "threads": 2,
                "messages": 2,
                "open": 2,
                "closed": 0,
                "by_kind": kinds(quality_issue=1, question=1),
                "by_status": statuses(new=2),
            },
        },
        "by_month": [
            # April: t12 (1 April 00:30 Paris), t8, t14, t1, t2
            {"month": "2025-04", "threads": 5, "by_kind": kinds(data_request=3, missing_data=1, question=1)},
            # May: t3 t4 t11 t9
            {"month": "2025-05", "threads": 4, "by_kind": kinds(quality_issue=2, missing_data=2)},
            # June: t6 t7 t10 t15
            {"month": "2025-06", "threads": 4, "by_kind": kinds(data_request=2, missing_data=1, question=1)},
        ],
        "producers": [
            {
                # P1 received t1 t2 t3 t4 t6 t7 t15 (7), answered t1 t2 t4 t6 (4).
                "slug": "ddt-du-loiret",
                "name": "DDT du Loiret",
                "datagouv_id": capi.p1.datagouv_id,
                "received": 7,
                "answered": 4,
                "answered_share": 0.5714,  # 4 / 7 = 0.571428…
                # Working days to the first answer (the days after receipt that are worked, in Paris):
                # t1 Mon 14 Apr → Wed 23 Apr: 15 16 17 18 Apr, (21 Easter Monday off), 22 23 = 6
                # t2 Mon 28 Apr → Mon 2 Jun: 29 30 Apr, 2 May, 5 6 7, 9, 12-16, 19-23, 26 27 28, 30 May,
                #    2 Jun = 2 + 1 + 3 + 1 + 5 + 5 + 3 + 1 + 1 = 22 (1 May, 8 May, 29 May Ascension off)
                # t4 Tue 6 May → Wed 7 May = 1
                # t6 Mon 2 Jun → Tue 10 Jun: 3 4 5 6 Jun, (9 Whit Monday off), 10 = 5
                # sorted 1 5 6 22: median (5 + 6) / 2 = 5.5; 90th percentile: rank ⌈0.9 × 4⌉ = 4 → 22
                "median_working_days": 5.5,
                "p90_working_days": 22.0,
                "resolved": 1,  # t1
                "declined": 1,  # t6
                "declined_by_reason": {"confidential": 1},
                "data_requests": 4,  # t1 t2 t6 t15
                # t2: due 28 May, answered 2 June. t1, t6 answered in time; t15 due 25 July, after NOW.
                "overdue": 1,
                "overdue_share": 0.25,
                # Calendar days, capped at 30, unanswered = 30:
                # t1 9, t2 35 → 30, t3 30, t4 1, t6 8, t7 30, t15 30 = 138; 138 / 7 = 19.714…
                "datagouv_mean_answer_days": 19.71,
                "quality_by_category": {"dead_link": 1, "outdated": 1},  # t3, t4
                "quality_by_motif": {"Accessibilité": 1, "Actualisation": 1},
            },
            {
                # P2 received t12 t8 t14 t9 t10 (5), answered t8 t9 (2).
                "slug": "ddt-de-la-nievre",
                "name": "DDT de la Nièvre",
                "datagouv_id": capi.p2.datagouv_id,
                "received": 5,
                "answered": 2,
                "answered_share": 0.4,
                # t8 Mon 7 Apr → Tue 8 Apr = 1
                # t9 Tue 20 May → Fri 30 May: 21 22 23, 26 27 28, (29 Ascension off), 30 = 7
                # median (1 + 7) / 2 = 4; 90th percentile: rank ⌈0.9 × 2⌉ = 2 → 7
                "median_working_days": 4.0,
                "p90_working_days": 7.0,
                "resolved": 0,
                "declined": 1,  # t9
                "declined_by_reason": {"not_held": 1},
                "data_requests": 1,  # t14
                "overdue": 1,  # t14: open, due 9 May
                "overdue_share": 1.0,
                # t12 30, t8 1, t14 30, t9 10, t10 30 = 101; 101 / 5 = 20.2
                "datagouv_mean_answer_days": 20.2,
                "quality_by_category": {},
                "quality_by_motif": {},
            },
        ],
        "quality": {
            "by_category": {"dead_link": 1, "outdated": 1},
            "by_motif": {"Accessibilité": 1, "Actualisation": 1},
        },
        "datasets": [
            {
                "catalogue_id": capi.d1.catalogue_id,
                "slug": capi.d1.slug,
                "title": "Zones humides et cours d'eau du Loiret",
                "producer": "ddt-du-loiret",
                "quality_issues": 1,  # t3
                "votes": 1,
                "weight": 2,
                "by_category": {"dead_link": 1},
            },
            {
                "catalogue_id": capi.d2.catalogue_id,
                "slug": capi.d2.slug,
                "title": "Plan de prévention des risques du Loiret",
                "producer": "ddt-du-loiret",
                "quality_issues": 1,  # t4
                "votes": 0,
                "weight": 1,
                "by_category": {"outdated": 1},
            },
        ],
        "demand": {
            # Data requests and missing data by (theme of the thread or of its dataset, territory named):
            "by_theme_territory": [
                # t1, t2 (dataset d1: hy), t7
                {
                    "theme": HY,
                    "territory": {"code": "D45", "name": "Loiret"},
                    "data_request": 2,
                    "missing_data": 1,
                    "total": 3,
                },
                # t8, t9
                {
                    "theme": HY,
                    "territory": {"code": "D58", "name": "Nièvre"},
                    "data_request": 0,
                    "missing_data": 2,
                    "total": 2,
                },
                # t6, t15 (dataset d2: nz)
                {
                    "theme": NZ,
                    "territory": {"code": "D45", "name": "Loiret"},
                    "data_request": 2,
                    "missing_data": 0,
                    "total": 2,
                },
                # t14 (dataset d3: hy), no territory
                {"theme": HY, "territory": None, "data_request": 1, "missing_data": 0, "total": 1},
                # t11
                {
                    "theme": LC,
                    "territory": {"code": "D18", "name": "Cher"},
                    "data_request": 0,
                    "missing_data": 1,
                    "total": 1,
                },
            ],
            "use_cases": {
                "by_use_case": {
                    use_case: {"impact_study": 2, "gemapi": 2, "green_blue_grid": 1}.get(use_case, 0)
                    for use_case in USE_CASES
                },
                "unspecified": 8,  # 13 - 5
            },
        },
        # Within hy: t8 "zones humides" and t7 "zones humides" (place names and "inventaire" taken out)
        # group; t9 "zones inondables" does not (token_set_ratio 69 < 85).
        "demand_groups": [
            {
                "theme": HY,
                "title": "Zones humides de la Nièvre",
                "normalised_title": "zones humides",
                "thread_ids": sorted([t["t8"].id, t["t7"].id]),
                "threads": 2,
                "votes": 2,  # t8 0 + t7 2
                "territories": ["D45", "D58"],
                "by_kind": {"data_request": 0, "missing_data": 2},
            }
        ],
        "recommendations": [],  # see test_report_of_the_quarter_is_the_hand_computed_one
    }


def test_report_of_the_quarter_is_the_hand_computed_one(capi):
    data = build_report_data(QUARTER, now=NOW)
    # The recommendations the rules draft from these figures are checked in test_recommendations.py.
    assert [(r["rule"], r["audience"]) for r in data["recommendations"]] == [
        ("overdue_requests", "ddt-du-loiret"),
        ("similar_requests", None),
    ]
    expected = expected_report(capi) | {"recommendations": data["recommendations"]}
    assert data == expected
    # and it is plain JSON, which reads back as the same dict
    assert json.loads(report_json(data)) == expected


def test_report_counts_a_restricted_request_only_when_asked(capi):
    public = build_report_data(QUARTER, now=NOW)
    internal = build_report_data(replace(QUARTER, include_restricted=True), now=NOW)
    assert public["totals"]["threads"] == 13
    # t5 (restricted data request of P1, received 12 May, unanswered, due 12 June) counts in an internal report:
    assert internal["totals"]["threads"] == 14
    assert internal["totals"]["by_kind"]["data_request"] == 6
    loiret = internal["producers"][0]
    assert (loiret["received"], loiret["data_requests"], loiret["overdue"]) == (8, 5, 2)
    # 138 + 30 = 168; 168 / 8 = 21
    assert loiret["datagouv_mean_answer_days"] == 21.0
    assert internal["by_month"][1] == {
        "month": "2025-05",
        "threads": 5,
        "by_kind": kinds(quality_issue=2, missing_data=2, data_request=1),
    }


def test_period_bounds_are_days_of_paris(capi):
    # t12 was received on 31 March at 22:30 UTC, 1 April at 00:30 in Paris.
    first_of_april = Scope(date_from=date(2025, 4, 1), date_to=date(2025, 4, 1))
    assert volumes(first_of_april)["threads"] == 1
    last_of_march = Scope(date_from=date(2025, 3, 31), date_to=date(2025, 3, 31))
    assert volumes(last_of_march)["threads"] == 0
    # t13, 30 June at 22:30 UTC, is 1 July in Paris.
    assert volumes(Scope(date_from=date(2025, 7, 1), date_to=date(2025, 7, 1)))["threads"] == 1


def test_previous_period_has_the_same_length():
    assert Scope(date_from=date(2025, 4, 1), date_to=date(2025, 6, 30)).previous() == Scope(
        date_from=date(2024, 12, 31), date_to=date(2025, 3, 31)
    )
    # one week → the week before
    week = Scope(date_from=date(2025, 3, 3), date_to=date(2025, 3, 9), kinds=("question",))
    assert week.previous() == Scope(date_from=date(2025, 2, 24), date_to=date(2025, 3, 2), kinds=("question",))
    assert Scope(date_from=date(2025, 1, 1)).previous() is None
    assert Scope().previous() is None


def test_scope_filters(capi):
    def count(**criteria) -> int:
        return volumes(replace(QUARTER, **criteria))["threads"]

    # P2: t12 t8 t14 t9 t10
    assert count(producer_ids=(capi.p2.id,)) == 5
    assert count(producer_ids=(capi.p1.id, capi.p2.id)) == 12  # all but t11, which no producer has
    assert count(kinds=("missing_data",)) == 4  # t8 t11 t9 t7
    assert count(kinds=("quality_issue", "question")) == 4  # t3 t4 t12 t10
    # Centre-Val de Loire (R24) holds the Loiret (D45) and the Cher (D18): the threads naming them (t1 t2 t6
    # t7 t15 t11) and those on the datasets of the Loiret (t3 on d1, t4 on d2).
    assert count(territory_codes=("R24",)) == 8
    assert count(territory_codes=("D58",)) == 5  # t8 t9 named, t12 t14 t10 on d3
    assert count(territory_codes=("FR",)) == 13  # the country holds every région
    # nz: the threads on d2 (t4 t6 t15)
    assert count(theme_codes=("nz",)) == 3
    # hy: d1 (t1 t2 t3), d3 (t12 t14 t10), given (t8 t9 t7)
    assert count(theme_codes=("hy",)) == 9
    assert count(use_cases=("gemapi",)) == 2  # t8 t7
    assert count(producer_ids=(capi.p1.id,), kinds=("data_request",), territory_codes=("D45",)) == 4  # t1 t2 t6 t15


def test_one_producer_report_lists_that_producer_even_without_threads(capi):
    data = build_report_data(replace(QUARTER, producer_ids=(capi.p2.id,), kinds=("quality_issue",)), now=NOW)
    assert data["totals"]["threads"] == 0
    assert data["scope"]["producers"] == [{"slug": "ddt-de-la-nievre", "name": "DDT de la Nièvre"}]
    (nievre,) = data["producers"]
    assert nievre["received"] == 0
    assert nievre["answered_share"] is None
    assert nievre["median_working_days"] is None
    assert nievre["datagouv_mean_answer_days"] is None
    # t0b, a quality issue of P2, is in the previous period
    assert data["previous_period"]["totals"]["by_kind"]["quality_issue"] == 1


def test_overdue_depends_on_the_day_it_is_judged(capi):
    from datetime import UTC, datetime

    # On 20 May t14 (due 9 May) is overdue; t2 (due 28 May) not yet: it was answered on 2 June.
    (p1,) = [p for p in producers(QUARTER, datetime(2025, 5, 20, tzinfo=UTC)) if p["slug"] == "ddt-du-loiret"]
    # t2's answer of 2 June is after its due date whenever it is judged: it is late on any day.
    assert p1["overdue"] == 1
    # After 25 July, t15 (open, unanswered) is overdue too.
    (p1,) = [p for p in producers(QUARTER, datetime(2025, 7, 26, tzinfo=UTC)) if p["slug"] == "ddt-du-loiret"]
    assert p1["overdue"] == 2


def test_median_and_90th_percentile():
    # even count: mean of the two middle values; p90 by nearest rank ⌈0.9 n⌉
    assert median([22, 1, 6, 5]) == 5.5
    assert percentile_90([22, 1, 6, 5]) == 22
    # ten values 1…10: median (5 + 6) / 2; p90 the 9th
    assert median(list(range(1, 11))) == 5.5
    assert percentile_90(list(range(1, 11))) == 9
    # eleven values 0…10: median the 6th (5); p90 rank ⌈9.9⌉ = 10 → 9
    assert median(list(range(11))) == 5
    assert percentile_90(list(range(11))) == 9
    assert median([]) is None and percentile_90([]) is None


def test_titles_are_normalised_without_places_or_stop_words(db):
    places = place_pattern()
    assert normalise_title("Inventaire des zones humides du Loiret", places) == "zones humides"
    assert normalise_title("Données des haies bocagères en Loir-et-Cher", places) == "haies bocageres"
    assert normalise_title("Débits des cours d'eau au format CSV", places) == "debits cours eau csv"
    # a title of place names only keeps them
    assert normalise_title("Loiret", places) == "loiret"


def test_similar_requests_group_across_territories_within_a_theme(capi):
    groups = similar_request_groups(QUARTER)
    assert [sorted(g["thread_ids"]) for g in groups] == [sorted([capi.t["t8"].id, capi.t["t7"].id])]
    assert SIMILARITY_THRESHOLD == 85
    assert groups[0]["territories"] == ["D45", "D58"]
    # At a lower threshold, "zones inondables" (69 against "zones humides") joins them.
    found = demand.compute(demand.memberships(sa.true()), place_pattern(), threshold=65)
    wanted = {capi.t[name].id for name in ("t7", "t8", "t9")}
    assert len({leader for (thread_id, _), (leader, _) in found.items() if thread_id in wanted}) == 1


def test_each_thread_counts_in_the_month_it_was_received_in_paris(capi):
    # Fourteen months: the CASE that cuts them halves the months at each level; each thread must land in
    # the month its receipt falls in, in Paris time (t12, received 31 March 22:30 UTC, is an April thread).
    scope = Scope(date_from=date(2024, 12, 1), date_to=date(2026, 1, 31))
    data = build_report_data(scope, now=NOW)
    assert [m["month"] for m in data["by_month"]][:2] == ["2024-12", "2025-01"]
    assert len(data["by_month"]) == 14
    expected: dict[str, dict[str, int]] = {}
    for created, kind in db.session.execute(sa.select(Thread.created_at, Thread.kind).where(visible_threads(None))):
        kinds = expected.setdefault(created.astimezone(PARIS).strftime("%Y-%m"), dict.fromkeys(KINDS, 0))
        kinds[kind] += 1
    assert {m["month"]: m["by_kind"] for m in data["by_month"] if m["threads"]} == expected
    assert expected["2025-04"]["question"] >= 1  # t12
