"""`reports verify`: the figures kept in the thread rows are what their rows count, after the operations of
the platform; a figure that drifts is reported and the command fails."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.extensions import db
from feedback.threads import services, stored_figures
from feedback.threads.models import Thread, ThreadStatus

from .conftest import data_request, question


def busy_threads(scene):
    """A few threads through most operations: answers, notes, details, votes, follows, transfer, closing,
    a duplicate, an edit."""
    first = data_request(scene, title="Zones humides")
    services.post_message(first, scene.member, "Nous regardons.")
    services.post_message(first, scene.member, "Note pour l'équipe.", internal=True)
    services.ask_details(first, scene.member, "Quelle commune ?")
    services.post_message(first, scene.author, "Orléans.")
    services.toggle_vote(first, scene.other_user)
    services.toggle_follow(first, scene.other_user)
    second = question(scene, title="Source des zones humides")
    services.transfer_thread(second, scene.member, scene.other_producer, "La Nièvre sait.")
    services.post_message(second, scene.other_member, "Voici la source.")
    services.toggle_vote(second, scene.member)
    services.change_status(second, scene.other_member, ThreadStatus.RESOLVED)
    third = data_request(scene, title="Zones humides, encore")
    services.toggle_vote(third, scene.other_member)
    services.change_status(third, scene.member, ThreadStatus.DUPLICATE, duplicate_of=first)
    services.edit_message(services.post_message(first, scene.author, "Merci !"), scene.author, "Merci beaucoup !")
    db.session.commit()
    return first, second, third


def test_after_the_operations_every_stored_figure_is_what_the_rows_count(scene, runner):
    busy_threads(scene)

    assert stored_figures.differences(db.session) == []
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 fil(s) vérifié(s) : aucune différence." in result.output


def test_a_figure_that_drifts_is_reported_and_the_command_fails(scene, runner):
    first, _, _ = busy_threads(scene)
    db.session.execute(sa.update(Thread).where(Thread.id == first.id).values(votes_count=Thread.votes_count + 5))
    db.session.execute(sa.update(Thread).where(Thread.id == first.id).values(answered_at=None))
    db.session.commit()

    result = runner.invoke(args=["reports", "verify"])

    assert result.exit_code == 1
    assert f"Fil n° {first.id} : votes_count enregistré 7, recalculé 2" in result.output
    assert f"Fil n° {first.id} : answered_at enregistré None" in result.output
    assert "2 différence(s) sur 3 fil(s)." in result.output
