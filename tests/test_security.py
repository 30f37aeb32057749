"""Protections that the other tests switch off (CSRF, rate limits), security headers and error pages.

The apps built here share the test database with the session's app (the `db` fixture empties it)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Role, User
from feedback.extensions import db as _db

from . import factories
from .conftest import build_app

CSRF_MESSAGE = "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."


# --- helpers ---------------------------------------------------------------------------------------------


def html_of(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html_of(response), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csrf_token_of(response) -> str:
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html_of(response))
    assert found, "no CSRF token in the page"
    return found.group(1)


def is_signed_in(client) -> bool:
    return client.get("/compte").status_code == 200


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture(scope="module")
def csrf_app(app, tmp_path_factory):
    protected = build_app(app, tmp_path_factory, WTF_CSRF_ENABLED=True)
    yield protected
    with protected.app_context():
        _db.engine.dispose()


# --- CSRF ------------------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused_in_french(csrf_app, db):
    user = factories.create_user()
    client = csrf_app.test_client()

    response = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})

    assert response.status_code == 400
    assert "Requête incorrecte" in text(response)
    assert CSRF_MESSAGE in text(response)
    assert '<html lang="fr"' in html_of(response)
    assert not is_signed_in(client)


def test_signup_without_csrf_token_creates_nothing(csrf_app, db):
    client = csrf_app.test_client()

    response = client.post(
        "/inscription",
        data={
            "name": "Camille Martin",
            "email": "camille@exemple.fr",
            "employer_kind": "consultancy",
            "employer_name": "Hydro-Conseil",
            "password": "un-mot-de-passe-solide",
            "password_confirm": "un-mot-de-passe-solide",
        },
    )

    assert response.status_code == 400
    assert CSRF_MESSAGE in text(response)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_login_with_the_token_of_the_form_works(csrf_app, db):
    user = factories.create_user()
    client = csrf_app.test_client()
    token = csrf_token_of(client.get("/connexion"))

    response = client.post(
        "/connexion", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 303
    assert is_signed_in(client)


def test_login_with_a_forged_token_is_refused(csrf_app, db):
    user = factories.create_user()
    client = csrf_app.test_client()
    client.get("/connexion")

    response = client.post(
        "/connexion", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": "jeton-forge"}
    )

    assert response.status_code == 400
    assert CSRF_MESSAGE in text(response)


def test_logout_needs_the_token_too(csrf_app, db):
    user = factories.create_user()
    client = csrf_app.test_client()
    token = csrf_token_of(client.get("/connexion"))
    client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})

    refused = client.post("/deconnexion")
    assert refused.status_code == 400
    assert is_signed_in(client)

    page = client.get("/")
    accepted = client.post("/deconnexion", data={"csrf_token": csrf_token_of(page)})
    assert accepted.status_code == 303
    assert not is_signed_in(client)


def test_htmx_requests_send_the_token_in_a_header(csrf_app, db):
    user = factories.create_user()
    client = csrf_app.test_client()
    token = csrf_token_of(client.get("/connexion"))
    client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    body = re.search(r"<body hx-headers='([^']+)'>", html_of(client.get("/"))).group(1)
    headers = json.loads(unescape(body))

    response = client.post("/deconnexion", headers={"HX-Request": "true", **headers})

    assert response.status_code == 303
    assert not is_signed_in(client)


def test_curator_manages_members_with_the_tokens_of_the_page(csrf_app, db):
    organisation = factories.create_organisation(name="DDT du Loiret")
    member = factories.create_user(email="dominique@exemple.fr", name="Dominique Petit", organisation=organisation)
    factories.create_user(email="camille@exemple.fr", name="Camille Martin")
    curator = factories.create_user(email="curation@exemple.fr", role=Role.CURATOR)
    membership_id = member.memberships[0].id
    client = csrf_app.test_client()
    token = csrf_token_of(client.get("/connexion"))
    client.post("/connexion", data={"email": curator.email, "password": factories.PASSWORD, "csrf_token": token})

    page = client.get(f"/organisations/{organisation.slug}")
    assert page.status_code == 200
    assert "Dominique Petit" in text(page)
    remove_form = re.search(
        rf'<form method="post" action="/organisations/{organisation.slug}/membres/{membership_id}/retrait">'
        r"(.*?)</form>",
        html_of(page),
        re.S,
    )
    assert remove_form, "no form to remove the member"
    assert 'name="csrf_token"' in remove_form.group(1)

    refused = client.post(f"/organisations/{organisation.slug}/membres", data={"email": "camille@exemple.fr"})
    assert refused.status_code == 400
    added = client.post(
        f"/organisations/{organisation.slug}/membres",
        data={"email": "camille@exemple.fr", "role": "member", "csrf_token": csrf_token_of(page)},
    )
    assert added.status_code == 303
    removed = client.post(
        f"/organisations/{organisation.slug}/membres/{membership_id}/retrait", data={"csrf_token": csrf_token_of(page)}
    )
    assert removed.status_code == 303
    after = client.get(f"/organisations/{organisation.slug}")
    assert "Camille Martin" in text(after)
    assert "Dominique Petit" not in text(after).replace("Dominique Petit ne fait plus partie", "")


# --- headers ---------------------------------------------------------------------------------------------


PAGES = ["/", "/jeux-de-donnees", "/organisations", "/connexion", "/inscription", "/page-inexistante"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_the_security_headers(client, url):
    response = client.get(url)

    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_htmx_fragments_and_redirects_carry_the_security_headers_too(client, db):
    dataset = factories.create_dataset()

    fragment = client.get("/jeux-de-donnees", query_string={"q": "zones"}, headers={"HX-Request": "true"})
    redirect = client.get("/jeux-de-donnees", query_string={"q": dataset.catalogue_id})

    for response in (fragment, redirect):
        assert "'unsafe-inline'" not in csp_directives(response)["script-src"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", PAGES)
def test_pages_hold_no_inline_script_the_policy_would_block(client, url):
    html = html_of(client.get(url))

    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert re.findall(r"<script\b[^>]*>\s*[^<\s]", html) == []
    assert re.search(r"\son[a-z]+\s*=", html) is None
    assert "hx-on" not in html
    assert "javascript:" not in html


def test_session_cookie_is_http_only_and_same_site(db, client):
    user = factories.create_user()

    response = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})

    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


# --- rate limits -----------------------------------------------------------------------------------------


def test_eleventh_login_attempt_in_a_minute_is_refused(limited_app, db):
    user = factories.create_user()
    client = limited_app.test_client()

    for _ in range(10):
        response = client.post("/connexion", data={"email": user.email, "password": "pas-le-bon-mot-de-passe"})
        assert response.status_code == 200
        assert "Adresse électronique ou mot de passe incorrect." in text(response)

    refused = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})

    assert refused.status_code == 429
    assert "Trop de tentatives" in text(refused)
    assert "Vous avez fait trop de tentatives. Réessayez dans quelques minutes." in text(refused)
    assert '<html lang="fr"' in html_of(refused)
    assert not is_signed_in(client)


def test_rate_limit_counts_only_login_attempts_not_page_views(limited_app, db):
    client = limited_app.test_client()

    for _ in range(15):
        assert client.get("/connexion").status_code == 200


def test_rate_limited_json_client_gets_json(limited_app, db):
    client = limited_app.test_client()
    for _ in range(10):
        client.post("/connexion", data={"email": "inconnu@exemple.fr", "password": "pas-le-bon-mot-de-passe"})

    response = client.post(
        "/connexion",
        data={"email": "inconnu@exemple.fr", "password": "pas-le-bon-mot-de-passe"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 429
    assert response.get_json()["error"] == "Trop de tentatives"


# --- error pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status", "title", "message"),
    [
        (
            "GET",
            "/page-inexistante",
            404,
            "Page introuvable",
            "La page que vous cherchez n'existe pas ou a été déplacée.",
        ),
        ("GET", "/jeux-de-donnees/000000000000000000000000", 404, "Page introuvable", "n'existe pas"),
        ("GET", "/deconnexion", 405, "Méthode non autorisée", "Cette action n'est pas possible à cette adresse."),
        (
            "DELETE",
            "/jeux-de-donnees",
            405,
            "Méthode non autorisée",
            "Cette action n'est pas possible à cette adresse.",
        ),
    ],
)
def test_error_pages_are_french_and_inside_the_dsfr_layout(client, method, url, status, title, message):
    response = client.open(url, method=method)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = html_of(response)
    assert '<html lang="fr"' in html
    assert f"<title>{title} — Retours sur les données Ecosphères</title>" in html
    assert f"<h1>{title}</h1>" in html
    assert f"Erreur {status}" in text(response)
    assert message in text(response)
    assert 'class="fr-header"' in html
    assert 'class="fr-footer"' in html
    assert 'href="/jeux-de-donnees"' in html


@pytest.mark.parametrize(
    ("method", "url", "status", "title"),
    [("GET", "/page-inexistante", 404, "Page introuvable"), ("GET", "/deconnexion", 405, "Méthode non autorisée")],
)
def test_json_client_gets_a_json_error(client, method, url, status, title):
    response = client.open(url, method=method, headers={"Accept": "application/json"})

    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == title
    assert body["message"]
    assert "<html" not in html_of(response)


def test_browser_accept_header_gets_the_html_error_page(client):
    response = client.get(
        "/page-inexistante", headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    )

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page introuvable" in text(response)


def test_csrf_error_for_a_json_client_is_json(csrf_app, db):
    response = csrf_app.test_client().post(
        "/connexion", data={"email": "a@exemple.fr", "password": "x"}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.get_json() == {"error": "Requête incorrecte", "message": CSRF_MESSAGE}
