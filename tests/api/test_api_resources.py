"""Datasets by any identifier, organisations and their indicators, published reports, the caller's
notifications: what the HTML pages show, as JSON."""

from __future__ import annotations

from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.extensions import db

from ..threads.conftest import data_request, question


def test_a_dataset_is_read_by_any_identifier_with_its_visible_threads_by_status(client, scene):
    question(scene)
    data_request(scene, restricted=True)
    dataset = scene.dataset
    identifiers = [
        dataset.catalogue_id,
        dataset.slug,
        f"https://www.data.gouv.fr/fr/datasets/{dataset.slug}/",
        f"https://ecologie.data.gouv.fr/datasets/{dataset.catalogue_id}",
    ]

    answers = [client.get(f"/api/v1/datasets/{identifier}") for identifier in identifiers]

    assert [answer.status_code for answer in answers] == [200] * len(identifiers)
    body = answers[0].get_json()
    assert body["id"] == dataset.catalogue_id and body["organisation"]["slug"] == scene.producer.slug
    assert body["threads"]["total"] == 1 and body["threads"]["by_status"]["new"] == 1  # the restricted one left out
    assert client.get("/api/v1/datasets/0123456789abcdef01234567").status_code == 404


def test_a_dataset_s_threads_are_listed_as_the_caller_may_see_them(client, scene, bearer):
    public = question(scene)
    restricted = data_request(scene, restricted=True)

    anonymous = client.get(f"/api/v1/datasets/{scene.dataset.slug}/threads").get_json()
    author = client.get(f"/api/v1/datasets/{scene.dataset.slug}/threads", headers=bearer(scene.author)).get_json()

    assert [t["id"] for t in anonymous["data"]] == [public.id]
    assert {t["id"] for t in author["data"]} == {public.id, restricted.id}


def test_an_organisation_and_its_indicators(client, scene, bearer):
    thread = data_request(scene)
    client.post(
        f"/api/v1/threads/{thread.id}/messages",
        json={"body": "Nous préparons l'extrait."},
        headers=bearer(scene.member),
    )
    data_request(scene, restricted=True)

    organisation = client.get(f"/api/v1/organisations/{scene.producer.slug}").get_json()
    figures = client.get(f"/api/v1/organisations/{scene.producer.slug}/indicators").get_json()

    assert organisation["name"] == "DDT du Loiret" and organisation["threads"]["total"] == 1
    assert (figures["received"], figures["answered"], figures["data_requests"]) == (1, 1, 1)
    assert client.get("/api/v1/organisations/inconnue").status_code == 404


def test_only_published_reports_are_read(client, scene):
    draft = reports.create_report(scene.curator, "Bilan en préparation", Scope())
    published = reports.create_report(scene.curator, "Bilan du trimestre", Scope())
    reports.publish_report(published, scene.curator)
    db.session.commit()

    listed = client.get("/api/v1/reports").get_json()
    read = client.get(f"/api/v1/reports/{published.slug}").get_json()

    assert [r["slug"] for r in listed["data"]] == [published.slug]
    assert read["title"] == "Bilan du trimestre" and "recommendations" in read["figures"]
    assert client.get(f"/api/v1/reports/{draft.slug}").status_code == 404


def test_notifications_are_the_caller_s_own(client, scene, bearer):
    thread = question(scene)
    client.post(
        f"/api/v1/threads/{thread.id}/messages", json={"body": "Voici la source."}, headers=bearer(scene.member)
    )

    author = client.get("/api/v1/notifications", headers=bearer(scene.author)).get_json()
    other = client.get("/api/v1/notifications", headers=bearer(scene.other_user)).get_json()

    assert author["total"] >= 1 and author["data"][0]["link"].startswith(f"/fils/{thread.id}")
    assert other["total"] == 0
    anonymous = client.get("/api/v1/notifications")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == 'Bearer realm="api"'
