"""The recommendation rules, each on a scene built for it (on top of conftest.py's quarter) and just below its
threshold. Evidence thread ids are written by hand from the scene.

In the quarter as it stands (see conftest.py): P1 (DDT du Loiret) has 4 data requests, 1 overdue (t2) = 25 %;
P2 (DDT de la Nièvre) 1 data request, overdue (t14); one quality issue "dead_link" at P1 (t3); the similar
requests t8 (P2, D58) and t7 (P1, D45); P1's median delay 5.5 working days (1 5 6 22), P2's 4 (1 7).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from feedback.capitalisation import recommendations as rules
from feedback.capitalisation.indicators import build_report_data
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind, ThreadStatus

from .conftest import NOW, QUARTER, _post, at

QI, DR, MD = ThreadKind.QUALITY_ISSUE, ThreadKind.DATA_REQUEST, ThreadKind.MISSING_DATA


def drafted(scope=QUARTER):
    return build_report_data(scope, now=NOW)["recommendations"]


def summary(recommendations) -> list[tuple]:
    return [(r["rule"], r["audience"], r["priority"], r["evidence"]["thread_ids"]) for r in recommendations]


def test_the_quarter_calls_for_overdue_handling_at_p1_and_for_the_similar_requests(capi):
    t = capi.t
    result = drafted()
    assert summary(result) == [
        # P1: 4 requests (t1 t2 t6 t15), t2 answered after its due date: 1 / 4 = 25 %, at the threshold.
        ("overdue_requests", "ddt-du-loiret", "high", [t["t2"].id]),
        # t8 (D58, P2) and t7 (D45, P1): two territories, two producers → every producer.
        ("similar_requests", None, "medium", sorted([t["t8"].id, t["t7"].id])),
    ]
    overdue, similar = result
    assert overdue["evidence"]["figures"] == {"data_requests": 4, "overdue": 1, "overdue_share": 0.25}
    assert overdue["title"] == "Organiser le traitement des demandes de données — DDT du Loiret"
    assert "1 des 4 demandes de données" in overdue["text"] and "25\u202f%" in overdue["text"]
    assert similar["evidence"]["figures"] == {"threads": 2, "votes": 2, "territories": ["D45", "D58"], "theme": "hy"}
    assert (
        similar["title"] == "Envisager de produire ou d'ouvrir les données demandées : « Zones humides de la Nièvre »"
    )
    # P2's overdue share is 100 % but of one request only (below OVERDUE_MIN_DATA_REQUESTS = 4): nothing for it.
    assert all(r["audience"] != "ddt-de-la-nievre" for r in result)


def test_thresholds_are_the_documented_ones():
    assert rules.DEAD_LINK_MIN_REPORTS == 2
    assert (rules.OVERDUE_MIN_DATA_REQUESTS, rules.OVERDUE_SHARE_THRESHOLD) == (4, 0.25)
    assert (rules.DEMAND_MIN_TERRITORIES, rules.DEMAND_HIGH_PRIORITY_TERRITORIES) == (2, 3)
    assert rules.UNDOCUMENTED_MIN_REPORTS == 2
    assert rules.SLOW_MIN_ANSWERED == 3


def test_dead_links_fire_from_two_reports_at_one_producer(capi):
    # One dead link at P1 (t3): below the threshold.
    assert "dead_links" not in [r["rule"] for r in drafted()]
    second = _post(capi.u3, QI, "Service WMS indisponible", at(2025, 6, 11), dataset=capi.d2, category="dead_link")
    # A dead link of the previous period (t0b, P2) and one outside the scope do not count.
    db.session.commit()
    (dead,) = [r for r in drafted() if r["rule"] == "dead_links"]
    assert (dead["audience"], dead["priority"]) == ("ddt-du-loiret", "high")
    assert dead["evidence"] == {
        "figures": {"dead_link": 2, "quality_issues": 3},  # t3, the new one; and t4 (outdated)
        "thread_ids": sorted([capi.t["t3"].id, second.id]),
    }
    assert dead["title"] == "Vérifier les liens de téléchargement et les services de diffusion — DDT du Loiret"
    assert dead["text"].startswith("2 signalements de liens morts")
    # high priority first: dead links come before the overdue requests (both high), then the medium ones
    assert [r["rule"] for r in drafted()] == ["dead_links", "overdue_requests", "similar_requests"]


def test_undocumented_variables_fire_from_two_reports(capi):
    first = _post(
        capi.u1, QI, "Colonnes sans définition", at(2025, 4, 22), dataset=capi.d3, category="undocumented_variables"
    )
    db.session.commit()
    assert "undocumented_variables" not in [r["rule"] for r in drafted()]
    second = _post(
        capi.u2, QI, "Que veut dire CD_ZH ?", at(2025, 6, 5), dataset=capi.d3, category="undocumented_variables"
    )
    db.session.commit()
    (undocumented,) = [r for r in drafted() if r["rule"] == "undocumented_variables"]
    assert (undocumented["audience"], undocumented["priority"]) == ("ddt-de-la-nievre", "medium")
    assert undocumented["evidence"] == {
        "figures": {"undocumented_variables": 2, "quality_issues": 2},
        "thread_ids": sorted([first.id, second.id]),
    }
    assert undocumented["title"] == "Publier les dictionnaires de données — DDT de la Nièvre"


def test_overdue_below_the_share_does_not_fire(capi):
    # A fifth data request of P1, answered the next day and resolved (an open request past its due date counts
    # as overdue even when answered): 1 overdue of 5 = 20 % < 25 %.
    on_time = _post(capi.u1, DR, "Stations de mesure", at(2025, 6, 3), dataset=capi.d1)
    services.post_message(on_time, capi.m1, "Les voici.", posted_at=at(2025, 6, 4))
    services.change_status(on_time, capi.m1, ThreadStatus.RESOLVED)
    db.session.commit()
    assert "overdue_requests" not in [r["rule"] for r in drafted()]


def test_restricted_threads_are_evidence_only_when_the_scope_counts_them(capi):
    t = capi.t
    # t5, restricted, P1, due 12 June, unanswered: overdue at NOW.
    internal = drafted(replace(QUARTER, include_restricted=True))
    (overdue,) = [r for r in internal if r["rule"] == "overdue_requests"]
    assert overdue["evidence"] == {
        "figures": {"data_requests": 5, "overdue": 2, "overdue_share": 0.4},
        "thread_ids": sorted([t["t2"].id, t["t5"].id]),
    }
    public = drafted()
    assert all(t["t5"].id not in r["evidence"]["thread_ids"] for r in public)


def test_similar_requests_from_three_territories_are_high_and_for_one_producer_when_asked_of_it(capi):
    t = capi.t
    cher = _post(
        capi.u3, MD, "Zones humides du Cher", at(2025, 6, 18), organisation=capi.p1, themes=["hy"], territory="D18"
    )
    db.session.commit()
    (similar,) = [r for r in drafted() if r["rule"] == "similar_requests"]
    # t8 (D58), t7 (D45), the new one (D18): three territories.
    assert (similar["audience"], similar["priority"]) == (None, "high")
    assert similar["evidence"]["thread_ids"] == sorted([t["t8"].id, t["t7"].id, cher.id])
    assert similar["evidence"]["figures"]["territories"] == ["D18", "D45", "D58"]
    # P1's own: t7 and the new one, both addressed to P1 → for P1, two territories → medium.
    (own,) = [r for r in drafted(replace(QUARTER, producer_ids=(capi.p1.id,))) if r["rule"] == "similar_requests"]
    assert (own["audience"], own["priority"], own["evidence"]["thread_ids"]) == (
        "ddt-du-loiret",
        "medium",
        sorted([t["t7"].id, cher.id]),
    )


def test_similar_requests_of_one_territory_do_not_fire(capi):
    _post(capi.u3, MD, "Zones humides du Loiret", at(2025, 6, 18), organisation=capi.p1, themes=["hy"], territory="D45")
    db.session.commit()
    # In the Loiret only: t7 and the new one group, but from one territory.
    assert "similar_requests" not in [r["rule"] for r in drafted(replace(QUARTER, territory_codes=("D45",)))]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (6, None),  # P1's median 5.5 is not above 6
        (5, "medium"),  # 5.5 > 5
        (2, "high"),  # 5.5 > 2 × 2
    ],
)
def test_slow_answers_against_the_service_target(capi, app, monkeypatch, target, expected):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", target)
    slow = [r for r in drafted() if r["rule"] == "slow_answers"]
    if expected is None:
        assert slow == []
        return
    # P2's median (4) is above 2 and 3 too, but of two answers only (below SLOW_MIN_ANSWERED = 3).
    (p1,) = slow
    assert (p1["audience"], p1["priority"]) == ("ddt-du-loiret", expected)
    assert p1["evidence"]["figures"] == {"answered": 4, "median_working_days": 5.5, "target_working_days": target}
    # Answered later than the target: t1 6, t2 22, t4 1, t6 5 working days.
    late = {5: ["t1", "t2"], 2: ["t1", "t2", "t6"]}[target]
    assert p1["evidence"]["thread_ids"] == sorted(capi.t[name].id for name in late)


def test_only_the_largest_groups_of_similar_requests_become_recommendations(db):
    # 25 groups from two territories each, largest first as the indicators give them; their threads do not
    # exist, so each is for every producer.
    groups = [
        {
            "title": f"Besoin n° {n}",
            "theme": None,
            "threads": 30 - n,
            "votes": 0,
            "territories": ["D45", "D58"],
            "thread_ids": [10_000 + 2 * n, 10_001 + 2 * n],
        }
        for n in range(25)
    ]
    drafts = rules._similar_requests_rule(groups)
    assert [d["title"] for d in drafts] == [
        f"Envisager de produire ou d'ouvrir les données demandées : « Besoin n° {n} »" for n in range(20)
    ]
