"""Operations on accounts and organisations. They change the session and flush; the caller commits."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import contains_eager

from feedback.accounts import tokens
from feedback.accounts.models import (
    EmployerKind,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Role,
    User,
    normalise_email,
)
from feedback.database import utcnow
from feedback.extensions import db
from feedback.mail.models import OutgoingMail
from feedback.mail.outbox import queue_mail
from feedback.search import normalise

MIN_PASSWORD_LENGTH = 12


class AccountError(Exception):
    """A request on accounts that cannot be carried out; the message is French, for the person."""


def slugify(text: str, max_length: int = 200) -> str:
    slug = re.sub(r"[^0-9a-z]+", "-", normalise(text)).strip("-")
    return slug[:max_length].rstrip("-") or "organisation"


def unique_organisation_slug(base: str) -> str:
    slug = slugify(base)
    taken = set(
        db.session.scalars(
            sa.select(Organisation.slug).where(sa.or_(Organisation.slug == slug, Organisation.slug.like(f"{slug}-%")))
        )
    )
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    return f"{slug}-{number}"


_KIND_PATTERNS = [
    (re.compile(r"^(ddtm\b|direction departementale des territoires et de la mer)"), OrganisationKind.DDTM),
    (re.compile(r"^(ddt\b|direction departementale (et )?des territoires?\b)"), OrganisationKind.DDT),
    (re.compile(r"^(dreal\b|direction regionale de l'environnement)"), OrganisationKind.DREAL),
    (re.compile(r"^(deal\b)"), OrganisationKind.DEAL),
    (re.compile(r"^(drieat\b|direction regionale et interdepartementale de l.environnement)"), OrganisationKind.DRIEAT),
    (re.compile(r"^(dir\b|dirif\b|dirm\b|direction interdepartementale des routes)"), OrganisationKind.DIR),
]


def organisation_kind_from_name(name: str) -> OrganisationKind:
    """The kind of a State service from its usual name ("DDT Aisne", "Direction Départementale des
    Territoires et de la Mer du Var"…); any other publisher is a public body."""
    normalised = normalise(name).replace("’", "'")
    for pattern, kind in _KIND_PATTERNS:
        if pattern.search(normalised):
            return kind
    return OrganisationKind.PUBLIC_BODY


def organisation_by_slug(slug: str | None) -> Organisation | None:
    """The organisation of a URL or a form's choice."""
    if not slug:
        return None
    return db.session.scalars(sa.select(Organisation).where(Organisation.slug == slug)).first()


def find_organisation(key: str) -> Organisation | None:
    """An organisation by slug, data.gouv.fr id or numeric id."""
    key = key.strip()
    condition = sa.or_(Organisation.slug == key, Organisation.datagouv_id == key.lower())
    if key.isdigit():
        condition = sa.or_(condition, Organisation.id == int(key))
    return db.session.scalars(sa.select(Organisation).where(condition).limit(1)).first()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalars(sa.select(User).where(User.email == normalise_email(email))).first()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")


def create_user(
    *,
    email: str,
    name: str,
    password: str | None,
    role: Role = Role.USER,
    employer_kind: EmployerKind = EmployerKind.OTHER,
    employer_name: str = "",
    confirmed: bool = False,
) -> User:
    if find_user_by_email(email):
        raise AccountError("Un compte existe déjà avec cette adresse électronique.")
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role).value,
        employer_kind=EmployerKind(employer_kind).value,
        employer_name=employer_name.strip(),
        confirmed=confirmed,
    )
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, or None. The same answer, and about the same
    time, whether the address exists or not."""
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        # Hash anyway, so that an unknown address takes as long as a wrong password.
        User().set_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def absolute_url(endpoint: str, **values) -> str:
    """The address of a page for a mail: FEEDBACK_BASE_URL and the page's path, built without a request."""
    path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["FEEDBACK_BASE_URL"].rstrip("/") + path


def can_receive_account_mail(user: User) -> bool:
    """Placeholder accounts (imported data.gouv.fr authors, no password) and inactive accounts get no account
    mail: nobody could use the link."""
    return user.active and bool(user.password_hash)


def _queue_account_mail(
    user: User, kind: str, token: str, subject: str, template: str, **context
) -> OutgoingMail | None:
    context.update(user=user)
    return queue_mail(
        f"account:{kind}:{user.id}:{tokens.token_digest(token)}",
        user.email,
        subject,
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
        recipient_id=user.id,
    )


def queue_confirmation_mail(user: User) -> OutgoingMail | None:
    """Queue the mail with the link that confirms the account's address. None when there is nothing to send:
    the address is already confirmed, the account gets no mail, or the same mail is already queued."""
    if user.confirmed or not can_receive_account_mail(user):
        return None
    token = tokens.confirmation_token(user)
    return _queue_account_mail(
        user,
        "confirm",
        token,
        "Confirmez votre adresse électronique",
        "account_confirm",
        link=absolute_url("accounts.confirm_email", token=token),
        validity_days=tokens.CONFIRMATION_VALIDITY.days,
    )


def confirm_email(token: str) -> tuple[User, bool]:
    """Confirm the address a confirmation link was sent to; returns the account and whether it was not confirmed
    yet. Raises `tokens.TokenError` for a link that cannot be used."""
    user = tokens.user_from_confirmation_token(token)
    newly_confirmed = not user.confirmed
    user.confirmed = True
    db.session.flush()
    return user, newly_confirmed


def request_password_reset(email: str) -> OutgoingMail | None:
    """Queue a password reset mail for the account of this address, if there is one that can log in. The
    caller answers the same whatever this returns, so that the form tells nobody which addresses have an
    account."""
    user = find_user_by_email(email)
    if user is None or not can_receive_account_mail(user):
        return None
    token = tokens.password_reset_token(user)
    return _queue_account_mail(
        user,
        "reset",
        token,
        "Réinitialisation de votre mot de passe",
        "account_reset",
        link=absolute_url("accounts.new_password", token=token),
        validity_minutes=int(tokens.PASSWORD_RESET_VALIDITY.total_seconds() // 60),
    )


def reset_password(token: str, password: str) -> User:
    """Set the password of the account a reset link was sent for; the link dies with the old password. The link
    reached the account's address, which also confirms it. Raises `tokens.TokenError` for a link that cannot be
    used, AccountError for a password too weak."""
    user = tokens.user_from_password_reset_token(token)
    check_password_strength(password)
    user.set_password(password)
    user.confirmed = True
    db.session.flush()
    return user


def add_member(user: User, organisation: Organisation, role: MembershipRole = MembershipRole.MEMBER) -> Membership:
    """Attach a user to an organisation, or change their role if they already belong to it."""
    membership = db.session.scalars(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    ).first()
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=MembershipRole(role).value)
        db.session.add(membership)
    else:
        membership.role = MembershipRole(role).value
    db.session.flush()
    return membership


def remove_member(membership: Membership) -> None:
    db.session.delete(membership)
    db.session.flush()


def organisation_members(organisation: Organisation) -> list[Membership]:
    return list(
        db.session.scalars(
            sa.select(Membership)
            .where(Membership.organisation_id == organisation.id)
            .join(Membership.user)
            .options(contains_eager(Membership.user))
            .order_by(Membership.role, User.name)  # "coordinator" before "member"
        )
    )
