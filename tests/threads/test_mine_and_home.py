"""One's own threads ("Mes fils"), and the home page's account of what waits for each person, the latest public
activity and the share of data requests answered within the legal deadline."""

from __future__ import annotations

import re
from datetime import timedelta

from feedback.capitalisation.home_figure import requests_answered_in_time
from feedback.database import utcnow
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind, ThreadStatus

from .conftest import data_request, fresh, html, page_text, post_thread, question


def _titles_in_order(response) -> list[str]:
    return re.findall(r'<a href="/fils/\d+"[^>]*>([^<]+)</a>', html(response))


def test_mine_lists_ones_own_threads_those_waiting_for_one_first(web, scene):
    closed = question(scene, title="Fil clos")
    services.change_status(closed, scene.member, ThreadStatus.RESOLVED)
    open_one = data_request(scene, title="Fil ouvert")
    waiting = question(scene, title="Fil en attente de précisions")
    services.ask_details(waiting, scene.member, "Quelle commune ?")
    question(scene, title="Le fil de quelqu'un d'autre", author=scene.other_user)
    data_request(scene, title="Demande restreinte d'un autre", author=scene.other_user, restricted=True)
    db.session.commit()
    web.sign_in(scene.author)

    response = web.get("/mes-fils")

    assert response.status_code == 200
    titles = [t for t in _titles_in_order(response) if t.startswith("Fil")]
    assert titles == ["Fil en attente de précisions", "Fil ouvert", "Fil clos"]
    text = page_text(response)
    assert "autre" not in " ".join(_titles_in_order(response))
    assert "1 fil attend vos précisions" in text
    assert open_one.id and fresh(waiting.id).status == ThreadStatus.NEEDS_INFO


def test_mine_runs_a_bounded_number_of_queries(web, scene):
    for number in range(3):
        question(scene, title=f"Fil {number}")
    web.sign_in(scene.author)
    few, _ = web.count_queries("/mes-fils")
    for number in range(20):
        question(scene, title=f"Autre fil {number}")
    many, response = web.count_queries("/mes-fils")

    assert response.status_code == 200
    assert many == few


def test_mine_says_what_to_do_when_empty_and_needs_signing_in(web, scene):
    assert web.get("/mes-fils").status_code in (302, 303)
    web.sign_in(scene.other_user)

    text = page_text(web.get("/mes-fils"))

    assert "Vous n'avez pas encore posté de fil" in text
    assert "Écrire un nouveau message" in text


def test_the_header_has_mes_fils_for_everyone_signed_in(web, scene):
    assert "Mes fils" not in page_text(web.get("/"))
    for person in (scene.author, scene.member, scene.curator):
        web.sign_in(person)
        assert 'href="/mes-fils"' in html(web.get("/"))


def test_home_tells_each_role_what_waits_for_them(web, scene):
    waiting = question(scene, title="Précisez votre demande")
    services.ask_details(waiting, scene.member, "Quelle commune ?")
    data_request(scene, title="Demande à traiter")
    post_thread(scene.other_user, ThreadKind.MISSING_DATA, title="Donnée sans service", territory="D45", themes=("lc",))
    db.session.commit()

    web.sign_in(scene.author)
    text = page_text(web.get("/"))
    assert "1 de vos fils attend vos précisions" in text and "Précisez votre demande" in text

    web.sign_in(scene.member)
    text = page_text(web.get("/"))
    assert "Boîte de réception de votre service" in text and "à traiter : 1" in text

    web.sign_in(scene.curator)
    assert "1 fil à orienter vers un service" in page_text(web.get("/"))


def test_home_runs_a_bounded_number_of_queries_whoever_is_signed_in(web, scene):
    def waiting_threads(number: int) -> None:
        for index in range(number):
            thread = question(scene, title=f"Précisions {index}")
            services.ask_details(thread, scene.member, "Quelle commune ?")
            data_request(scene, title=f"Demande {index}", restricted=index % 2 == 0)
        db.session.commit()

    waiting_threads(3)
    few = {}
    for person in (None, scene.author, scene.member, scene.curator):
        web.sign_in(person)
        few[person], _ = web.count_queries("/")
    waiting_threads(12)
    for person in (None, scene.author, scene.member, scene.curator):
        web.sign_in(person)
        many, _ = web.count_queries("/")
        assert many == few[person], person
    web.sign_in(scene.author)
    assert "15 de vos fils attendent vos précisions" in page_text(web.get("/"))


def test_home_latest_activity_never_shows_a_restricted_thread(web, scene):
    question(scene, title="Une question publique")
    data_request(scene, title="Une demande confidentielle", restricted=True)
    db.session.commit()

    for person in (None, scene.other_user, scene.author):
        web.sign_in(person)
        text = page_text(web.get("/"))
        assert "Une question publique" in text
        assert "Une demande confidentielle" not in text


def test_the_share_answered_in_time_counts_answers_by_the_due_date(web, scene):
    now = utcnow()
    answered = data_request(scene, title="Répondue à temps")
    services.post_message(answered, scene.member, "Voici la donnée.")
    late = data_request(scene, title="En retard")
    pending = data_request(scene, title="Pas encore échue")
    withdrawn = data_request(scene, title="Retirée par son auteur")
    services.change_status(withdrawn, scene.author, ThreadStatus.WITHDRAWN)
    restricted = data_request(scene, title="Restreinte", restricted=True)
    question(scene, title="Une question")
    db.session.commit()
    # Their month passed without an answer.
    late.due_at = restricted.due_at = withdrawn.due_at = now - timedelta(days=1)
    db.session.commit()

    figure = requests_answered_in_time(now)

    # Not judged: the pending request (not due yet), the one its author withdrew before any answer, a question
    # (not a data request), a restricted request (never in a public figure).
    assert (figure["requests"], figure["in_time"]) == (2, 1)
    assert figure["share"] == 0.5
    assert pending.due_at > now
    assert "Sur les douze derniers mois, 50 % des 2 demandes de données publiques" in page_text(web.get("/"))


def test_a_request_received_more_than_twelve_months_ago_is_not_counted(db, scene):
    old = data_request(scene, title="Demande ancienne")
    db.session.commit()
    old.created_at = utcnow() - timedelta(days=400)
    old.due_at = old.created_at + timedelta(days=30)
    db.session.commit()

    assert requests_answered_in_time()["requests"] == 0
    assert requests_answered_in_time()["share"] is None


def test_a_curator_withdraws_someone_elses_thread_with_a_motive_told_to_the_author(web, scene):
    from feedback.notifications.models import Notification

    thread = question(scene, title="Message hors sujet")
    web.sign_in(scene.curator)
    page = html(web.get(f"/fils/{thread.id}"))
    assert "Retirer ce fil" in page and "Retirer mon fil" not in page
    version = str(fresh(thread.id).version)

    refused = web.post(f"/fils/{thread.id}/retrait", data={"version": version})
    assert refused.status_code == 200
    assert "le motif est obligatoire" in page_text(refused)
    assert fresh(thread.id).status == ThreadStatus.NEW

    done = web.post(
        f"/fils/{thread.id}/retrait", data={"version": version, "motive": "Ce fil ne concerne pas les données."}
    )
    assert done.status_code == 303
    assert fresh(thread.id).status == ThreadStatus.WITHDRAWN
    web.sign_in(scene.author)
    assert "Ce fil ne concerne pas les données." in page_text(web.get(f"/fils/{thread.id}"))
    told = db.session.scalars(
        db.select(Notification).where(Notification.recipient_id == scene.author.id, Notification.thread_id == thread.id)
    ).all()
    assert any("Retiré" in n.text for n in told)


def test_the_author_withdraws_their_own_thread_without_a_motive(web, scene):
    thread = question(scene)
    web.sign_in(scene.author)
    page = html(web.get(f"/fils/{thread.id}"))
    assert "Retirer mon fil" in page and "Retirer ce fil" not in page

    response = web.post(f"/fils/{thread.id}/retrait", data={"version": str(fresh(thread.id).version)})

    assert response.status_code == 303
    assert fresh(thread.id).status == ThreadStatus.WITHDRAWN


def test_the_home_figure_is_counted_again_only_once_it_is_older_than_its_setting(app, web, scene, monkeypatch):
    from feedback.capitalisation import home_figure

    counted = []
    real = home_figure.requests_answered_in_time
    monkeypatch.setattr(home_figure, "requests_answered_in_time", lambda: counted.append(1) or real())
    store: dict = {}
    monkeypatch.setitem(app.extensions, "kept_values", store)
    web.get("/")
    web.get("/")
    assert len(counted) == 2  # the tests' setting: 0, counted on every request, nothing kept
    monkeypatch.setitem(app.config, "FEEDBACK_HOME_FIGURE_SECONDS", 300)
    web.get("/")
    web.get("/")
    assert len(counted) == 3  # counted once, then the figure of that count, young enough
    kept_at, figure = store["home figure"]
    store["home figure"] = (kept_at - 301, figure)
    web.get("/")
    assert len(counted) == 4
