"""The pages of the threads domain: posting, the list and its filters, the thread page and its htmx
fragments, the inbox, the triage of the curators, and the number of SQL queries each page runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.accounts.models import OrganisationKind
from feedback.database import utcnow
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import Message, Thread, ThreadKind, ThreadStatus
from feedback.threads.views import NO_DATASET

from .. import factories
from .conftest import (
    count,
    data_request,
    field_errors,
    fresh,
    html,
    listed_ids,
    page_text,
    post_thread,
    question,
    results_section,
    status_badge,
)

KIND_TITLES = {
    "data_request": "Demander une donnée",
    "quality_issue": "Signaler un problème de qualité",
    "missing_data": "Signaler une donnée manquante",
    "question": "Poser une question",
}


def links(response) -> dict[str, str]:
    """Link text → href."""
    return {
        " ".join(page_text(label).split()): href.replace("&amp;", "&")
        for href, label in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', html(response), re.S)
    }


def messages_on_page(response) -> list[tuple[str, str]]:
    """(classes, text) of each message of a thread page, in order."""
    return [
        (classes, page_text(inner))
        for classes, inner in re.findall(
            r'<li class="(timeline__message[^"]*)" id="message-\d+">(.*?)</li>', html(response), re.S
        )
    ]


# Posting ------------------------------------------------------------------------------------------------


def test_the_choice_of_what_to_write_shows_the_four_kinds(web, scene):
    response = web.get("/fils/nouveau")

    assert response.status_code == 200
    found = links(response)
    for kind, title in KIND_TITLES.items():
        assert found[title] == f"/fils/nouveau?type={kind}"


def test_the_choice_carries_the_dataset_along(web, scene):
    response = web.get(f"/fils/nouveau?jeu={scene.dataset.catalogue_id}")

    assert links(response)["Signaler un problème de qualité"] == (
        f"/fils/nouveau?type=quality_issue&jeu={scene.dataset.catalogue_id}"
    )


def test_the_form_is_prefilled_from_a_data_gouv_fr_address(web, scene):
    address = f"https://www.data.gouv.fr/fr/datasets/{scene.dataset.slug}/"
    web.sign_in(scene.author)

    response = web.get(f"/fils/nouveau?type=quality_issue&jeu={address}")

    assert response.status_code == 200
    text = page_text(response)
    assert "Signaler un problème de qualité" in text
    # The field shows the dataset it names, by its title and producer, whatever identifier led here.
    label = "Zones inondables du Loiret — DDT du Loiret"
    assert re.search(r'<input[^>]*id="dataset"[^>]*value="' + re.escape(label) + '"', html(response))
    assert "Jeu de données : Zones inondables du Loiret — DDT du Loiret" in text
    assert "Nature du problème" in text


def test_posting_needs_to_be_signed_in(web, scene):
    form = web.get("/fils/nouveau?type=question")
    posted = web.post(
        "/fils/nouveau?type=question",
        data={"title": "Une question", "body": "Le texte", "dataset": scene.dataset.catalogue_id},
    )

    for response in (form, posted):
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/connexion")
    assert count(Thread) == 0


def test_posting_a_quality_issue_creates_it_and_redirects_to_it(web, scene):
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=quality_issue",
        data={
            "dataset": scene.dataset.catalogue_id,
            "quality_category": "dead_link",
            "title": "Lien de téléchargement mort",
            "body": "Le lien renvoie une **erreur 404**.",
        },
    )

    assert response.status_code == 303
    thread = db.session.scalars(sa.select(Thread)).one()
    assert response.headers["Location"] == f"/fils/{thread.id}"
    assert (thread.kind, thread.title, thread.quality_category) == (
        "quality_issue",
        "Lien de téléchargement mort",
        "dead_link",
    )
    assert (thread.dataset_id, thread.organisation_id, thread.author_id) == (
        scene.dataset.id,
        scene.producer.id,
        scene.author.id,
    )
    page = web.get(response.headers["Location"])
    assert "Votre message est publié" in page_text(page)
    assert "<strong>erreur 404</strong>" in html(page)


def test_posting_a_restricted_data_request(web, scene):
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=data_request",
        data={
            "dataset": scene.dataset.catalogue_id,
            "request_want": "extract",
            "territory": "D45",
            "use_case": "plu",
            "wished_on": "2026-09-01",
            "title": "Extrait sur Orléans",
            "body": "Pour notre PLU.",
            "restricted": "y",
        },
    )

    assert response.status_code == 303
    thread = db.session.scalars(sa.select(Thread)).one()
    assert (thread.kind, thread.visibility, thread.request_want, thread.territory_code, thread.use_case) == (
        "data_request",
        "restricted",
        "extract",
        "D45",
        "plu",
    )
    assert thread.wished_on.isoformat() == "2026-09-01"


def test_posting_a_missing_data_report_without_a_service(web, scene):
    near = factories.create_dataset(title="Haies du Loir-et-Cher", organisation=scene.other_producer)
    web.sign_in(scene.author)

    response = web.post(
        "/fils/nouveau?type=missing_data",
        data={
            "theme": "inspire:lc",
            "territory": "D45",
            "related_datasets": near.catalogue_id,
            "title": "Haies bocagères du Loiret",
            "body": "Introuvables dans le catalogue.",
        },
    )

    assert response.status_code == 303
    thread = db.session.scalars(sa.select(Thread)).one()
    assert (thread.organisation_id, thread.due_at, thread.territory_code) == (None, None, "D45")
    assert [theme.code for theme in thread.themes] == ["lc"]
    assert [d.id for d in thread.related_datasets] == [near.id]
    assert "À désigner par l'administration des données" in page_text(web.get(f"/fils/{thread.id}"))


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        (
            "question",
            {"dataset": "ffffffffffffffffffffffff"},
            "dataset",
            NO_DATASET,
        ),
        (
            "quality_issue",
            {"dataset": "https://www.data.gouv.fr/fr/datasets/un-jeu-qui-n-existe-pas/"},
            "dataset",
            NO_DATASET,
        ),
        ("quality_issue", {"quality_category": ""}, "quality_category", "Choisissez la nature du problème."),
        ("quality_issue", {"title": ""}, "title", "Ce champ est obligatoire."),
        ("question", {"title": "   "}, "title", "Ce champ est obligatoire."),
        ("question", {"body": ""}, "body", "Ce champ est obligatoire."),
        ("question", {"body": "x" * 50_001}, "body", "Le message ne doit pas dépasser 50\u202f000 caractères."),
    ],
)
def test_a_form_with_errors_says_why_next_to_the_field_and_creates_nothing(web, scene, kind, changes, field, message):
    data = {"dataset": scene.dataset.catalogue_id, "title": "Un titre", "body": "Un message."}
    if kind == "quality_issue":
        data["quality_category"] = "outdated"
    data.update(changes)
    web.sign_in(scene.author)

    response = web.post(f"/fils/nouveau?type={kind}", data=data)

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert count(Thread) == 0
    assert count(Message) == 0


# The list of threads ---------------------------------------------------------------------------------------


@dataclass
class Listing:
    t1: Thread  # question to the producer, 5 days old
    t2: Thread  # quality issue to the other producer, 4 days old, two votes
    t3: Thread  # data request (PLU, Loiret), 3 days old, resolved
    t4: Thread  # missing data (SCoT, Nièvre, hydrography), 2 days old, unrouted
    t5: Thread  # data request 60 days old: overdue, assigned to the member
    other_dataset: object


@pytest.fixture
def listing(scene) -> Listing:
    now = utcnow()
    other_dataset = factories.create_dataset(title="Bruit routier de la Nièvre", organisation=scene.other_producer)
    t1 = question(scene, title="Précision des zones inondables", created_at=now - timedelta(days=5))
    t2 = post_thread(
        scene.other_user,
        ThreadKind.QUALITY_ISSUE,
        title="Carte du bruit périmée",
        dataset=other_dataset,
        category="outdated",
        created_at=now - timedelta(days=4),
    )
    t3 = post_thread(
        scene.author,
        ThreadKind.DATA_REQUEST,
        title="Zonage PLU d'Orléans",
        dataset=scene.dataset,
        territory="D45",
        use_case="plu",
        created_at=now - timedelta(days=3),
    )
    t4 = post_thread(
        scene.other_user,
        ThreadKind.MISSING_DATA,
        title="Cours d'eau de la Nièvre",
        territory="D58",
        themes=("hy",),
        use_case="scot",
        created_at=now - timedelta(days=2),
    )
    t5 = data_request(
        scene, author=scene.other_user, title="Ancienne demande de données", created_at=now - timedelta(days=60)
    )
    services.toggle_vote(t2, scene.author)
    services.toggle_vote(t2, scene.curator)
    services.change_status(t3, scene.member, ThreadStatus.RESOLVED)
    db.session.commit()
    services.assign_thread(t5, scene.member, scene.member)
    db.session.commit()
    return Listing(t1, t2, t3, t4, t5, other_dataset)


def ids(listing: Listing, *names: str) -> list[int]:
    return [getattr(listing, name).id for name in names]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"t1", "t2", "t3", "t4", "t5"}),
        ("type=quality_issue", {"t2"}),
        ("type=data_request", {"t3", "t5"}),
        ("type=missing_data", {"t4"}),
        ("etat=ouverts", {"t1", "t2", "t4", "t5"}),
        ("etat=clos", {"t3"}),
        ("statut=resolved", {"t3"}),
        ("statut=new", {"t1", "t2", "t4", "t5"}),
        ("statut=declined", set()),
        ("theme=hy", {"t4"}),
        ("theme=lc", set()),
        ("territoire=D45", {"t3"}),
        ("territoire=R24", {"t3"}),  # Centre-Val de Loire holds the Loiret
        ("territoire=R27", {"t4"}),  # Bourgogne-Franche-Comté holds the Nièvre
        ("usage=plu", {"t3"}),
        ("usage=scot", {"t4"}),
        ("retard=1", {"t5"}),
        ("type=data_request&etat=ouverts", {"t5"}),
    ],
)
def test_the_list_filters(web, scene, listing, query, expected):
    response = web.get(f"/fils?{query}")

    assert response.status_code == 200
    assert set(listed_ids(response)) == set(ids(listing, *expected))


def test_the_list_filters_by_producer_and_dataset(web, scene, listing):
    by_producer = web.get(f"/fils?producteur={scene.producer.slug}")
    by_other_producer = web.get(f"/fils?producteur={scene.other_producer.slug}")
    by_dataset = web.get(f"/fils?jeu={listing.other_dataset.catalogue_id}")

    assert set(listed_ids(by_producer)) == set(ids(listing, "t1", "t3", "t5"))
    assert listed_ids(by_other_producer) == ids(listing, "t2")
    assert listed_ids(by_dataset) == ids(listing, "t2")


def test_my_threads_and_the_threads_assigned_to_me(web, scene, listing):
    web.sign_in(scene.author)
    mine = web.get("/fils?mes-fils=1")
    web.sign_in(scene.member)
    assigned = web.get("/fils?assignes=1")

    assert set(listed_ids(mine)) == set(ids(listing, "t1", "t3"))
    assert listed_ids(assigned) == ids(listing, "t5")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # The resolution of t3, then the assignment of t5, are the latest activity; the others by creation.
        ("activite", ["t5", "t3", "t4", "t2", "t1"]),
        ("", ["t5", "t3", "t4", "t2", "t1"]),
        ("recent", ["t4", "t3", "t2", "t1", "t5"]),
        ("votes", ["t2", "t5", "t3", "t4", "t1"]),
        # Open threads first, the nearest due date first, those without one after; closed ones last.
        ("echeance", ["t5", "t1", "t2", "t4", "t3"]),
    ],
)
def test_the_list_sorts(web, scene, listing, sort, expected):
    response = web.get(f"/fils?tri={sort}")

    assert listed_ids(response) == ids(listing, *expected)


def test_the_list_pages(web, app, scene, listing, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_PAGE_SIZE", 2)

    pages = [web.get(f"/fils?tri=recent&page={number}") for number in (1, 2, 3)]

    assert [listed_ids(page) for page in pages] == [
        ids(listing, "t4", "t3"),
        ids(listing, "t2", "t1"),
        ids(listing, "t5"),
    ]
    assert all(re.search(r"\b5 fils\b", page_text(results_section(page))) for page in pages)
    assert links(pages[0])["Page suivante"] == "/fils?tri=recent&page=2"
    # Past the end: the last page.
    assert listed_ids(web.get("/fils?tri=recent&page=40")) == ids(listing, "t5")


def test_a_curator_pages_through_every_thread(web, app, scene, listing, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_PAGE_SIZE", 2)
    web.sign_in(scene.curator)

    first = web.get("/fils?tri=recent")
    last = web.get("/fils?tri=recent&page=3")

    assert re.search(r"\b5 fils\b", page_text(results_section(first)))
    assert listed_ids(last) == ids(listing, "t5")


def test_the_search_ignores_accents_and_case_and_reads_the_messages(web, scene):
    download = question(scene, title="Lien de téléchargement cassé")
    services.post_message(download, scene.member, "Le fichier géoréférencé est republié.")
    other = question(scene, title="Autre sujet")
    db.session.commit()

    for query in ("telechargement", "TÉLÉCHARGEMENT", "Téléchargement", "telecharg", "georeference"):
        assert listed_ids(web.get(f"/fils?q={query}")) == [download.id], query
    assert listed_ids(web.get("/fils?q=sujet")) == [other.id]
    assert listed_ids(web.get("/fils?q=telechargement+sujet")) == []  # every word must match
    assert "Aucun fil" in page_text(web.get("/fils?q=inexistant"))


def test_the_list_answers_htmx_with_the_results_only(web, scene, listing):
    partial = web.htmx_get("/fils?type=quality_issue")
    boosted = web.get("/fils?type=quality_issue", headers={"HX-Request": "true", "HX-Boosted": "true"})
    full = web.get("/fils?type=quality_issue")

    assert "<html" not in html(partial)
    assert html(partial).lstrip().startswith('<section id="results"')
    assert listed_ids(partial) == ids(listing, "t2")
    assert "HX-Request" in partial.headers["Vary"]
    assert "HX-Request" in full.headers["Vary"]
    assert "<html" in html(full) and "<html" in html(boosted)


# The thread page ------------------------------------------------------------------------------------------


def test_the_thread_page_shows_the_status_and_the_official_answer(web, scene):
    thread = question(scene, body="Ma question.")
    web.sign_in(scene.author)
    assert status_badge(web.get(f"/fils/{thread.id}")) == "Nouveau"

    services.post_message(thread, scene.member, "Notre réponse.")
    db.session.commit()
    response = web.get(f"/fils/{thread.id}")

    assert status_badge(response) == "Pris en compte"
    messages = messages_on_page(response)
    assert len(messages) == 2
    (author_classes, author_text), (member_classes, member_text) = messages
    assert "Réponse officielle" not in author_text and "official" not in author_classes
    assert "Mathilde Membre pour DDT du Loiret Réponse officielle" in member_text
    assert "timeline__message--official" in member_classes
    assert "Le fil passe au statut « Pris en compte »" in page_text(response)


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        ("anonymous", False),
        ("author", False),
        ("other_user", False),
        ("other_producer", False),
        ("member", True),
        ("coordinator", True),
        ("curator", True),
    ],
)
def test_internal_notes_show_only_to_the_service_and_curators(web, scene, actor, sees):
    thread = question(scene)
    services.post_message(thread, scene.member, "Note pour le service seulement.", internal=True)
    db.session.commit()
    web.sign_in(scene.actor(actor))

    response = web.get(f"/fils/{thread.id}")

    notes = [text for classes, text in messages_on_page(response) if "timeline__message--internal" in classes]
    assert bool(notes) is sees
    if sees:
        assert "Note interne" in notes[0] and "Note pour le service seulement." in notes[0]
    else:
        assert "Note pour le service seulement." not in page_text(response)


def test_an_overdue_thread_carries_the_badge(web, scene):
    late = data_request(scene, title="Demande en retard", created_at=utcnow() - timedelta(days=40))
    on_time = data_request(scene, title="Demande dans les temps")

    assert 'fr-badge--error">En retard</p>' in html(web.get(f"/fils/{late.id}"))
    assert "En retard</p>" not in html(web.get(f"/fils/{on_time.id}"))
    # The list says it too, and only for that one.
    items = results_section(web.get("/fils")).split('<li class="thread-list__item">')[1:]
    late_item = next(item for item in items if "Demande en retard" in item)
    on_time_item = next(item for item in items if "Demande dans les temps" in item)
    assert "En retard</p>" in late_item
    assert "En retard</p>" not in on_time_item


def test_a_closed_overdue_thread_is_no_longer_late(web, scene):
    late = data_request(scene, created_at=utcnow() - timedelta(days=40))
    services.change_status(late, scene.member, ThreadStatus.RESOLVED)
    db.session.commit()

    assert "En retard</p>" not in html(web.get(f"/fils/{late.id}"))


def test_an_htmx_reply_returns_the_thread_body_with_the_message_and_the_new_badge(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    response = web.htmx_post(f"/fils/{thread.id}/messages", data={"body": "Nous **regardons**."})

    assert response.status_code == 200
    assert "<html" not in html(response)
    assert html(response).lstrip().startswith('<div id="notices" hx-swap-oob="innerHTML">')  # then the thread
    assert '<div id="thread-body">' in html(response)
    assert "<strong>regardons</strong>" in html(response)
    assert status_badge(response) == "Pris en compte"
    assert "Votre message est publié." in page_text(response)
    assert "HX-Request" in response.headers["Vary"]
    assert fresh(thread.id).messages_count == 2


def test_an_htmx_reply_with_an_empty_body_keeps_the_form_and_says_why(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    response = web.htmx_post(f"/fils/{thread.id}/messages", data={"body": ""})

    assert response.status_code == 200
    assert "<html" not in html(response)
    assert field_errors(response, "body") == ["Ce champ est obligatoire."]
    assert fresh(thread.id).messages_count == 1


def test_a_reply_without_javascript_redirects_to_the_thread(web, scene):
    thread = question(scene)
    web.sign_in(scene.other_user)

    response = web.post(f"/fils/{thread.id}/messages", data={"body": "Moi aussi."})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/fils/{thread.id}"
    assert fresh(thread.id).messages_count == 2


def test_a_status_change_in_place_with_htmx(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    response = web.htmx_post(
        f"/fils/{thread.id}/statut", data={"status": "in_progress", "version": str(fresh(thread.id).version)}
    )

    assert response.status_code == 200
    assert status_badge(response) == "En cours"
    assert "Le statut du fil est changé." in page_text(response)
    assert fresh(thread.id).status == "in_progress"


def test_a_decline_without_a_motive_is_refused_next_to_the_field(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    response = web.post(
        f"/fils/{thread.id}/statut",
        data={"status": "declined", "decline_reason": "not_held", "version": str(fresh(thread.id).version)},
    )

    assert response.status_code == 200
    assert field_errors(response, "status-motive") == ["Expliquez le refus au demandeur : le motif est obligatoire."]
    assert fresh(thread.id).status == "new"


def test_marking_a_duplicate_by_its_address(web, scene):
    original = question(scene, title="Original")
    duplicate = question(scene, title="Doublon")
    web.sign_in(scene.member)

    response = web.post(
        f"/fils/{duplicate.id}/statut",
        data={
            "status": "duplicate",
            "duplicate_of": f"http://localhost/fils/{original.id}",
            "version": str(fresh(duplicate.id).version),
        },
    )

    assert response.status_code == 303
    assert (fresh(duplicate.id).status, fresh(duplicate.id).duplicate_of_id) == ("duplicate", original.id)
    page = web.get(f"/fils/{duplicate.id}")
    assert f"doublon du fil n° {original.id}" in page_text(page)


def test_editing_ones_message_through_the_page(web, scene):
    thread = question(scene, body="Premier jet.")
    message_id = db.session.scalar(sa.select(Message.id).where(Message.thread_id == thread.id))
    web.sign_in(scene.author)

    form = web.get(f"/fils/{thread.id}/messages/{message_id}/modifier")
    response = web.post(f"/fils/{thread.id}/messages/{message_id}/modifier", data={"body": "Texte *revu*."})

    assert form.status_code == 200 and "Premier jet." in html(form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/fils/{thread.id}#message-{message_id}"
    page = web.get(f"/fils/{thread.id}")
    assert "<em>revu</em>" in html(page)
    assert "modifié" in messages_on_page(page)[0][1]


# The inbox ----------------------------------------------------------------------------------------------


@pytest.fixture
def inbox(scene):
    now = utcnow()
    fresh_question = question(scene, title="Question du jour")  # new, due in three weeks
    overdue = data_request(scene, title="Demande ancienne", created_at=now - timedelta(days=40))  # new, late
    soon = data_request(scene, title="Demande bientôt due", created_at=now - timedelta(days=26))  # due in 2-5 days
    services.post_message(soon, scene.member, "Bien reçu.")  # acknowledged
    waiting = question(scene, title="Question imprécise")
    services.ask_details(waiting, scene.member, "Quelle commune ?")  # needs_info
    assigned = question(scene, title="Question assignée")
    services.assign_thread(assigned, scene.member, scene.member)  # new, assigned to the member
    closed = question(scene, title="Question close")
    services.change_status(closed, scene.member, ThreadStatus.RESOLVED)
    elsewhere = question(scene, title="Question de la Nièvre", dataset=None, organisation=scene.other_producer)
    db.session.commit()
    return {
        "fresh": fresh_question,
        "overdue": overdue,
        "soon": soon,
        "waiting": waiting,
        "assigned": assigned,
        "closed": closed,
        "elsewhere": elsewhere,
    }


def test_the_inbox_tabs_and_their_counts(web, scene, inbox):
    web.sign_in(scene.member)

    response = web.get("/boite-de-reception")

    assert response.status_code == 200
    text = page_text(response)
    assert "Les fils adressés à DDT du Loiret." in text
    for label, number in [
        ("À traiter", 3),  # fresh, overdue, assigned
        ("En retard", 1),
        ("Échéance sous 7 jours", 1),
        ("En attente du demandeur", 1),
        ("Qui me sont assignés", 1),
        ("Tous les fils ouverts", 5),
    ]:
        assert f"{label} ({number})" in text, label


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("a-traiter", {"fresh", "overdue", "assigned"}),
        ("en-retard", {"overdue"}),
        ("echeance-proche", {"soon"}),
        ("attente-auteur", {"waiting"}),
        ("assignes", {"assigned"}),
        ("ouverts", {"fresh", "overdue", "soon", "waiting", "assigned"}),
    ],
)
def test_each_inbox_tab_lists_its_threads(web, scene, inbox, tab, expected):
    web.sign_in(scene.member)

    response = web.get(f"/boite-de-reception?onglet={tab}")

    listed = {int(i) for i in re.findall(r'<h3 class="fr-h6 fr-mb-1v"><a href="/fils/(\d+)"', html(response))}
    assert listed == {inbox[name].id for name in expected}


def test_the_assigned_tab_is_personal(web, scene, inbox):
    web.sign_in(scene.coordinator)

    assert "Qui me sont assignés (0)" in page_text(web.get("/boite-de-reception"))


def test_someone_in_no_service_gets_the_explanation(web, scene, inbox):
    web.sign_in(scene.other_user)

    response = web.get("/boite-de-reception")

    assert response.status_code == 200
    assert "Vous n'êtes membre d'aucun service producteur" in page_text(response)
    assert "À traiter" not in page_text(response)


def test_the_inbox_needs_to_be_signed_in(web, scene):
    response = web.get("/boite-de-reception")

    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/connexion")


def test_a_dreal_follows_the_open_public_threads_of_the_ddts_of_its_region_read_only(web, scene):
    dreal = factories.create_organisation(
        name="DREAL Centre-Val de Loire", kind=OrganisationKind.DREAL, territory_code="R24"
    )
    dreal_member = factories.create_user(name="Denise Dreal", organisation=dreal)
    in_region = question(scene, title="Question au Loiret")  # DDT du Loiret, D45, in R24
    closed = question(scene, title="Question close du Loiret")
    services.change_status(closed, scene.member, ThreadStatus.RESOLVED)
    data_request(scene, title="Demande restreinte du Loiret", restricted=True)
    question(scene, title="Question à la Nièvre", dataset=None, organisation=scene.other_producer)  # D58, in R27
    db.session.commit()
    web.sign_in(dreal_member)

    response = web.get("/boite-de-reception")

    text = page_text(response)
    assert "Fils ouverts des DDT(M) de la région (1) — lecture seule" in text
    regional = text.split("de la région (1) — lecture seule", 1)[1]
    assert "Question au Loiret" in regional
    for absent in ("Question close du Loiret", "Demande restreinte du Loiret", "Question à la Nièvre"):
        assert absent not in regional
    # Read only: nothing to change on those threads.
    page = web.get(f"/fils/{in_region.id}")
    assert "Changer le statut" not in page_text(page)
    assert web.post(f"/fils/{in_region.id}/statut", data={"status": "in_progress"}).status_code == 403
    assert fresh(in_region.id).status == "new"


# Triage ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["other_user", "author", "member", "other_producer"])
def test_triage_is_for_curators_only(web, scene, actor):
    web.sign_in(scene.actor(actor))

    assert web.get("/triage").status_code == 403
    assert web.post("/triage", data={"thread_id": "1", "organisation": scene.producer.slug}).status_code == 403


def test_triage_needs_to_be_signed_in(web, scene):
    response = web.get("/triage")

    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/connexion")


def test_routing_gives_the_thread_a_service_and_a_due_date(web, app, scene, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 15)
    unrouted = post_thread(
        scene.author,
        ThreadKind.MISSING_DATA,
        title="Haies bocagères",
        territory="D45",
        themes=("lc",),
        created_at=datetime(2026, 4, 30, 8, 0, tzinfo=UTC),  # Thursday 30 April 2026, 10:00 in Paris
    )
    web.sign_in(scene.curator)

    listed = web.get("/triage")
    assert "Fils à orienter (1)" in page_text(listed)
    assert "Haies bocagères" in page_text(listed)

    response = web.post("/triage", data={"thread_id": str(unrouted.id), "organisation": scene.producer.slug})

    assert response.status_code == 303
    thread = fresh(unrouted.id)
    assert thread.organisation_id == scene.producer.id
    # Fifteen working days, without 1 May, 8 May, Ascension and Whit Monday: Wednesday 27 May 2026.
    assert thread.due_at == datetime(2026, 5, 27, 8, 0, tzinfo=UTC)
    after = web.get("/triage")
    assert "« Haies bocagères » est adressé à DDT du Loiret." in page_text(after)
    assert "Tous les fils ont un service destinataire." in page_text(after)


# SQL queries do not grow with the data -------------------------------------------------------------------


def add_threads(scene, number: int, start: int = 0) -> list[Thread]:
    """`number` threads spread over authors, services, datasets and kinds, with votes and replies."""
    authors = [scene.author, scene.other_user]
    threads = []
    for index in range(start, start + number):
        producer = scene.producer if index % 2 else scene.other_producer
        dataset = factories.create_dataset(title=f"Jeu n° {index} des zones", organisation=producer)
        thread = post_thread(
            authors[index % 2],
            ThreadKind.DATA_REQUEST if index % 3 else ThreadKind.QUESTION,
            title=f"Zones inondables, demande n° {index}",
            dataset=dataset,
            restricted=index % 3 == 1,
            created_at=utcnow() - timedelta(days=index),
        )
        services.post_message(thread, scene.member if producer == scene.producer else scene.other_member, "Réponse.")
        services.toggle_vote(thread, scene.curator)
        if producer == scene.producer and index % 4 == 1:
            services.assign_thread(thread, scene.member, scene.coordinator)
        threads.append(thread)
    db.session.commit()
    return threads


@pytest.mark.parametrize("actor", ["anonymous", "member", "curator"])
@pytest.mark.parametrize("url", ["/fils", "/fils?q=zones", "/fils?tri=echeance&etat=ouverts"])
def test_the_list_runs_as_many_queries_whatever_the_number_of_threads(web, scene, actor, url):
    add_threads(scene, 2)
    web.sign_in(scene.actor(actor))
    small, response = web.count_queries(url)
    assert len(listed_ids(response)) >= 1

    add_threads(scene, 12, start=2)
    large, response = web.count_queries(url)

    assert len(listed_ids(response)) >= 8
    assert large <= small


def test_the_thread_page_runs_as_many_queries_whatever_the_number_of_messages(web, scene):
    thread = data_request(scene)
    services.assign_thread(thread, scene.member, scene.coordinator)
    db.session.commit()
    web.sign_in(scene.member)
    small, _ = web.count_queries(f"/fils/{thread.id}")

    people = [scene.author, scene.member, scene.other_user, scene.curator, scene.coordinator, scene.other_member]
    for index in range(49):
        person = people[index % len(people)]
        internal = person in (scene.member, scene.coordinator) and index % 4 == 0
        services.post_message(thread, person, f"Message n° {index}", internal=internal)
    services.change_status(thread, scene.member, ThreadStatus.IN_PROGRESS)
    db.session.commit()
    assert fresh(thread.id).messages_count == 50
    large, response = web.count_queries(f"/fils/{thread.id}")

    assert len(messages_on_page(response)) == 50
    assert large <= small


def test_the_inbox_runs_as_many_queries_whatever_the_number_of_threads(web, scene):
    add_threads(scene, 2)
    web.sign_in(scene.member)
    small, _ = web.count_queries("/boite-de-reception?onglet=ouverts")

    add_threads(scene, 14, start=2)
    large, response = web.count_queries("/boite-de-reception?onglet=ouverts")

    assert "Tous les fils ouverts (8)" in page_text(response)
    assert large <= small


def test_a_search_is_sorted_by_relevance_unless_asked_otherwise(web, scene, listing):
    by_relevance = web.get("/fils?q=zones")
    by_date = web.get("/fils?q=zones&tri=recent")
    relevance_without_words = web.get("/fils?tri=pertinence")

    assert re.search(r'<option value="pertinence"\s+selected>', html(by_relevance))
    assert re.search(r'<option value="recent"\s+selected>', html(by_date))
    assert listed_ids(by_relevance) == ids(listing, "t1")  # "Précision des zones inondables"
    # Without words there is nothing to weigh: the latest activity first.
    assert re.search(r'<option value="activite"\s+selected>', html(relevance_without_words))
    assert listed_ids(relevance_without_words) == ids(listing, "t5", "t3", "t4", "t2", "t1")


@pytest.mark.parametrize("actor", ["anonymous", "author", "member", "curator"])
@pytest.mark.parametrize("kind", [ThreadKind.DATA_REQUEST, ThreadKind.QUESTION])
def test_every_id_of_the_thread_page_is_unique_so_each_label_names_its_own_field(web, scene, actor, kind):
    thread = post_thread(scene.author, kind, dataset=scene.dataset)
    web.sign_in(scene.actor(actor))

    page = html(web.get(f"/fils/{thread.id}"))

    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    for target in re.findall(r'<label [^>]*for="([^"]+)"', page):
        assert ids.count(target) == 1, target
