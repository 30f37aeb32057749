"""No page answers a 500 to a hostile query string: every GET rule of the URL map, filled with real ids, is
asked with out-of-range numbers and days, unknown values, repeated arguments and the XSS corpus's first
payloads, by an anonymous visitor and by a curator. A NUL character gets its French 400, nothing else a 5xx."""

from __future__ import annotations

import pytest

from feedback.input_limits import NUL_IN_REQUEST

from .. import factories
from ..threads.conftest import page_text
from .routes import fill, routes, user_of

HUGE = "99999999999999999999"
QUERIES = [
    f"page={HUGE}&du=0001-01-01&au=9999-12-31&fils=1,{HUGE},-3&tri=inconnu",
    "page=-1&du=2025-02-30&au=pas-une-date&type=inconnu&statut=inconnu&producteur=inconnu&theme=x&territoire=x",
    "q=<script>alert(1)</script>&q=%22%3E%3Csvg%20onload%3Dalert(1)%3E&titre={{7*7}}&jeu=javascript:alert(1)",
    "page=1e9&usage=inconnu&retard=2&mes-fils=oui&assignes=2&restreints=y&pour=moi&format=..%2F..%2Fetc%2Fpasswd",
    "q=" + "a" * 5000,
]


@pytest.mark.parametrize("role", ["anonymous", "curator"])
def test_no_get_route_answers_a_server_error_to_a_hostile_query(app, routed_scene, role):
    errors = {}
    for route in routes(app):
        if route.method != "GET":
            continue
        for query in QUERIES:
            client = app.test_client()
            user = user_of(routed_scene, role)
            with app.app_context():
                if user is not None:
                    client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
                url = fill(route, routed_scene)
            response = client.get(f"{url}?{query}")
            response.get_data()  # a streamed answer (the CSV exports) is read to its end: it may fail midway
            response.close()
            if response.status_code >= 500:
                errors[f"{route.key}?{query[:60]}"] = response.status_code

    assert errors == {}


def test_a_nul_character_in_any_query_is_a_french_400(app, routed_scene):
    for route in routes(app):
        if route.method != "GET" or route.endpoint == "static":  # files, served as they are, read no query
            continue
        with app.app_context():
            url = fill(route, routed_scene)
        response = app.test_client().get(f"{url}?q=a%00b")
        assert response.status_code == 400, route.key
        assert NUL_IN_REQUEST in page_text(response), route.key


FORMS = [
    {
        name: HUGE
        for name in (
            "version",
            "thread_id",
            "duplicate_of",
            "assignee",
            "resolution_dataset",
            "recommendation_id",
            "position",
            "priority",
            "audience",
            "producer",
            "organisation",
            "status",
            "kind",
            "quality_category",
            "role",
            "email",
            "days",
            "direction",
            "dataset",
            "territory",
            "theme",
            "use_case",
            "wished_on",
            "body",
            "title",
            "text",
        )
    },
    {
        "version": "-1",
        "status": "duplicate",
        "duplicate_of": f"https://ecologie.example/fils/{HUGE}",
        "wished_on": "0001-01-01",
        "du": "9999-12-31",
        "assignee": "-5",
        "direction": "sideways",
        "decline_reason": "inconnu",
        "body": "<script>alert(1)</script>",
    },
]


@pytest.mark.parametrize("form", range(len(FORMS)), ids=["huge-numbers", "odd-values"])
def test_no_state_changing_route_answers_a_server_error_to_hostile_form_values(app, routed_scene, form):
    errors = {}
    for route in routes(app):
        if route.method != "POST":
            continue
        for role in ("member", "curator"):
            client = app.test_client()
            user = user_of(routed_scene, role)
            with app.app_context():
                client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
                url = fill(route, routed_scene)
            response = client.post(url, data=FORMS[form])
            if response.status_code >= 500:
                errors[f"{route.key} as {role}"] = response.status_code

    assert errors == {}
