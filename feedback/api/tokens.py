"""Creating, revoking and recognising personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from feedback.accounts.models import User
from feedback.api.models import ApiToken
from feedback.database import utcnow
from feedback.extensions import db
from feedback.privacy.export import iso

# What every secret begins with: a token pasted where it should not be is recognisable (secret scanners).
SECRET_PREFIX = "fbk_"
# The last use is written when the one recorded is older than this: at most one write a minute per token.
LAST_USE_PRECISION = timedelta(minutes=1)
MAX_NAME_LENGTH = 100
MAX_LIVE_TOKENS = 20


class TokenError(Exception):
    """A token that cannot be created; the message is French, for the person."""


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str) -> CreatedToken:
    """A new token of `user`, named by them; the secret is returned once and only its digest is kept."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Donnez un nom à ce jeton, pour le reconnaître : par exemple le nom du script qui l'utilise.")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"Le nom d'un jeton ne dépasse pas {MAX_NAME_LENGTH} caractères.")
    if len(live_tokens(user)) >= MAX_LIVE_TOKENS:
        raise TokenError(f"Vous avez déjà {MAX_LIVE_TOKENS} jetons actifs : révoquez ceux qui ne servent plus.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[: len(SECRET_PREFIX) + 6],
        secret_hash=digest(secret),
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    return CreatedToken(token=token, secret=secret)


def live_tokens(user: User) -> list[ApiToken]:
    """The tokens of `user` that still work, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of `user`'s own tokens, or None (someone else's token does not exist for them)."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def user_of_secret(secret: str) -> tuple[ApiToken, User] | None:
    """The live token a secret names and its owner, while the account may act (active, not deleted); the last
    use is noted (flushed, for the caller to commit) when the one recorded is a minute old or more."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    found = db.session.execute(
        sa.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.secret_hash == digest(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    token, user = found
    if not user.active or user.deleted_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        token.last_used_at = now
        db.session.flush()
    return token, user


def tokens_as_personal_data(user: User) -> list[dict]:
    """The person's tokens, revoked ones included, as their personal data export lists them (never the secret,
    which is not kept, nor its hash)."""
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at))
    return [
        {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": iso(token.created_at),
            "last_used_at": iso(token.last_used_at),
            "revoked_at": iso(token.revoked_at),
        }
        for token in tokens
    ]


def erase_tokens(user: User) -> None:
    """With the account: its tokens go (their names and uses are the person's)."""
    db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))
