"""The weekly summary (topic `summary`): what a producer and a requester are told on Monday morning, and that
nobody with nothing to be told gets a mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedback.extensions import db
from feedback.mail.delivery import deliver_due
from feedback.notifications.mails import queue_summaries
from feedback.notifications.models import Frequency
from feedback.notifications.preferences import set_frequency
from feedback.threads.models import ThreadStatus

from ..threads.conftest import data_request, question

# Monday 7 January 2030, 08:00 in Paris (UTC+1).
MONDAY = datetime(2030, 1, 7, 7, 0, tzinfo=UTC)


def lines(message) -> list[str]:
    return [line.strip() for line in message.get_body(("plain",)).get_content().splitlines() if line.strip()]


@pytest.fixture
def week(scene):
    """Threads of the scene's producer, each in one of the summary's lists, and some that are in none."""
    threads = {
        "new": question(scene, title="Nouveau de la semaine", created_at=MONDAY - timedelta(days=2)),
        "overdue": data_request(scene, title="Demande en retard", created_at=MONDAY - timedelta(days=50)),
        "soon": data_request(scene, title="Demande bientôt due", created_at=MONDAY - timedelta(days=25)),
        "waiting": question(scene, title="Question à préciser", created_at=MONDAY - timedelta(days=20)),
        "closed": data_request(scene, title="Demande close", created_at=MONDAY - timedelta(days=60)),
        "elsewhere": question(
            scene,
            title="Fil d'un autre service",
            organisation=scene.other_producer,
            dataset=None,
            created_at=MONDAY - timedelta(days=40),
        ),
    }
    threads["new"].due_at = MONDAY + timedelta(days=20)
    threads["overdue"].due_at = MONDAY - timedelta(days=5)  # 2 January 2030
    threads["soon"].due_at = MONDAY + timedelta(days=3)  # 10 January 2030
    threads["waiting"].due_at = MONDAY + timedelta(days=10)
    threads["waiting"].status = ThreadStatus.NEEDS_INFO.value
    threads["closed"].due_at = MONDAY - timedelta(days=30)
    threads["closed"].status = ThreadStatus.RESOLVED.value
    threads["closed"].is_open = False
    threads["elsewhere"].due_at = MONDAY + timedelta(days=20)
    db.session.commit()
    return threads


def test_a_producer_is_told_of_each_list_of_its_organisation(db, scene, week, smtp_server):
    assert queue_summaries(now=MONDAY).summaries == 3  # the member, the coordinator, the author
    deliver_due(now=MONDAY)

    (mail,) = smtp_server.to(scene.member.email)
    assert mail["Subject"] == "Votre point hebdomadaire du 7 janvier 2030"
    text = lines(mail)
    section = text[text.index("== DDT du Loiret ==") :]
    assert section[1] == "Nouveaux fils des sept derniers jours (1) :"
    assert section[2] == "* Question : « Nouveau de la semaine » — ouvert le 5 janvier 2030, nouveau"
    assert section[4] == "En retard (1) :"
    assert section[5] == "* Demande de données : « Demande en retard » — réponse attendue depuis le 2 janvier 2030"
    assert section[7] == "Échéance dans les sept jours (1) :"
    assert section[8] == "* Demande de données : « Demande bientôt due » — réponse attendue le 10 janvier 2030"
    assert section[10] == "En attente de précisions de leur auteur (1) :"
    assert section[11].startswith("* Question : « Question à préciser »")
    assert f"/fils/{week['overdue'].id}" in section[6]
    body = mail.get_body(("plain",)).get_content()
    assert "Demande close" not in body and "Fil d'un autre service" not in body
    assert "Vos demandes et signalements" not in body  # the member wrote no thread
    html = mail.get_body(("html",)).get_content()
    assert "<h2>DDT du Loiret</h2>" in html
    assert f'/fils/{week["soon"].id}">Demande de données : « Demande bientôt due »</a>' in html

    assert len(smtp_server.to(scene.coordinator.email)) == 1


def test_a_requester_is_told_where_each_open_thread_stands(db, scene, week, smtp_server):
    queue_summaries(now=MONDAY)
    deliver_due(now=MONDAY)

    (mail,) = smtp_server.to(scene.author.email)
    text = lines(mail)
    section = text[text.index("== Vos demandes et signalements ==") :]
    assert section[1] == "Où en sont vos fils ouverts (5) :"
    body = "\n".join(section)
    assert "« Question à préciser » — Précisions demandées : le service attend votre réponse · DDT du Loiret" in body
    assert "« Demande en retard » — Nouveau · DDT du Loiret · réponse attendue depuis le 2 janvier 2030" in body
    assert "« Fil d'un autre service » — Nouveau · DDT de la Nièvre" in body
    assert "Demande close" not in body
    assert "== DDT du Loiret ==" not in text  # the author is no producer


def test_nothing_to_say_no_mail_and_never_means_never(db, scene, week, smtp_server):
    set_frequency(scene.coordinator, "summary", Frequency.NEVER)
    db.session.commit()

    queue_summaries(now=MONDAY)
    deliver_due(now=MONDAY)

    told = {m["To"] for m in smtp_server.messages}
    assert told == {scene.member.email, scene.author.email}
    # The other service has a thread, not one of its lists (not new, not late, not due soon, not waiting).
    assert scene.other_member.email not in told


def test_only_on_monday_from_seven_paris_time_and_once(db, scene, week, smtp_server):
    assert queue_summaries(now=MONDAY - timedelta(hours=1, minutes=1)).summaries == 0  # 06:59 in Paris
    assert queue_summaries(now=MONDAY + timedelta(days=1)).summaries == 0  # Tuesday
    assert queue_summaries(now=MONDAY).summaries == 3
    assert queue_summaries(now=MONDAY + timedelta(hours=3)).summaries == 0
