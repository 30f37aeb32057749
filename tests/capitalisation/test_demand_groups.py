"""The groups of similar requests are kept as the threads change (`capitalisation.demand`), and are always
those that computing every theme from scratch gives: after each change below, `demand.differences()` finds
nothing, and the groups are the ones named by hand."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.capitalisation import demand
from feedback.capitalisation.indicators import similar_request_groups
from feedback.capitalisation.models import DemandEntry
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads.models import Thread, ThreadKind

from .conftest import QUARTER, _post, _theme, at

MD, DR = ThreadKind.MISSING_DATA, ThreadKind.DATA_REQUEST


def groups_of(scope: Scope = QUARTER) -> list[list[int]]:
    return [group["thread_ids"] for group in similar_request_groups(scope)]


def entries_of(thread: Thread) -> list[tuple[str | None, int]]:
    rows = db.session.execute(
        sa.select(DemandEntry.theme_id, DemandEntry.leader_id).where(DemandEntry.thread_id == thread.id)
    ).all()
    return sorted(rows, key=lambda row: row[0] or 0)


def wetlands_of_the_cher(capi) -> Thread:
    """A missing-data report in "hy" received on 28 June, after every other request of the theme."""
    thread = _post(capi.u1, MD, "Zones humides du Cher", at(2025, 6, 28), organisation=capi.p1, territory="D18",
                   themes=["hy"])  # fmt: skip
    db.session.flush()
    return thread


def test_a_new_request_joins_the_group_of_an_earlier_similar_one(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    assert groups_of() == [sorted([t8.id, t7.id])]
    # Received after every other request of the theme: placed against the groups' first titles.
    later = wetlands_of_the_cher(capi)
    assert entries_of(later) == [(_theme("hy").id, t8.id)]
    assert groups_of() == [sorted([t8.id, t7.id, later.id])]
    assert demand.differences() == []


def test_a_request_dated_before_others_regroups_its_theme(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    # Received before t8, it becomes the first of the group: t8 and t7 now follow it.
    earlier = _post(capi.u2, MD, "Inventaire des zones humides", at(2025, 4, 2), organisation=capi.p2,
                    territory="D58", themes=["hy"])  # fmt: skip
    db.session.flush()
    assert entries_of(t8) == [(_theme("hy").id, earlier.id)]
    assert groups_of() == [sorted([earlier.id, t8.id, t7.id])]
    assert demand.differences() == []


def test_reclassifying_the_first_request_of_a_group_hands_the_group_to_the_next(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    third = wetlands_of_the_cher(capi)
    t8.kind = ThreadKind.QUESTION.value
    db.session.flush()
    assert entries_of(t8) == []
    assert entries_of(t7) == [(_theme("hy").id, t7.id)]
    assert groups_of() == [sorted([t7.id, third.id])]
    assert demand.differences() == []


def test_a_new_title_or_new_themes_move_a_request(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    t7.title = "Haies bocagères du Loiret"
    db.session.flush()
    assert groups_of() == []  # t8 alone in "hy"
    t11 = capi.t["t11"]  # "Haies bocagères du Cher", theme lc
    t7.themes = [_theme("lc")]
    db.session.flush()
    assert groups_of() == [sorted([t11.id, t7.id])]
    assert entries_of(t8) == [(_theme("hy").id, t8.id)]
    assert demand.differences() == []


def test_deleting_the_first_request_of_a_group(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    third = wetlands_of_the_cher(capi)
    db.session.delete(t8)
    db.session.flush()
    assert groups_of() == [sorted([t7.id, third.id])]
    assert demand.differences() == []


def test_groups_count_only_the_threads_of_the_scope(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    # In June alone, t7 is the only one of its group: no group of two.
    assert groups_of(Scope(date_from=QUARTER.date_to.replace(day=1), date_to=QUARTER.date_to)) == []
    # Restricted requests stay out of the public figures, but do belong to their groups.
    hidden = _post(capi.u3, DR, "Zones humides du Loiret", at(2025, 6, 29), organisation=capi.p1, themes=["hy"],
                   restricted=True)  # fmt: skip
    db.session.flush()
    assert groups_of() == [sorted([t8.id, t7.id])]
    internal = Scope(date_from=QUARTER.date_from, date_to=QUARTER.date_to, include_restricted=True)
    assert groups_of(internal) == [sorted([t8.id, t7.id, hidden.id])]


def test_reports_verify_finds_a_wrong_group(app, capi):
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reports", "verify"]).exit_code == 0
    t7 = capi.t["t7"]
    db.session.execute(sa.update(DemandEntry).where(DemandEntry.thread_id == t7.id).values(leader_id=t7.id))
    db.session.commit()
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 1
    assert f"Fil n° {t7.id} : groupe de demandes similaires" in result.output
    assert "1 différence(s)" in result.output


def test_a_request_received_at_another_time_regroups_its_themes(capi):
    t7, t8 = capi.t["t7"], capi.t["t8"]
    t7.created_at = at(2025, 4, 1)  # now before t8: t7 is the first of the group
    db.session.flush()
    assert entries_of(t8) == [(_theme("hy").id, t7.id)]
    assert demand.differences() == []
