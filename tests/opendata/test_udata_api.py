"""The udata-compatible reading of the platform's public threads (feedback/api/udata.py): the shape of udata's
discussion API, its filters and pages, nothing that is not public, CORS for the configured origins, and the round
trip through the platform's own import (feedback/threads/udata.py)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from feedback.extensions import db
from feedback.threads.models import Thread
from feedback.threads.udata import import_discussions

from .. import factories
from .conftest import assert_nothing_closed

DISCUSSION_KEYS = {
    "id", "class", "subject", "title", "user", "organization", "created", "closed", "closed_by",
    "closed_by_organization", "discussion", "url", "extras", "permissions",
}  # fmt: skip
MESSAGE_KEYS = {"content", "posted_by", "posted_by_organization", "posted_on", "last_modified_at", "permissions"}


def listing(web, **arguments):
    response = web.get("/api/1/discussions/", query_string=arguments)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_dataset_s_public_discussions_in_udata_s_shape(web, scene, content):
    page = listing(web, **{"for": scene.dataset.catalogue_id})

    assert {key: page[key] for key in ("page", "page_size", "total", "next_page", "previous_page")} == {
        "page": 1, "page_size": 20, "total": 2, "next_page": None, "previous_page": None,
    }  # fmt: skip
    assert [d["title"] for d in page["data"]] == ["Géométries invalides", "Source des zones inondables"]
    question = page["data"][1]
    assert set(question) == DISCUSSION_KEYS
    assert question["id"] == str(content.question.id)
    assert question["subject"] == {"class": "Dataset", "id": scene.dataset.catalogue_id}
    assert question["user"]["first_name"] == "Alice Autrice"
    assert question["closed"] is None and question["closed_by"] is None
    assert all(set(message) == MESSAGE_KEYS for message in question["discussion"])
    assert [m["content"] for m in question["discussion"]] == [
        "D'où viennent ces zones ?", "Du PPRI approuvé en 2019.", "Merci pour la réponse.",
    ]  # fmt: skip
    answer = question["discussion"][1]
    assert answer["posted_by"]["first_name"] == "Mathilde Membre"
    assert answer["posted_by_organization"]["id"] == scene.producer.datagouv_id
    assert answer["posted_by_organization"]["name"] == "DDT du Loiret"
    assert answer["posted_on"] == content.answer.created_at.isoformat()
    assert question["discussion"][0]["posted_by_organization"] is None

    issue = page["data"][0]
    assert issue["closed"] == content.issue.closed_at.isoformat()
    assert issue["closed_by"]["first_name"] == "Mathilde Membre"
    assert issue["closed_by_organization"]["name"] == "DDT du Loiret"
    assert_nothing_closed(json.dumps(page, ensure_ascii=False))


def test_one_discussion_by_its_id_and_nothing_that_is_not_public(web, content):
    response = web.get(f"/api/1/discussions/{content.question.id}/")
    assert response.status_code == 200
    assert response.get_json()["title"] == "Source des zones inondables"
    assert_nothing_closed(response.get_data(as_text=True))

    for closed in (content.restricted, content.hidden, content.held):
        refused = web.get(f"/api/1/discussions/{closed.id}/")
        assert refused.status_code == 404
        assert refused.get_json()["status"] == 404
    assert web.get("/api/1/discussions/inconnue/").status_code == 404
    assert_nothing_closed(json.dumps(listing(web), ensure_ascii=False))


def test_filters_sorting_and_pages(web, scene, content):
    other = factories.create_dataset(title="Haies du bocage", organisation=scene.producer)
    from tests.threads.conftest import post_thread

    post_thread(scene.author, title="Haies arrachées", dataset=other)

    assert [d["title"] for d in listing(web, closed="true")["data"]] == ["Géométries invalides"]
    assert [d["title"] for d in listing(web, closed="false", **{"for": scene.dataset.catalogue_id})["data"]] == [
        "Source des zones inondables"
    ]
    assert listing(web, **{"for": [scene.dataset.catalogue_id, other.slug]})["total"] == 3
    assert listing(web, **{"for": "0123456789abcdef01234567"})["total"] == 0
    assert [d["title"] for d in listing(web, sort="title")["data"]] == [
        "Géométries invalides", "Haies arrachées", "Source des zones inondables",
    ]  # fmt: skip

    first = listing(web, sort="-title", page_size=2)
    assert [d["title"] for d in first["data"]] == ["Source des zones inondables", "Haies arrachées"]
    assert first["total"] == 3 and first["previous_page"] is None
    assert "page=2" in first["next_page"] and "page_size=2" in first["next_page"]
    second = web.get(first["next_page"]).get_json()
    assert [d["title"] for d in second["data"]] == ["Géométries invalides"]
    assert second["next_page"] is None and "page=1" in second["previous_page"]


def test_bad_arguments_are_a_json_400(web, db):
    too_many = {"for": [f"jeu-{number}" for number in range(51)]}
    for arguments in (
        {"page": "zéro"}, {"page": "0"}, {"page": "9" * 40}, {"page_size": "-3"}, {"sort": "votes"},
        {"closed": "peut-être"}, too_many,
    ):  # fmt: skip
        response = web.get("/api/1/discussions/", query_string=arguments)
        assert response.status_code == 400, arguments
        assert response.get_json()["status"] == 400
        assert response.get_json()["message"]


def test_cors_for_the_configured_origins_only(web, app, monkeypatch, content):
    monkeypatch.setitem(app.config, "FEEDBACK_CORS_ORIGINS", "https://ecologie.data.gouv.fr, https://www.data.gouv.fr")

    allowed = web.get("/api/1/discussions/", headers={"Origin": "https://ecologie.data.gouv.fr"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ecologie.data.gouv.fr"
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    other = web.get(f"/api/1/discussions/{content.question.id}/", headers={"Origin": "https://ailleurs.example"})
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers

    preflight = web.client.options(
        "/api/1/discussions/",
        headers={
            "Origin": "https://www.data.gouv.fr",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.data.gouv.fr"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "accept"


# What the import reads of a discussion: its id, subject, title, author, dates, who closed it, and each message's
# text, author, organisation and date.
READ_BY_THE_IMPORT = ("id", "subject", "title", "user", "created", "closed", "closed_by")
MESSAGE_READ_BY_THE_IMPORT = ("content", "posted_by", "posted_by_organization", "posted_on")


def read_by_the_import(discussion: dict) -> dict:
    read = {key: discussion[key] for key in READ_BY_THE_IMPORT}
    read["discussion"] = [{key: m[key] for key in MESSAGE_READ_BY_THE_IMPORT} for m in discussion["discussion"]]
    return read


def test_the_platform_s_udata_import_reads_back_what_the_api_answers(web, scene, content, tmp_path):
    answered = listing(web, **{"for": scene.dataset.catalogue_id})
    originals = {d["id"]: d for d in answered["data"]}
    page_file = tmp_path / "discussions.json"
    page_file.write_text(json.dumps(answered), encoding="utf-8")

    summary = import_discussions([page_file])
    db.session.commit()

    assert (summary.imported, summary.messages, summary.rejected) == (2, 5, [])
    imported = db.session.scalars(sa.select(Thread).where(Thread.udata_id.in_(originals)).order_by(Thread.id)).all()
    assert {thread.udata_id for thread in imported} == set(originals)
    for thread in imported:
        again = web.get(f"/api/1/discussions/{thread.udata_id}/").get_json()
        assert read_by_the_import(again) == read_by_the_import(originals[thread.udata_id])
    # Read again from the imported threads, the dataset's page answers each discussion twice, identically.
    both = listing(web, **{"for": scene.dataset.catalogue_id})
    assert both["total"] == 4
    assert sorted(json.dumps(read_by_the_import(d), sort_keys=True) for d in both["data"]) == sorted(
        json.dumps(read_by_the_import(d), sort_keys=True) for d in answered["data"] for _ in (1, 2)
    )
