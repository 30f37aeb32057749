"""Signed, expiring links sent by mail: e-mail confirmation, password reset and change of address.

Nothing is stored: the link carries what it is about, signed with the application's SECRET_KEY and a salt of
its own purpose (a confirmation link cannot be used to reset a password), and the signing time, from which
itsdangerous refuses a link older than its validity. What the link is about is checked against the account
as it is now, which makes a link die when the account changes: a confirmation link names the address it was
sent to (a changed address invalidates it), a reset link names a fingerprint of the current password hash (so
it serves once: the new password changes the hash), a change-of-address link names the address it replaces. A
random part makes each link new, so that a mail sent again is a new mail of the outbox, not the same one refused
as a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from feedback.accounts.models import User
from feedback.extensions import db

CONFIRMATION_SALT = "feedback.accounts.confirm-email"
PASSWORD_RESET_SALT = "feedback.accounts.reset-password"
EMAIL_CHANGE_SALT = "feedback.accounts.change-email"
EMAIL_CHANGE_VALIDITY = timedelta(hours=24)
CONFIRMATION_VALIDITY = timedelta(days=7)
PASSWORD_RESET_VALIDITY = timedelta(hours=1)

CONFIRMATION_EXPIRED = (
    "Ce lien de confirmation a expiré : il est valable 7 jours. Connectez-vous et demandez-en un nouveau "
    "depuis la page « Mon compte »."
)
CONFIRMATION_INVALID = (
    "Ce lien de confirmation n'est pas valide. Vérifiez qu'il a été copié en entier, ou connectez-vous et "
    "demandez-en un nouveau depuis la page « Mon compte »."
)
CONFIRMATION_STALE = (
    "Ce lien de confirmation a été envoyé à une adresse qui n'est plus celle de votre compte. Connectez-vous et "
    "demandez-en un nouveau depuis la page « Mon compte »."
)
RESET_EXPIRED = "Ce lien de réinitialisation a expiré : il est valable une heure. Demandez-en un nouveau."
RESET_INVALID = (
    "Ce lien de réinitialisation n'est pas valide. Vérifiez qu'il a été copié en entier, ou demandez-en un nouveau."
)
RESET_USED = (
    "Ce lien de réinitialisation a déjà servi : le mot de passe du compte a changé depuis son envoi. "
    "Demandez-en un nouveau si nécessaire."
)
EMAIL_CHANGE_EXPIRED = (
    "Ce lien de changement d'adresse a expiré : il est valable 24 heures. Refaites la demande depuis la page "
    "« Mon compte »."
)
EMAIL_CHANGE_INVALID = (
    "Ce lien de changement d'adresse n'est pas valide. Vérifiez qu'il a été copié en entier, ou refaites la "
    "demande depuis la page « Mon compte »."
)
EMAIL_CHANGE_STALE = (
    "Ce lien de changement d'adresse ne peut plus servir : l'adresse du compte a changé depuis son envoi, ou la "
    "nouvelle adresse est déjà utilisée. Refaites la demande depuis la page « Mon compte » si nécessaire."
)


class TokenError(Exception):
    """A link that cannot be used (expired, tampered with, already used); the message is French, for the person."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _nonce() -> str:
    return secrets.token_urlsafe(6)


def token_digest(token: str) -> str:
    """A short name of a token, for the outbox key of the mail that carries it (the token itself stays out of it)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _load(token: str, salt: str, validity: timedelta, *, expired: str, invalid: str) -> tuple[User, dict]:
    try:
        payload = _serializer(salt).loads(token, max_age=int(validity.total_seconds()))
    except SignatureExpired as error:
        raise TokenError(expired) from error
    except BadSignature as error:
        raise TokenError(invalid) from error
    user_id = payload.get("user") if isinstance(payload, dict) else None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise TokenError(invalid)
    return user, payload


def confirmation_token(user: User) -> str:
    return _serializer(CONFIRMATION_SALT).dumps({"user": user.id, "email": user.email, "nonce": _nonce()})


def user_from_confirmation_token(token: str) -> User:
    """The account whose address the link confirms; TokenError when the link is expired, tampered with, or was
    sent to an address the account no longer has."""
    user, payload = _load(
        token, CONFIRMATION_SALT, CONFIRMATION_VALIDITY, expired=CONFIRMATION_EXPIRED, invalid=CONFIRMATION_INVALID
    )
    if payload.get("email") != user.email:
        raise TokenError(CONFIRMATION_STALE)
    return user


def password_reset_token(user: User) -> str:
    return _serializer(PASSWORD_RESET_SALT).dumps(
        {"user": user.id, "password": user.password_fingerprint, "nonce": _nonce()}
    )


def user_from_password_reset_token(token: str) -> User:
    """The account whose password the link may set; TokenError when the link is expired, tampered with, already
    used (the password changed since), or the account cannot log in any more."""
    user, payload = _load(
        token, PASSWORD_RESET_SALT, PASSWORD_RESET_VALIDITY, expired=RESET_EXPIRED, invalid=RESET_INVALID
    )
    if not user.active or not user.password_hash:
        raise TokenError(RESET_INVALID)
    if not hmac.compare_digest(str(payload.get("password", "")), user.password_fingerprint):
        raise TokenError(RESET_USED)
    return user


def email_change_token(user: User, new_email: str) -> str:
    return _serializer(EMAIL_CHANGE_SALT).dumps(
        {"user": user.id, "email": user.email, "new_email": new_email, "nonce": _nonce()}
    )


def email_change_from_token(token: str) -> tuple[User, str]:
    """The account and the new address a change-of-address link confirms; TokenError when the link is expired,
    tampered with, or the account's address changed since it was sent."""
    user, payload = _load(
        token, EMAIL_CHANGE_SALT, EMAIL_CHANGE_VALIDITY, expired=EMAIL_CHANGE_EXPIRED, invalid=EMAIL_CHANGE_INVALID
    )
    new_email = payload.get("new_email")
    if not isinstance(new_email, str) or not new_email:
        raise TokenError(EMAIL_CHANGE_INVALID)
    if payload.get("email") != user.email or not user.active:
        raise TokenError(EMAIL_CHANGE_STALE)
    return user, new_email
