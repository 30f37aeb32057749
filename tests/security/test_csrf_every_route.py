"""Every state-changing rule of the URL map (POST, PUT, PATCH, DELETE) refuses a request without a valid CSRF
token, on an app with CSRF protection on, for an anonymous visitor and for a signed-in curator (who may do the
most). The same request with the token of a real page is not refused for CSRF: so a refusal is the token's doing,
not the form's. The rules come from `app.url_map`: a new route is covered as soon as it exists.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from feedback.extensions import csrf
from feedback.extensions import db as _db

from .. import factories
from ..conftest import build_app
from ..threads.conftest import page_text
from .routes import Route, fill, routes

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# The only routes without the CSRF check, and why: what authorises them instead is tested below.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: a mail program posts here on its own; the signed token in the address is
    # what authorises it (notifications/views.py).
    "POST /notifications/desabonnement/<token>",
}
CSRF_MESSAGE = "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."
# A form's fields, filled as a person would: whatever a route does not read it ignores.
FORM = {
    "body": "Bonjour, voici les précisions demandées.",
    "title": "Captages du Loiret",
    "name": "Camille Martin",
    "email": "camille@exemple.fr",
    "password": factories.PASSWORD,
    "motive": "Le service a besoin de plus de temps.",
    "text": "Publier les captages au format CSV.",
}


@pytest.fixture(scope="module")
def csrf_app(app, tmp_path_factory):
    protected = build_app(app, tmp_path_factory, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        _db.engine.dispose()


def page_token(client) -> str:
    """The token the pages give: to htmx (`<body hx-headers=…>`) when signed in, the same as the forms'; a visitor
    not signed in gets it from a form (the log-in form), as merely reading a page gives no token and no session."""
    body = client.get("/").get_data(as_text=True)
    headers = re.search(r"<body hx-headers='([^']+)'>", body)
    if headers:
        return json.loads(unescape(headers.group(1)))["X-CSRFToken"]
    assert "<body>" in body, "a page with neither a CSRF token for htmx nor a plain body"
    login_page = client.get("/connexion").get_data(as_text=True)
    form = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    assert form, "no CSRF token in the log-in form"
    return form.group(1)


def signed_in_client(app, user):
    client = app.test_client()
    if user is not None:
        response = client.post(
            "/connexion", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": page_token(client)}
        )
        assert response.status_code == 303
    return client


def state_changing_routes(app) -> list[Route]:
    return [route for route in routes(app) if route.method in STATE_CHANGING and route.key not in EXEMPT]


def test_the_url_map_has_state_changing_routes_to_check(app):
    assert len(state_changing_routes(app)) > 60


def test_only_the_listed_routes_are_exempt_from_the_check(csrf_app):
    def view_name(route: Route) -> str:
        view = csrf_app.view_functions[route.endpoint]
        return f"{view.__module__}.{view.__name__}"

    changing = [route for route in routes(csrf_app) if route.method in STATE_CHANGING]
    exempt = {route.key for route in changing if view_name(route) in csrf._exempt_views}

    assert exempt == EXEMPT
    # The API is exempt from Flask-WTF's own check: it checks a browser session's token itself, and a Bearer call
    # needs none (feedback/api/views.py `authenticate`); its POSTs are in the walk below all the same.
    assert {blueprint.name for blueprint in csrf._exempt_blueprints} == {"api"}


def test_the_exempt_unsubscription_needs_its_signed_token(csrf_app, routed_scene):
    client = csrf_app.test_client()

    forged = client.post("/notifications/desabonnement/WzEsICJhbGwiXQ.c2lnbmF0dXJlLWZhdXNzZQ")

    assert forged.status_code == 400


@pytest.mark.parametrize("role", ["anonymous", "curator"])
def test_every_state_changing_route_refuses_a_request_without_a_valid_token(csrf_app, routed_scene, role):
    scene = routed_scene
    user = scene.curator if role == "curator" else None
    accepted_with_the_token = []
    refused = {}
    for route in state_changing_routes(csrf_app):
        for token in (None, "jeton-forge", "IjAxMjM0NTY3ODki.Zm9yZ2Vk.c2lnbmF0dXJl"):
            client = signed_in_client(csrf_app, user)
            with csrf_app.app_context():
                url = fill(route, scene)
            data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
            response = client.open(url, method=route.method, data=data)
            if not (response.status_code == 400 and CSRF_MESSAGE in page_text(response)):
                refused[f"{route.key} token={token!r}"] = response.status_code
        client = signed_in_client(csrf_app, user)
        with csrf_app.app_context():
            url = fill(route, scene)
        response = client.open(url, method=route.method, data={**FORM, "csrf_token": page_token(client)})
        if not (response.status_code == 400 and CSRF_MESSAGE in page_text(response)):
            accepted_with_the_token.append(route.key)

    assert refused == {}, "state-changing requests accepted without a valid CSRF token"
    assert sorted(accepted_with_the_token) == sorted(route.key for route in state_changing_routes(csrf_app))


def test_an_htmx_request_without_the_header_is_refused_and_with_it_is_not(csrf_app, routed_scene):
    client = signed_in_client(csrf_app, routed_scene.member)
    with csrf_app.app_context():
        url = fill(Route("POST", "/fils/<int:thread_id>/suivi", "threads.follow"), routed_scene)

    refused = client.post(url, headers={"HX-Request": "true"})
    accepted = client.post(url, headers={"HX-Request": "true", "X-CSRFToken": page_token(client)})

    assert refused.status_code == 400
    assert accepted.status_code in (200, 303)
