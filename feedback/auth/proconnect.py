"""The OpenID Connect client of ProConnect, the State's agents' identity provider.

Authorization code flow with PKCE (S256), `state` and `nonce` (Authlib's OAuth2Session); the ID token's signature
checked against the provider's published keys (JWKS), then its issuer, audience, expiry and nonce (Authlib's
`CodeIDToken` claims, on the platform's clock); the person's claims read from the userinfo endpoint, which
ProConnect answers with a JWT signed like the ID token; logout at the provider (`end_session_endpoint`).

The provider's metadata and keys are fetched once per process and fetched again when a token names an unknown key
(the provider rotated its keys).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from threading import Lock
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from feedback import clock

SCOPES = "openid email given_name usual_name siret"
TIMEOUT_SECONDS = 10
# Signatures by the provider's published (public) keys only: never `none`, never a secret shared with clients.
SIGNING_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
# Clocks of the provider and of the platform may disagree by this much.
LEEWAY_SECONDS = 60

FAILED = "La connexion avec ProConnect n'a pas abouti"


class SignInFailed(Exception):
    """The answer of the provider cannot sign anyone in; the message is French, for the person."""


def is_configured(config) -> bool:
    """ProConnect is offered when its three settings are given."""
    return all(config.get(name) for name in ("PROCONNECT_ISSUER", "PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET"))


def provider_origin(config) -> str | None:
    """The provider's origin (scheme, host, port), which the browser is sent to."""
    if not is_configured(config):
        return None
    parts = urlsplit(config["PROCONNECT_ISSUER"])
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class _ProviderCache:
    metadata: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, KeySet] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock)


_cache = _ProviderCache()


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("ProConnect: %s unreachable: %s", url, error)
        raise SignInFailed(
            f"{FAILED} : le service ProConnect ne répond pas. Réessayez dans quelques minutes."
        ) from None


def metadata() -> dict:
    """The provider's discovery document (`/.well-known/openid-configuration`), checked to be its own."""
    issuer = current_app.config["PROCONNECT_ISSUER"]
    with _cache.lock:
        known = _cache.metadata.get(issuer)
    if known is not None:
        return known
    document = _get_json(f"{issuer}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer:
        current_app.logger.warning("ProConnect: the discovery document names issuer %r", document.get("issuer"))
        raise SignInFailed(f"{FAILED} : le service ProConnect est mal configuré.")
    with _cache.lock:
        _cache.metadata[issuer] = document
    return document


def _key_set(*, refresh: bool = False) -> KeySet:
    issuer = current_app.config["PROCONNECT_ISSUER"]
    with _cache.lock:
        known = None if refresh else _cache.keys.get(issuer)
    if known is not None:
        return known
    key_set = KeySet.import_key_set(_get_json(metadata()["jwks_uri"]))  # type: ignore[arg-type]
    with _cache.lock:
        _cache.keys[issuer] = key_set
    return key_set


def _decode_signed(token: str):
    """A JWT of the provider, its signature checked with the provider's keys (fetched again for an unknown key)."""
    provider = metadata()
    announced = set(provider.get("id_token_signing_alg_values_supported") or []) | set(
        provider.get("userinfo_signing_alg_values_supported") or []
    )
    registry = JWSRegistry(algorithms=sorted(announced & SIGNING_ALGORITHMS) or ["ES256", "RS256"])
    try:
        try:
            return jwt.decode(token, _key_set(), registry=registry)
        except InvalidKeyIdError:
            return jwt.decode(token, _key_set(refresh=True), registry=registry)
    except (JoseError, ValueError) as error:
        current_app.logger.warning("ProConnect: a token's signature was refused: %s", error)
        raise SignInFailed(f"{FAILED} : la réponse de ProConnect n'a pas pu être vérifiée.") from None


def _session(redirect_uri: str | None = None) -> OAuth2Session:
    config = current_app.config
    return OAuth2Session(
        client_id=config["PROCONNECT_CLIENT_ID"],
        client_secret=config["PROCONNECT_CLIENT_SECRET"],
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
    )


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser keeps (in its signed session) between leaving for ProConnect and coming back."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str

    def as_dict(self) -> dict[str, str]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "redirect_uri": self.redirect_uri,
        }

    @classmethod
    def from_dict(cls, data: Any) -> PendingSignIn | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{name: str(data[name]) for name in ("state", "nonce", "code_verifier", "redirect_uri")})
        except KeyError:
            return None


def authorization_request(redirect_uri: str) -> tuple[str, PendingSignIn]:
    """The provider's address to send the browser to, and what to keep until it comes back."""
    pending = PendingSignIn(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
    )
    url, _ = _session(redirect_uri).create_authorization_url(
        metadata()["authorization_endpoint"],
        state=pending.state,
        nonce=pending.nonce,
        code_verifier=pending.code_verifier,
        acr_values="eidas1",
    )
    return url, pending


@dataclass(frozen=True)
class Identity:
    """Who ProConnect says signed in."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    given_name: str
    usual_name: str
    siret: str | None
    acr: str | None
    amr: list[str]
    id_token: str

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.given_name, self.usual_name) if part).strip()


def _text_claim(claims: dict, name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def complete_sign_in(arguments: dict[str, str], pending: PendingSignIn | None) -> Identity:
    """Check the provider's answer (the query of the redirect back) against what the browser kept, exchange the
    code, check the ID token and read the person's claims. Raises SignInFailed with a French message."""
    if "error" in arguments:
        description = arguments.get("error_description") or arguments["error"]
        current_app.logger.info("ProConnect answered an error: %s", description)
        raise SignInFailed(f"{FAILED} : ProConnect a refusé la demande ou vous l'avez annulée.")
    if pending is None:
        raise SignInFailed(f"{FAILED} : la demande a expiré ou a déjà servi. Recommencez la connexion.")
    if not hmac.compare_digest(arguments.get("state", ""), pending.state):
        raise SignInFailed(f"{FAILED} : la réponse ne correspond pas à la demande envoyée (paramètre « state »).")
    code = arguments.get("code", "")
    if not code:
        raise SignInFailed(f"{FAILED} : ProConnect n'a pas donné de code d'autorisation.")
    issuer = current_app.config["PROCONNECT_ISSUER"]
    returned_issuer = arguments.get("iss")
    if returned_issuer is not None and returned_issuer.rstrip("/") != issuer:
        raise SignInFailed(f"{FAILED} : la réponse ne vient pas de ProConnect.")

    provider = metadata()
    client = _session(pending.redirect_uri)
    try:
        token = client.fetch_token(
            provider["token_endpoint"],
            code=code,
            code_verifier=pending.code_verifier,
            redirect_uri=pending.redirect_uri,
            timeout=TIMEOUT_SECONDS,
        )
    except Exception as error:  # the provider refuses the code (used, expired, wrong verifier) or cannot be reached
        current_app.logger.warning("ProConnect: the code was refused: %s", error)
        raise SignInFailed(
            f"{FAILED} : le code d'autorisation a été refusé (déjà utilisé ou expiré). Recommencez la connexion."
        ) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed(f"{FAILED} : ProConnect n'a pas donné de jeton d'identité.")

    decoded = _decode_signed(id_token)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "values": [issuer]}, "aud": {"essential": True}},
        {
            "nonce": pending.nonce,
            "client_id": current_app.config["PROCONNECT_CLIENT_ID"],
            "access_token": token.get("access_token"),
        },
    )
    try:
        claims.validate(now=int(clock.now().timestamp()), leeway=LEEWAY_SECONDS)
    except JoseError as error:
        current_app.logger.warning("ProConnect: an ID token was refused: %s", error)
        raise SignInFailed(_id_token_refusal(error)) from None
    audiences = decoded.claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if current_app.config["PROCONNECT_CLIENT_ID"] not in audiences:
        raise SignInFailed(f"{FAILED} : le jeton d'identité n'est pas destiné à cette plateforme.")

    userinfo = _userinfo(client, provider, token["access_token"])
    subject = str(decoded.claims["sub"])
    if str(userinfo.get("sub")) != subject:
        raise SignInFailed(f"{FAILED} : les informations de ProConnect ne concernent pas la personne connectée.")
    email = _text_claim(userinfo, "email")
    if not email or "@" not in email:
        raise SignInFailed(f"{FAILED} : ProConnect n'a pas donné d'adresse électronique.")
    amr = decoded.claims.get("amr")
    siret = _text_claim(userinfo, "siret")
    return Identity(
        issuer=issuer,
        subject=subject,
        email=email,
        email_verified=userinfo.get("email_verified") is True,
        given_name=_text_claim(userinfo, "given_name"),
        usual_name=_text_claim(userinfo, "usual_name"),
        siret=siret or None,
        acr=decoded.claims.get("acr") if isinstance(decoded.claims.get("acr"), str) else None,
        amr=[str(method) for method in amr] if isinstance(amr, list) else [],
        id_token=id_token,
    )


def _id_token_refusal(error: JoseError) -> str:
    claim = getattr(error, "claim", "")
    if claim == "exp":
        return f"{FAILED} : le jeton d'identité a expiré. Recommencez la connexion."
    if claim == "nonce":
        return f"{FAILED} : le jeton d'identité ne correspond pas à cette connexion (paramètre « nonce »)."
    if claim in ("iss", "aud", "azp"):
        return f"{FAILED} : le jeton d'identité n'est pas destiné à cette plateforme."
    return f"{FAILED} : le jeton d'identité n'est pas valide."


def _userinfo(client: OAuth2Session, provider: dict, access_token: str) -> dict:
    try:
        response = client.get(
            provider["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            withhold_token=True,
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except requests.RequestException as error:
        current_app.logger.warning("ProConnect: userinfo refused: %s", error)
        raise SignInFailed(f"{FAILED} : ProConnect n'a pas donné les informations du compte.") from None
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        decoded = _decode_signed(response.text.strip())
        if decoded.claims.get("iss", "").rstrip("/") != current_app.config["PROCONNECT_ISSUER"]:
            raise SignInFailed(f"{FAILED} : les informations du compte ne viennent pas de ProConnect.")
        return dict(decoded.claims)
    try:
        return dict(response.json())
    except ValueError:
        raise SignInFailed(f"{FAILED} : ProConnect n'a pas donné les informations du compte.") from None


def logout_url(id_token: str, post_logout_redirect_uri: str, state: str) -> str | None:
    """The provider's logout address for the session that `id_token` opened, then back to the platform with
    `state` (ProConnect asks for one)."""
    try:
        endpoint = metadata().get("end_session_endpoint")
    except SignInFailed:
        return None
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri, "state": state})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
