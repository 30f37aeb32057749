"""ProConnect sign-in against a real OpenID provider: accounts created and linked, and every answer that must not
sign anyone in refused with a French message."""

from __future__ import annotations

import base64
import html
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey

from feedback import clock
from feedback.accounts.models import EmployerKind, User, UserSession
from feedback.auth import proconnect
from feedback.auth.models import ProConnectIdentity
from feedback.auth.views import ACR, AMR, ID_TOKEN, PENDING_SIGN_IN
from tests import factories
from tests.oidc_provider import CLIENT_ID

from .conftest import ACCOUNTS


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def users(db) -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.id)))


def identities(db) -> list[ProConnectIdentity]:
    return list(db.session.scalars(sa.select(ProConnectIdentity)))


def test_without_configuration_no_button_and_no_route(client):
    assert "ProConnect" not in text(client.get("/connexion"))
    assert client.get("/proconnect/connexion").status_code == 404
    assert client.get("/proconnect/retour?code=x&state=y").status_code == 404
    assert client.get("/proconnect/deconnexion").status_code == 404


def test_the_log_in_page_shows_the_button(client, proconnect_on):
    page = text(client.get("/connexion?next=/fils"))
    assert 'class="fr-connect"' in page
    assert "S’identifier avec" in page and "ProConnect" in page
    assert 'name="next" value="/fils"' in page


def test_the_authorization_request_uses_pkce_state_and_nonce(client, start_sign_in, proconnect_on):
    query = parse_qs(urlsplit(start_sign_in()).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://localhost/proconnect/retour"]
    assert set(query["scope"][0].split()) >= {"openid", "email", "siret", "given_name", "usual_name"}
    with client.session_transaction() as browser_session:
        pending = browser_session[PENDING_SIGN_IN]
    assert query["state"] == [pending["state"]] and query["nonce"] == [pending["nonce"]]
    assert pending["code_verifier"] not in start_sign_in()


def test_first_sign_in_creates_the_account_and_its_session(client, db, sign_in_with, proconnect_on):
    response = sign_in_with("agent-existant", next="/fils")

    assert response.status_code == 303
    assert response.headers["Location"] == "/fils"
    (user,) = users(db)
    assert user.email == ACCOUNTS["agent-existant"]["email"]
    assert user.name == "Dominique Leroy"
    assert user.confirmed and user.active and user.last_login_at is not None
    assert user.employer_kind == EmployerKind.STATE_SERVICE
    (identity,) = identities(db)
    assert (identity.user_id, identity.issuer, identity.subject) == (user.id, proconnect_on, "agent-existant")
    assert (identity.acr, identity.amr) == ("eidas1", "pwd")
    (browser_session,) = db.session.scalars(sa.select(UserSession)).all()
    assert browser_session.user_id == user.id and browser_session.ended_at is None
    with client.session_transaction() as cookie:
        assert cookie[ACR] == "eidas1" and cookie[AMR] == ["pwd"] and cookie[ID_TOKEN].count(".") == 2
        assert PENDING_SIGN_IN not in cookie
    assert "Dominique Leroy" in text(client.get("/compte"))


def test_the_next_sign_in_finds_the_same_account(client, db, sign_in_with, proconnect_on):
    sign_in_with("agent-existant")
    client.post("/deconnexion")
    response = sign_in_with("agent-existant")
    assert response.status_code == 303
    assert len(users(db)) == 1 and len(identities(db)) == 1


def test_an_unsafe_next_is_dropped(client, sign_in_with, proconnect_on):
    response = sign_in_with("agent-existant", next="//ailleurs.example/")
    assert response.headers["Location"] == "/"


def test_an_existing_account_is_linked_by_its_verified_address(client, db, sign_in_with, proconnect_on):
    existing = factories.create_user(email=ACCOUNTS["agent-existant"]["email"], name="D. Leroy")

    response = sign_in_with("agent-existant")

    assert response.status_code == 303
    assert [user.id for user in users(db)] == [existing.id]
    (identity,) = identities(db)
    assert identity.user_id == existing.id
    assert "ProConnect est maintenant rattaché à votre compte" in text(client.get("/"))


def test_an_unverified_address_is_never_linked(client, db, sign_in_with, proconnect_on):
    existing = factories.create_user(email=ACCOUNTS["agent-non-verifie"]["email"])

    response = sign_in_with("agent-non-verifie")

    assert response.status_code == 403
    page = text(response)
    assert "n'indique pas que cette adresse a été vérifiée" in page
    assert identities(db) == [] and [user.id for user in users(db)] == [existing.id]
    assert client.get("/compte").status_code == 302  # nobody signed in


def test_an_unverified_address_without_account_gets_an_unconfirmed_one(client, db, sign_in_with, proconnect_on):
    assert sign_in_with("agent-non-verifie").status_code == 303
    (user,) = users(db)
    assert not user.confirmed


def test_a_suspended_account_cannot_sign_in(client, db, sign_in_with, proconnect_on):
    factories.create_user(email=ACCOUNTS["agent-existant"]["email"], active=False)
    response = sign_in_with("agent-existant")
    assert response.status_code == 403
    assert "suspendu ou a été supprimé" in text(response)
    assert identities(db) == []


def test_a_linked_account_suspended_later_cannot_sign_in(client, db, sign_in_with, proconnect_on):
    sign_in_with("agent-existant")
    client.post("/deconnexion")
    (user,) = users(db)
    user.active = False
    db.session.commit()
    response = sign_in_with("agent-existant")
    assert response.status_code == 403
    assert db.session.scalars(sa.select(UserSession).where(UserSession.ended_at.is_(None))).all() == []


def test_a_tampered_state_is_refused(client, db, start_sign_in, provider_browser, proconnect_on):
    callback = provider_browser.sign_in(start_sign_in(), "agent-existant")
    path, query = callback.split("?", 1)
    arguments = parse_qs(query)
    arguments["state"] = ["x" + arguments["state"][0][1:]]

    response = client.get(path, query_string={name: values[0] for name, values in arguments.items()})

    assert response.status_code == 400
    assert "ne correspond pas à la demande envoyée (paramètre « state »)" in text(response)
    assert users(db) == []


def test_a_callback_without_a_pending_request_is_refused(client, db, proconnect_on):
    response = client.get("/proconnect/retour?code=abc&state=def")
    assert response.status_code == 400
    assert "a expiré ou a déjà servi" in text(response)


def test_a_replayed_code_is_refused_by_the_provider(client, db, start_sign_in, provider_browser, proconnect_on):
    callback = provider_browser.sign_in(start_sign_in(), "agent-existant")
    with client.session_transaction() as cookie:
        pending = dict(cookie[PENDING_SIGN_IN])
    assert client.get(callback).status_code == 303
    client.post("/deconnexion")

    # The platform forgets the request once used: a plain replay stops there…
    assert "a expiré ou a déjà servi" in text(client.get(callback))
    # …and a replay that also brings the request back is refused by the provider, the code having served.
    with client.session_transaction() as cookie:
        cookie[PENDING_SIGN_IN] = pending
    response = client.get(callback)
    assert response.status_code == 400
    assert "le code d'autorisation a été refusé (déjà utilisé ou expiré)" in text(response)
    assert db.session.scalars(sa.select(sa.func.count(UserSession.id))).one() == 1


def test_a_wrong_nonce_is_refused(client, db, start_sign_in, provider_browser, proconnect_on):
    callback = provider_browser.sign_in(start_sign_in(), "agent-existant")
    with client.session_transaction() as cookie:
        cookie[PENDING_SIGN_IN] = {**cookie[PENDING_SIGN_IN], "nonce": "un-autre-nonce"}

    response = client.get(callback)

    assert response.status_code == 400
    assert "ne correspond pas à cette connexion (paramètre « nonce »)" in text(response)
    assert users(db) == []


def test_an_expired_id_token_is_refused(client, db, start_sign_in, provider_browser, proconnect_on, moment):
    callback = provider_browser.sign_in(start_sign_in(), "agent-existant")
    # The provider's ID tokens live an hour: read this one two hours later.
    moment(clock.now() + timedelta(hours=2))

    response = client.get(callback)

    assert response.status_code == 400
    assert "le jeton d'identité a expiré" in text(response)
    assert users(db) == []


def test_an_error_of_the_provider_is_explained(client, db, start_sign_in, proconnect_on):
    start_sign_in()
    with client.session_transaction() as cookie:
        state = cookie[PENDING_SIGN_IN]["state"]
    response = client.get(f"/proconnect/retour?error=access_denied&state={state}")
    assert response.status_code == 400
    assert "ProConnect a refusé la demande ou vous l'avez annulée" in text(response)


def test_logout_ends_the_session_here_then_at_the_provider(client, db, sign_in_with, proconnect_on):
    sign_in_with("agent-existant")
    with client.session_transaction() as cookie:
        id_token = cookie[ID_TOKEN]

    response = client.post("/deconnexion")
    assert response.status_code == 303 and response.headers["Location"] == "/proconnect/deconnexion"
    assert db.session.scalars(sa.select(UserSession.ended_at)).one() is not None

    response = client.get("/proconnect/deconnexion")
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{proconnect_on}/session/end"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://localhost/proconnect/deconnectee"]
    (state,) = query["state"]
    with client.session_transaction() as cookie:
        assert ID_TOKEN not in cookie and "after_logout_url" not in cookie
    # Once is enough: the next log-out of this browser stays on the platform.
    assert client.get("/proconnect/deconnexion").headers["Location"] == "/"

    # Back from the provider: the home page, which says so only for the state this browser left with.
    response = client.get("/proconnect/deconnectee", query_string={"state": "x" + state[1:]})
    assert response.headers["Location"] == "/"
    assert "aussi déconnecté·e de ProConnect" not in text(client.get("/"))
    # A state serves once: the test gives the browser its state back to come back with the right one.
    with client.session_transaction() as cookie:
        cookie["proconnect_logout_state"] = state
    assert client.get("/proconnect/deconnectee", query_string={"state": state}).headers["Location"] == "/"
    assert "Vous êtes aussi déconnecté·e de ProConnect." in text(client.get("/"))


def test_the_provider_logout_is_not_reached_while_signed_in(client, sign_in_with, proconnect_on):
    sign_in_with("agent-existant")
    assert client.get("/proconnect/deconnexion").headers["Location"] == "/"
    assert client.get("/compte").status_code == 200


def test_forms_may_lead_to_the_provider(client, proconnect_on):
    policy = client.get("/connexion").headers["Content-Security-Policy"]
    assert f"form-action 'self' {proconnect_on}" in policy
    assert "frame-ancestors 'none'" in policy


def test_a_token_signed_by_another_key_is_refused(app, proconnect_on):
    """The provider's keys (its JWKS) are the only ones trusted: a token with the right claims, signed by any other
    key, is refused — whether it names one of the provider's key ids or not."""
    forger = RSAKey.generate_key(2048)
    published = requests.get(f"{proconnect_on}/jwks", timeout=10).json()["keys"][0]["kid"]
    claims = {"iss": proconnect_on, "sub": "agent-existant", "aud": CLIENT_ID, "exp": 4102444800, "iat": 1}
    with app.test_request_context():
        for kid in (published, "cle-inconnue"):
            forged = jwt.encode({"alg": "RS256", "kid": kid}, claims, forger)
            with pytest.raises(proconnect.SignInFailed, match="n'a pas pu être vérifiée"):
                proconnect._decode_signed(forged)
        # Nor a token that claims to need no signature.
        unsigned = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none", "typ": "JWT"}, claims)
        )
        with pytest.raises(proconnect.SignInFailed, match="n'a pas pu être vérifiée"):
            proconnect._decode_signed(unsigned + ".")


def test_the_three_settings_are_needed(client, proconnect_on, monkeypatch):
    monkeypatch.setitem(client.application.config, "PROCONNECT_CLIENT_SECRET", "")
    assert "ProConnect" not in text(client.get("/connexion"))
    assert client.get("/proconnect/connexion").status_code == 404
