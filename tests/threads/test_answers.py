"""What counts as the service's response and as answered (feedback.threads.answers), on hand-computed stories.

November 2026, Paris: Monday 2, Tuesday 3, Wednesday 4, Thursday 5, Friday 6, then Monday 9, Tuesday 10;
Wednesday 11 is a holiday (Armistice). Working days between two moments count the working days after the
first day, up to and including the last one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from feedback.capitalisation import indicators
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.threads import answers, services
from feedback.threads.models import MessagePurpose, Thread, ThreadStatus

from .conftest import data_request, html, page_text


def at(day: int, hour: int = 9) -> datetime:
    """A moment of November 2026 (UTC; Paris is UTC+1 then)."""
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


NOVEMBER = Scope(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))


def record_of(organisation) -> dict:
    """The producer's line of the indicators over November."""
    for entry in indicators.producers(NOVEMBER, now=at(30)):
        if entry["slug"] == organisation.slug:
            return entry
    return {"received": 0, "answered": 0, "answered_share": None, "median_working_days": None}


def figures(thread: Thread) -> tuple:
    db.session.refresh(thread)
    return thread.received_at, thread.first_response_at, thread.answered_at


def history_agrees() -> None:
    """What the rows hold is what the messages and events say (the `reports verify` check)."""
    assert answers.differences(db.session) == []


def test_a_transferred_thread_is_not_answered_by_its_transfer_note(scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(4))
    services.transfer_thread(thread, scene.member, scene.other_producer, "La Nièvre détient ces données.")
    db.session.commit()

    assert figures(thread) == (at(4), None, None)
    nievre = record_of(scene.other_producer)
    assert (nievre["received"], nievre["answered"], nievre["median_working_days"]) == (1, 0, None)
    assert record_of(scene.producer)["received"] == 0  # the thread is the Nièvre's now
    history_agrees()

    moment(at(9, 10))
    services.post_message(thread, scene.other_member, "Voici l'extrait.")
    db.session.commit()

    # From Wednesday 4 to Monday 9: Thursday 5, Friday 6, Monday 9.
    assert figures(thread) == (at(4), at(9, 10), at(9, 10))
    nievre = record_of(scene.other_producer)
    assert (nievre["answered"], nievre["answered_share"], nievre["median_working_days"]) == (1, 1.0, 3.0)
    history_agrees()


def test_an_extension_alone_is_not_an_answer(scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(10))
    services.extend_deadline(thread, scene.member, "Quarante communes à extraire.")
    db.session.commit()

    assert figures(thread) == (at(2), None, None)
    assert thread.status == ThreadStatus.NEW
    loiret = record_of(scene.producer)
    assert (loiret["received"], loiret["answered"], loiret["answered_share"]) == (1, 0, 0.0)
    history_agrees()


def test_a_request_for_details_is_the_first_response(scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(3, 10))
    services.ask_details(thread, scene.member, "Sur quelles communes ?")
    moment(at(4))
    services.post_message(thread, scene.author, "Les communes de l'agglomération d'Orléans.")
    moment(at(6))
    services.post_message(thread, scene.member, "Voici l'extrait.")
    db.session.commit()

    # Monday 2 → Tuesday 3: one working day; the later answer does not move the first response.
    assert figures(thread) == (at(2), at(3, 10), at(3, 10))
    assert record_of(scene.producer)["median_working_days"] == 1.0
    history_agrees()


def test_an_answer_of_another_service_before_a_transfer_back_does_not_count(scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(3))
    services.transfer_thread(thread, scene.member, scene.other_producer, "La Nièvre saura.")
    moment(at(4))
    services.post_message(thread, scene.other_member, "Nous n'avons que la partie nivernaise : la voici.")
    assert figures(thread) == (at(3), at(4), at(4))
    moment(at(5))
    services.transfer_thread(thread, scene.other_member, scene.producer, "Le reste est au Loiret.")
    db.session.commit()

    assert figures(thread) == (at(5), None, None)
    history_agrees()

    moment(at(10))
    services.post_message(thread, scene.member, "Voici la partie loirétaine.")
    db.session.commit()

    # From Thursday 5 to Tuesday 10: Friday 6, Monday 9, Tuesday 10.
    assert figures(thread) == (at(5), at(10), at(10))
    loiret = record_of(scene.producer)
    assert (loiret["received"], loiret["answered"], loiret["median_working_days"]) == (1, 1, 3.0)
    assert record_of(scene.other_producer)["received"] == 0
    history_agrees()


def test_closing_answers_but_is_no_response_and_a_curator_answers_for_nobody(scene, moment):
    resolved = data_request(scene, title="Résolue sans un mot", created_at=at(2))
    by_curator = data_request(scene, title="Close par l'administration", created_at=at(2))
    moment(at(5))
    services.post_message(by_curator, scene.curator, "Le service va vous répondre.")
    services.change_status(by_curator, scene.curator, ThreadStatus.RESOLVED)
    services.change_status(resolved, scene.member, ThreadStatus.RESOLVED)
    db.session.commit()

    assert figures(resolved) == (at(2), None, at(5))
    assert figures(by_curator) == (at(2), None, None)
    loiret = record_of(scene.producer)
    assert (loiret["received"], loiret["answered"], loiret["median_working_days"]) == (2, 1, None)
    history_agrees()


def test_the_thread_page_badges_only_real_answers(web, scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(3))
    services.ask_details(thread, scene.member, "Sur quelles communes ?")
    services.extend_deadline(thread, scene.member, "Quarante communes à extraire.")
    services.post_message(thread, scene.member, "Voici l'extrait.")
    services.transfer_thread(thread, scene.member, scene.other_producer, "La suite est à la Nièvre.")
    db.session.commit()

    page = web.get(f"/fils/{thread.id}")
    text = page_text(page)

    assert text.count("Réponse officielle") == 1
    assert "Demande de précisions" in text
    assert "Motif de prolongation" in text
    assert "Note de transfert" in text
    assert "a prolongé le délai de réponse à deux mois : « Quarante communes à extraire. »" in text
    assert html(page).count("timeline__message--official") == 1
    purposes = [m.purpose for m in sorted(thread_messages(thread), key=lambda m: m.id)]
    assert purposes == [
        MessagePurpose.REPLY,
        MessagePurpose.DETAILS_REQUEST,
        MessagePurpose.EXTENSION_MOTIVE,
        MessagePurpose.ANSWER,
        MessagePurpose.TRANSFER_NOTE,
    ]


def thread_messages(thread):
    from feedback.threads.models import Message

    return db.session.scalars(db.select(Message).where(Message.thread_id == thread.id)).all()


def test_the_history_check_finds_a_figure_that_does_not_follow(scene, moment):
    thread = data_request(scene, created_at=at(2))
    moment(at(3))
    services.post_message(thread, scene.member, "Voici.")
    db.session.commit()
    thread.first_response_at = at(2)  # as the old rule would have kept it after a transfer note
    db.session.commit()

    found = answers.differences(db.session)

    assert found == [answers.Difference(thread.id, "first_response_at", at(2), at(3))]
