"""Personal API tokens: created from the account page and shown once, kept hashed, sent as a Bearer token, their
last use recorded at most once a minute, revoked from the account page; a suspended or deleted account's tokens
stop working."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from feedback.api.models import ApiToken
from feedback.extensions import db

from ..threads.conftest import page_text


def _create_on_the_account_page(client, login, user, name="Tableau de bord"):
    login(user)
    response = client.post("/compte/jetons", data={"name": name})
    assert response.status_code == 200
    secret = re.search(r'id="api-token-secret"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)
    return response, secret


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_owner(client, login, scene):
    response, secret = _create_on_the_account_page(client, login, scene.author)

    assert response.headers["Cache-Control"] == "no-store"
    token = db.session.scalars(sa.select(ApiToken)).one()
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.secret_hash}
    account = page_text(client.get("/compte"))
    assert "Tableau de bord" in account and token.prefix in account and secret not in account

    program = client.application.test_client()  # no cookie: a program of the author's
    answer = program.get("/api/v1/threads?mine=true", headers={"Authorization": f"Bearer {secret}"})

    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers  # no session is opened for a token's request


def test_the_last_use_is_written_at_most_once_a_minute(client, scene, bearer, moment):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    moment(start)
    headers = bearer(scene.author)
    client.get("/api/v1/notifications", headers=headers)
    moment(start + timedelta(seconds=30))
    client.get("/api/v1/notifications", headers=headers)
    db.session.expire_all()
    assert db.session.scalars(sa.select(ApiToken.last_used_at)).one() == start

    moment(start + timedelta(seconds=61))
    client.get("/api/v1/notifications", headers=headers)
    db.session.expire_all()
    assert db.session.scalars(sa.select(ApiToken.last_used_at)).one() == start + timedelta(seconds=61)


def test_a_revoked_token_no_longer_works(client, login, scene):
    _, secret = _create_on_the_account_page(client, login, scene.author)
    token = db.session.scalars(sa.select(ApiToken)).one()

    revoked = client.post(f"/compte/jetons/{token.id}/revocation")

    assert revoked.status_code == 303
    answer = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert "Bearer" in answer.headers["WWW-Authenticate"]


def test_nobody_revokes_the_token_of_someone_else(client, login, scene, bearer):
    headers = bearer(scene.author)
    token = db.session.scalars(sa.select(ApiToken)).one()
    login(scene.other_user)

    client.post(f"/compte/jetons/{token.id}/revocation")

    client.post("/deconnexion")
    assert client.get("/api/v1/notifications", headers=headers).status_code == 200


def test_the_tokens_of_a_suspended_or_deleted_account_stop_working(client, scene, bearer):
    author_headers = bearer(scene.author)
    other_headers = bearer(scene.other_user)
    scene.author.active = False
    scene.other_user.deleted_at = datetime(2026, 3, 2, tzinfo=UTC)
    db.session.commit()

    assert client.get("/api/v1/notifications", headers=author_headers).status_code == 401
    assert client.get("/api/v1/notifications", headers=other_headers).status_code == 401


def test_an_unknown_or_malformed_token_is_refused(client, scene):
    for header in ("Bearer fbk_inconnu", "Bearer ", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer " + "x" * 500):
        answer = client.get("/api/v1/threads", headers={"Authorization": header})
        assert answer.status_code == 401, header


def test_a_token_needs_a_name(client, login, scene):
    login(scene.author)

    response = client.post("/compte/jetons", data={"name": "  "}, follow_redirects=True)

    assert "Donnez un nom à ce jeton." in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
