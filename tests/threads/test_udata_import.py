"""Import of data.gouv.fr discussions (feedback.threads.udata and `flask threads import-udata`), on the real
example page of the udata API (shared/data/catalogue/udata-api-discussions-example.json), whose three
discussions are on datasets of tests/fixtures/export-dataset-sample-small.csv."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Organisation, User
from feedback.catalogue.models import Dataset
from feedback.catalogue.services import import_catalogue
from feedback.extensions import db
from feedback.threads.models import Message, Subscription, Thread, ThreadEvent
from feedback.threads.udata import UnreadableDiscussions, import_discussions

from .conftest import count, listed_ids, page_text

LINK_404 = "6a0000000000000000000001"  # closed, answered by the DDT Aisne
MILLESIME = "6a0000000000000000000002"  # open, no answer
DICTIONARY = "6a0000000000000000000003"  # open, answered by the DREAL Aquitaine

AISNE_BRUIT = "67377126c48b675e7cc25368"  # DDT Aisne
AISNE_PPRN_L = "67f46b6b176705d9908b8c5e"  # DDT Aisne
AQUITAINE_TACHE_URBAINE = "56ec2e8a88ee38265ee1a630"  # DREAL Aquitaine
DDT_AISNE = "58ad720388ee381d53318fb0"
DREAL_AQUITAINE = "55bba52788ee387495a46ec1"

CAMILLE = "000000000000000000000001"
DOMINIQUE = "000000000000000000000002"

SUMMARY_FIRST = (
    "Discussions : 3 discussion(s) importée(s) (5 message(s)), 0 déjà présente(s), "
    "0 sur un jeu de données absent du catalogue, 0 rejetée(s)"
)
SUMMARY_AGAIN = (
    "Discussions : 0 discussion(s) importée(s) (0 message(s)), 3 déjà présente(s), "
    "0 sur un jeu de données absent du catalogue, 0 rejetée(s)"
)


@pytest.fixture
def example(shared_data):
    return shared_data / "catalogue" / "udata-api-discussions-example.json"


@pytest.fixture
def catalogue(db, small_export):
    import_catalogue([small_export])
    db.session.commit()


def run(runner, *paths):
    return runner.invoke(args=["threads", "import-udata", *(str(p) for p in paths)])


def thread_by_udata_id(udata_id: str) -> Thread:
    db.session.rollback()
    return db.session.scalars(sa.select(Thread).where(Thread.udata_id == udata_id)).one()


def messages_of(thread: Thread) -> list[Message]:
    return list(
        db.session.scalars(
            sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at, Message.id)
        )
    )


def organisation_id(datagouv_id: str) -> int:
    return db.session.scalar(sa.select(Organisation.id).where(Organisation.datagouv_id == datagouv_id))


def dataset_id(catalogue_id: str) -> int:
    return db.session.scalar(sa.select(Dataset.id).where(Dataset.catalogue_id == catalogue_id))


def placeholder(datagouv_id: str) -> User:
    return db.session.scalars(sa.select(User).where(User.datagouv_id == datagouv_id)).one()


def test_the_cli_imports_the_three_discussions(runner, catalogue, example):
    result = run(runner, example)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == SUMMARY_FIRST
    db.session.rollback()
    assert count(Thread) == 3
    assert count(Message) == 5
    assert set(db.session.scalars(sa.select(Thread.kind))) == {"question"}


def test_a_closed_discussion_becomes_a_resolved_thread_with_the_producers_answer(runner, catalogue, example):
    assert run(runner, example).exit_code == 0

    thread = thread_by_udata_id(LINK_404)

    assert thread.title == "Lien de téléchargement en erreur 404"
    assert (thread.kind, thread.visibility) == ("question", "public")
    assert thread.dataset_id == dataset_id(AISNE_BRUIT)
    assert thread.organisation_id == organisation_id(DDT_AISNE)
    assert thread.created_at == datetime(2025, 3, 3, 9, 12, tzinfo=UTC)
    assert (thread.status, thread.is_open) == ("resolved", False)
    assert thread.closed_at == datetime(2025, 3, 10, 16, 40, tzinfo=UTC)
    assert thread.first_response_at == datetime(2025, 3, 10, 16, 40, tzinfo=UTC)
    assert thread.last_activity_at == datetime(2025, 3, 10, 16, 40, tzinfo=UTC)
    assert (thread.messages_count, thread.public_messages_count, thread.followers_count) == (2, 2, 1)
    assert thread.author_id == placeholder(CAMILLE).id

    question, answer = messages_of(thread)
    assert question.body == "Bonjour,\nle lien vers l'archive SHP renvoie une erreur 404 depuis ce matin."
    assert (question.author_id, question.as_organisation_id) == (placeholder(CAMILLE).id, None)
    assert question.created_at == datetime(2025, 3, 3, 9, 12, tzinfo=UTC)
    assert answer.body == "Merci pour le signalement, le lien est corrigé."
    assert answer.author_id == placeholder(DOMINIQUE).id
    assert answer.as_organisation_id == organisation_id(DDT_AISNE)
    assert answer.created_at == datetime(2025, 3, 10, 16, 40, tzinfo=UTC)
    assert "<p>" in question.body_html

    events = db.session.scalars(
        sa.select(ThreadEvent).where(ThreadEvent.thread_id == thread.id).order_by(ThreadEvent.created_at)
    ).all()
    assert [(e.type, e.created_at) for e in events] == [
        ("created", datetime(2025, 3, 3, 9, 12, tzinfo=UTC)),
        ("status_changed", datetime(2025, 3, 10, 16, 40, tzinfo=UTC)),
    ]
    assert events[1].payload["status"] == "resolved"
    assert events[1].actor_id == placeholder(DOMINIQUE).id
    assert count(Subscription, Subscription.thread_id == thread.id, Subscription.user_id == placeholder(CAMILLE).id)


def test_an_open_discussion_without_answer_stays_new_with_a_due_date(runner, catalogue, example, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_SERVICE_TARGET_WORKING_DAYS", 15)
    assert run(runner, example).exit_code == 0

    thread = thread_by_udata_id(MILLESIME)

    assert thread.title == "Millésime 2024 disponible ?"
    assert thread.dataset_id == dataset_id(AISNE_PPRN_L)
    assert (thread.status, thread.is_open, thread.closed_at, thread.first_response_at) == ("new", True, None, None)
    assert thread.created_at == datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
    # Monday 2 June 2025 + 15 working days, Whit Monday (9 June) off: Tuesday 24 June 2025.
    assert thread.due_at == datetime(2025, 6, 24, 14, 0, tzinfo=UTC)
    assert [m.body for m in messages_of(thread)] == ["Bonjour, une mise à jour avec les données 2024 est-elle prévue ?"]


def test_an_answer_for_the_organisation_acknowledges_an_open_discussion(runner, catalogue, example):
    assert run(runner, example).exit_code == 0

    thread = thread_by_udata_id(DICTIONARY)

    assert thread.organisation_id == organisation_id(DREAL_AQUITAINE)
    assert thread.dataset_id == dataset_id(AQUITAINE_TACHE_URBAINE)
    assert (thread.status, thread.is_open) == ("acknowledged", True)
    assert thread.first_response_at == datetime(2025, 9, 18, 11, 5, tzinfo=UTC)
    assert thread.author_id == placeholder(DOMINIQUE).id
    answer = messages_of(thread)[-1]
    assert answer.as_organisation_id == organisation_id(DREAL_AQUITAINE)
    assert answer.author_id == placeholder(CAMILLE).id
    assert "<code>TYPE_ZONE</code>" in messages_of(thread)[0].body_html


def test_the_authors_get_placeholder_accounts_that_cannot_log_in(runner, catalogue, example, web):
    assert run(runner, example).exit_code == 0
    db.session.rollback()

    people = db.session.scalars(sa.select(User).where(User.datagouv_id.isnot(None)).order_by(User.datagouv_id)).all()

    assert [(p.datagouv_id, p.name) for p in people] == [(CAMILLE, "Camille Exemple"), (DOMINIQUE, "Dominique Exemple")]
    for person in people:
        assert person.password_hash is None
        assert person.active is False
        assert person.email.endswith(".invalid")
        for password in ("", "x", "mot-de-passe-solide-2026", "None"):
            response = web.post("/connexion", data={"email": person.email, "password": password})
            assert response.status_code == 200, password
            assert "Adresse électronique ou mot de passe incorrect." in page_text(response) or not password
        assert web.get("/boite-de-reception").status_code in (302, 303)  # still anonymous


def test_imported_threads_are_listed_and_searchable(runner, catalogue, example, web):
    assert run(runner, example).exit_code == 0

    found = web.get("/fils?q=telechargement")

    assert listed_ids(found) == [thread_by_udata_id(LINK_404).id]
    assert listed_ids(web.get("/fils?q=TYPE_ZONE")) == [thread_by_udata_id(DICTIONARY).id]
    assert "Réponse officielle" in page_text(web.get(f"/fils/{thread_by_udata_id(LINK_404).id}"))


def test_importing_again_imports_nothing(runner, catalogue, example):
    assert run(runner, example).exit_code == 0
    db.session.rollback()
    before = (count(Thread), count(Message), count(User), count(ThreadEvent), count(Subscription))

    result = run(runner, example)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == SUMMARY_AGAIN
    db.session.rollback()
    assert (count(Thread), count(Message), count(User), count(ThreadEvent), count(Subscription)) == before


def test_a_discussion_on_a_dataset_outside_the_catalogue_is_counted_and_listed(runner, catalogue, example, tmp_path):
    page = json.loads(example.read_text(encoding="utf-8"))
    stranger = dict(page["data"][1], id="6a00000000000000000000ff", subject={"class": "Dataset", "id": "f" * 24})
    page["data"].append(stranger)
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page), encoding="utf-8")

    result = run(runner, path)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "Discussions : 3 discussion(s) importée(s) (5 message(s)), 0 déjà présente(s), "
        "1 sur un jeu de données absent du catalogue, 0 rejetée(s)"
    )
    assert (
        f"Non importée — discussion 6a00000000000000000000ff : jeu de données {'f' * 24} absent du catalogue"
        in result.stderr
    )
    db.session.rollback()
    assert count(Thread) == 3
    assert count(Thread, Thread.udata_id == "6a00000000000000000000ff") == 0


def test_a_list_of_pages_in_one_file(runner, catalogue, example, tmp_path):
    page = json.loads(example.read_text(encoding="utf-8"))
    first = dict(page, data=page["data"][:1], total=3, next_page="https://www.data.gouv.fr/api/1/discussions/?page=2")
    second = dict(page, data=page["data"][1:], page=2, previous_page="https://www.data.gouv.fr/api/1/discussions/")
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([first, second]), encoding="utf-8")

    result = run(runner, path)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == SUMMARY_FIRST
    db.session.rollback()
    assert set(db.session.scalars(sa.select(Thread.udata_id))) == {LINK_404, MILLESIME, DICTIONARY}


BAD_FILES = {
    "not-json.json": ("{ ceci n'est pas du JSON", "JSON illisible"),
    "empty.json": ("", "JSON illisible"),
    "a-list-of-discussions.json": (
        json.dumps([{"id": "6a0000000000000000000009", "title": "Sans page"}]),
        "n'est pas une page de discussions udata",
    ),
    "no-data.json": (json.dumps({"page": 1, "total": 0}), "n'est pas une page de discussions udata"),
    "data-not-a-list.json": (json.dumps({"data": {"id": "x"}}), "n'est pas une page de discussions udata"),
    "a-number.json": ("42", "n'est pas une page de discussions udata"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_stops_everything_with_a_french_message(runner, catalogue, example, tmp_path, name):
    content, reason = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    users_before = count(User)

    # The good file comes first: what it would have imported is not kept either.
    result = run(runner, example, bad)

    assert result.exit_code != 0
    assert reason in result.stderr
    assert name in result.stderr
    assert "Rien n'a été importé." in result.stderr
    assert "Traceback" not in result.output
    db.session.rollback()
    assert count(Thread) == 0
    assert count(Message) == 0
    assert count(User) == users_before


def test_a_missing_file_or_a_binary_one_is_refused(runner, catalogue, tmp_path):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")

    for path in (tmp_path / "absent.json", binary):
        result = run(runner, path)
        assert result.exit_code != 0
        assert "Rien n'a été importé." in result.stderr
    db.session.rollback()
    assert count(Thread) == 0


def test_the_service_raises_on_a_bad_file_and_says_why(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [', encoding="utf-8")

    with pytest.raises(UnreadableDiscussions) as refused:
        import_discussions([bad])

    assert "JSON illisible (ligne 1" in str(refused.value)


def test_imported_discussions_count_in_the_dataset_panel(runner, catalogue, example, web):
    assert run(runner, example).exit_code == 0

    response = web.get(f"/jeux-de-donnees/{AISNE_BRUIT}")

    assert "Fils de discussion sur ce jeu de données (1)" in page_text(response)
    assert "Résolu : 1" in page_text(response)
