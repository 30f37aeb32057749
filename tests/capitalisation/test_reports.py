"""Report services: drafting, editing the recommendations, publishing (frozen), restitution to one producer.

Figures are those of conftest.py's quarter, judged at NOW; see test_recommendations.py for the rules.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Role
from feedback.capitalisation import services
from feedback.capitalisation.exports import report_json
from feedback.capitalisation.models import Recommendation, Report
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind, ThreadStatus

from .. import factories
from .conftest import NOW, QUARTER, _post, at


@pytest.fixture
def curator(capi):
    return factories.create_user(name="Célia Curatrice", role=Role.CURATOR)


def rows(report: Report) -> list[tuple]:
    return [
        (r.position, r.rule, r.audience.slug if r.audience else None, r.edited)
        for r in sorted(report.recommendations, key=lambda r: r.position)
    ]


def test_scope_round_trips_through_json():
    scope = Scope(
        date_from=QUARTER.date_from,
        date_to=QUARTER.date_to,
        kinds=("data_request",),
        producer_ids=(3, 1),
        theme_codes=("hy",),
        territory_codes=("R24",),
        use_cases=("gemapi",),
        include_restricted=True,
    )
    assert scope.to_json() == {
        "from": "2025-04-01",
        "to": "2025-06-30",
        "kinds": ["data_request"],
        "producer_ids": [3, 1],
        "themes": ["hy"],
        "territories": ["R24"],
        "use_cases": ["gemapi"],
        "include_restricted": True,
    }
    assert Scope.from_json(scope.to_json()) == scope
    assert Scope.from_json({}) == Scope()


def test_create_report_stores_the_scope_and_the_rule_recommendations(capi, curator):
    report = services.create_report(curator, "  Bilan du 2e trimestre 2025 ", QUARTER, now=NOW)
    db.session.commit()
    assert (report.slug, report.title, report.status) == (
        "bilan-du-2e-trimestre-2025",
        "Bilan du 2e trimestre 2025",
        "draft",
    )
    assert Scope.from_json(report.scope) == QUARTER
    assert rows(report) == [(0, "overdue_requests", "ddt-du-loiret", False), (1, "similar_requests", None, False)]
    assert report.recommendations[0].evidence["thread_ids"] == [capi.t["t2"].id]
    # the same title again: another slug
    again = services.create_report(curator, "Bilan du 2e trimestre 2025", QUARTER, now=NOW)
    assert again.slug == "bilan-du-2e-trimestre-2025-2"
    with pytest.raises(services.ReportError):
        services.create_report(curator, "   ", QUARTER)


def test_a_draft_counting_restricted_threads_draws_its_recommendations_from_public_figures(capi, curator):
    report = services.create_report(curator, "Interne", replace(QUARTER, include_restricted=True), now=NOW)
    # t5 (restricted, overdue) is in the draft's figures but not in the evidence: P1's public figures only.
    data = services.report_data(report, now=NOW)
    assert data["totals"]["threads"] == 14
    (overdue, _) = data["recommendations"]
    assert overdue["evidence"] == {
        "figures": {"data_requests": 4, "overdue": 1, "overdue_share": 0.25},
        "thread_ids": [capi.t["t2"].id],
    }


def test_edit_add_move_remove_then_regenerate_keeps_what_curators_wrote(capi, curator):
    report = services.create_report(curator, "Bilan", QUARTER, now=NOW)
    overdue, _ = sorted(report.recommendations, key=lambda r: r.position)
    services.update_recommendation(
        overdue, title="Tenir les délais", text="Un référent.", priority="medium", audience=capi.p1
    )
    manual = services.add_recommendation(
        report, title="Former les services", text="Une session par an.", priority="low"
    )
    assert rows(report) == [
        (0, "overdue_requests", "ddt-du-loiret", True),
        (1, "similar_requests", None, False),
        (2, None, None, False),
    ]
    assert services.move_recommendation(manual, "up") is True
    assert services.move_recommendation(overdue, "up") is False  # already first
    assert [r[1] for r in rows(report)] == ["overdue_requests", None, "similar_requests"]

    # Two dead links at P1 now: regenerating drafts that one, replaces the unedited similar-requests one, and
    # keeps the edited and the hand-written ones.
    _post(capi.u3, ThreadKind.QUALITY_ISSUE, "WMS en panne", at(2025, 6, 11), dataset=capi.d2, category="dead_link")
    assert services.regenerate_recommendations(report, now=NOW) == 2
    assert rows(report) == [
        (0, "overdue_requests", "ddt-du-loiret", True),
        (1, None, None, False),
        (2, "dead_links", "ddt-du-loiret", False),
        (3, "similar_requests", None, False),
    ]
    assert overdue.title == "Tenir les délais"
    services.remove_recommendation(manual)
    assert [r[:2] for r in rows(report)] == [(0, "overdue_requests"), (1, "dead_links"), (2, "similar_requests")]
    with pytest.raises(services.ReportError):
        services.add_recommendation(report, title="", text="", priority="high")
    with pytest.raises(services.ReportError):
        services.update_recommendation(overdue, title="x", text="", priority="urgent", audience=None)


def test_publish_freezes_public_figures_and_notifies_the_coordinators_concerned(capi, curator):
    c1 = factories.create_user(name="Coordinatrice Loiret", organisation=capi.p1, coordinator=True)
    c2 = factories.create_user(name="Coordinateur Nièvre", organisation=capi.p2, coordinator=True)
    report = services.create_report(curator, "Bilan", replace(QUARTER, include_restricted=True), now=NOW)
    # a recommendation for P2 written by hand: P2's coordinator is told too
    services.add_recommendation(report, title="Pour la Nièvre", text="…", priority="low", audience=capi.p2)
    services.publish_report(report, curator, NOW)
    db.session.commit()
    assert report.is_published and report.published_at == NOW
    snapshot = report.snapshot
    # restricted t5 left out of the published figures whatever the draft counted
    assert snapshot["totals"]["threads"] == 13
    assert snapshot["scope"]["include_restricted"] is False
    assert snapshot["report"] == {
        "slug": "bilan",
        "title": "Bilan",
        "summary": "",
        "summary_html": "",
        "status": "published",
        "published_at": "2025-07-15T12:00:00+00:00",
        "producer": None,
    }
    assert [(r["rule"], r["audience"]) for r in snapshot["recommendations"]] == [
        ("overdue_requests", "ddt-du-loiret"),
        ("similar_requests", None),
        (None, "ddt-de-la-nievre"),
    ]
    assert capi.t["t5"].id not in {i for r in snapshot["recommendations"] for i in r["evidence"]["thread_ids"]}
    # the members m1, m2 are not coordinators; the author of a thread is no one to tell
    notified = db.session.scalars(sa.select(Notification).where(Notification.kind == "report_published")).all()
    assert sorted((n.recipient_id, n.link) for n in notified) == sorted(
        [(c1.id, "/rapports/bilan"), (c2.id, "/rapports/bilan")]
    )


def test_a_published_report_never_changes(capi, curator):
    report = services.create_report(curator, "Bilan", QUARTER, now=NOW)
    first = report.recommendations[0]
    services.publish_report(report, curator, NOW)
    db.session.commit()
    frozen = report_json(services.shown_data(report))
    for operation in (
        lambda: services.update_recommendation(first, title="x", text="", priority="low", audience=None),
        lambda: services.add_recommendation(report, title="x", text=""),
        lambda: services.remove_recommendation(first),
        lambda: services.move_recommendation(first, "down"),
        lambda: services.regenerate_recommendations(report),
        lambda: services.publish_report(report, curator),
        lambda: services.delete_report(report),
    ):
        with pytest.raises(services.ReportLocked):
            operation()
    # new threads, a status change: the figures shown stay those of the snapshot
    _post(capi.u1, ThreadKind.QUESTION, "Une de plus", at(2025, 5, 2), dataset=capi.d1)
    thread_services.change_status(capi.t["t14"], capi.m2, ThreadStatus.RESOLVED)
    db.session.commit()
    db.session.expire_all()
    assert report_json(services.shown_data(db.session.get(Report, report.id))) == frozen


def test_restitution_sets_the_producer_next_to_the_national_median(capi, curator):
    report = services.restitution_report(curator, capi.p1, replace(QUARTER, producer_ids=(capi.p2.id,)), now=NOW)
    assert report.title == "Rapport de restitution — DDT du Loiret"
    assert Scope.from_json(report.scope).producer_ids == ()  # the median is over every producer
    # only the recommendations addressed to P1 (the similar requests are for every producer)
    assert rows(report) == [(0, "overdue_requests", "ddt-du-loiret", False)]
    data = services.report_data(report, now=NOW)
    assert data["totals"]["threads"] == 7  # P1's: t1 t2 t3 t4 t6 t7 t15
    restitution = data["restitution"]
    assert restitution["producer"] == {"slug": "ddt-du-loiret", "name": "DDT du Loiret"}
    assert restitution["producers"] == 2
    # P1 and P2 (see test_indicators.py): each median of two values is their mean.
    assert {row["key"]: (row["producer"], row["national_median"]) for row in restitution["indicators"]} == {
        "received": (7, 6.0),  # 7, 5
        "answered_share": (0.5714, 0.4857),  # (0.5714 + 0.4) / 2
        "median_working_days": (5.5, 4.75),  # 5.5, 4
        "p90_working_days": (22.0, 14.5),  # 22, 7
        "resolved": (1, 0.5),  # 1, 0
        "declined": (1, 1.0),  # 1, 1
        "data_requests": (4, 2.5),  # 4, 1
        "overdue_share": (0.25, 0.625),  # 0.25, 1
        "datagouv_mean_answer_days": (19.71, 19.955),  # 19.71, 20.2
    }
    assert all(row["producers_counted"] == 2 for row in restitution["indicators"])


def test_lists_of_reports(capi, curator):
    national = services.create_report(curator, "National", QUARTER, now=NOW)
    nievre = services.create_report(curator, "Nièvre", replace(QUARTER, producer_ids=(capi.p2.id,)), now=NOW)
    draft = services.create_report(curator, "Brouillon", QUARTER, now=NOW)
    restitution = services.restitution_report(curator, capi.p1, QUARTER, now=NOW)
    services.publish_report(national, curator, at(2025, 7, 1))
    services.publish_report(nievre, curator, at(2025, 7, 2))
    services.publish_report(restitution, curator, at(2025, 7, 3))
    db.session.commit()
    assert [r.slug for r in services.published_reports(1, 2).items] == [restitution.slug, "nievre"]
    assert services.published_reports(1, 2).total == 3
    assert [r.slug for r in services.draft_reports()] == [draft.slug]
    # P1: the national report (its overdue recommendation) and its restitution; P2: the report naming it
    assert [r.slug for r in services.reports_for_organisation({capi.p1.id}).items] == [restitution.slug, "national"]
    assert [r.slug for r in services.reports_for_organisation({capi.p2.id}).items] == ["nievre"]
    assert services.reports_for_organisation({capi.consultancy.id}).total == 0
    assert services.reports_for_organisation(set()).total == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recommendation)) > 0
