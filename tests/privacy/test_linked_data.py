"""The data the newer rooms hold about a person — the link to their ProConnect identity, their requests to join a
service, their API tokens — are in their download and go with their account."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.api import tokens
from feedback.api.models import ApiToken
from feedback.auth.models import JoinRequest, ProConnectIdentity
from feedback.extensions import db as _db
from feedback.privacy.erasure import delete_account
from feedback.privacy.export import personal_data

from .. import factories

SIRET = "13000548100010"


def _linked(scene):
    author = scene.author
    _db.session.add(
        ProConnectIdentity(
            user_id=author.id, issuer="https://proconnect.exemple", subject="agent-42", siret=SIRET, acr="eidas1"
        )
    )
    _db.session.add(JoinRequest(user_id=author.id, organisation_id=scene.producer.id, siret=SIRET))
    created = tokens.create_token(author, "Tableur de suivi")
    _db.session.commit()
    return created


def test_the_download_holds_the_identity_the_join_requests_and_the_tokens(scene, client):
    created = _linked(scene)
    data = personal_data(scene.author)

    assert data["proconnect"]["subject"] == "agent-42"
    assert data["proconnect"]["siret"] == SIRET
    assert [(j["organisation_slug"], j["status"]) for j in data["join_requests"]] == [(scene.producer.slug, "pending")]
    assert [(t["name"], t["prefix"]) for t in data["api_tokens"]] == [("Tableur de suivi", created.token.prefix)]
    assert created.secret not in str(data) and created.token.secret_hash not in str(data)
    # Another person's download holds none of it.
    other = personal_data(scene.other_user)
    assert other["proconnect"] is None and other["join_requests"] == [] and other["api_tokens"] == []

    signed_in = client.post("/connexion", data={"email": scene.author.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 303
    page = client.get("/compte/mes-donnees")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "agent-42" in text and "Tableur de suivi" in text and scene.producer.name in text


def test_deleting_the_account_deletes_them_and_its_token_stops_working(scene, client):
    created = _linked(scene)
    assert tokens.user_of_secret(created.secret) is not None

    delete_account(scene.author)
    _db.session.commit()

    for model in (ProConnectIdentity, JoinRequest, ApiToken):
        left = sa.select(sa.func.count()).select_from(model).where(model.user_id == scene.author.id)
        assert _db.session.scalar(left) == 0, model
    assert tokens.user_of_secret(created.secret) is None
    answer = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {created.secret}"})
    assert answer.status_code == 401
