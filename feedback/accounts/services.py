"""Operations on accounts and organisations. They change the session and flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

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
    UserSession,
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
    user: User, kind: str, token: str, subject: str, template: str, *, to_address: str | None = None, **context
) -> OutgoingMail | None:
    """Queue an account mail to the account's address (or `to_address`). `template` names a pair of templates
    of `templates/mail/` (a `.txt` and an `.html`), or a path of its own with a slash."""
    context.update(user=user)
    path = template if "/" in template else f"mail/{template}"
    return queue_mail(
        f"account:{kind}:{user.id}:{tokens.token_digest(token)}",
        to_address or user.email,
        subject,
        render_template(f"{path}.txt", **context),
        render_template(f"{path}.html", **context),
        recipient_id=user.id,
    )


def _queue_account_notice(
    user: User, kind: str, subject: str, paragraphs: list[str], *, to_address: str | None = None, **context
) -> OutgoingMail | None:
    """A mail that tells the person what happened to their account (no link to act on, except `link`)."""
    context.setdefault("link", None)
    return _queue_account_mail(
        user,
        kind,
        secrets.token_urlsafe(12),
        subject,
        "accounts/mail/notice",
        to_address=to_address,
        title=subject,
        paragraphs=paragraphs,
        **context,
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
    end_all_sessions(user)
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


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    return db.session.scalars(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    ).first()


def organisation_coordinators(organisation: Organisation) -> list[User]:
    """The active coordinators of an organisation."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == MembershipRole.COORDINATOR.value,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def curators() -> list[User]:
    """The active curators (and administrators)."""
    return list(db.session.scalars(sa.select(User).where(User.is_curator, User.active.is_(True)).order_by(User.id)))


# --- SIRET of the services ---------------------------------------------------------------------------------------

INVALID_SIRET = "Le SIRET doit compter 14 chiffres et être valide (clé de contrôle)."
# La Poste's establishments: their SIRET follow their own rule (sum of the digits a multiple of 5).
LA_POSTE_SIREN = "356000000"


def check_siret(value: str) -> str:
    """The SIRET written without spaces, when it has 14 digits and a right check digit (Luhn; La Poste's own
    rule for its establishments). Raises AccountError."""
    siret = re.sub(r"[\s.]", "", value or "")
    if not re.fullmatch(r"[0-9]{14}", siret):
        raise AccountError(INVALID_SIRET)
    if siret.startswith(LA_POSTE_SIREN) and siret != "35600000000048":
        valid = sum(int(digit) for digit in siret) % 5 == 0
    else:
        total = 0
        for position, digit in enumerate(reversed(siret)):
            number = int(digit) * (2 if position % 2 else 1)
            total += number - 9 if number > 9 else number
        valid = total % 10 == 0
    if not valid:
        raise AccountError(INVALID_SIRET)
    return siret


def organisation_by_siret(siret: str) -> Organisation | None:
    return db.session.scalars(sa.select(Organisation).where(Organisation.siret == siret)).first()


def set_organisation_siret(organisation: Organisation, value: str) -> None:
    """Give an organisation its SIRET (an empty value takes it away). Raises AccountError for a SIRET that is not
    valid or that another organisation has."""
    siret = check_siret(value) if value.strip() else None
    if siret is not None:
        holder = organisation_by_siret(siret)
        if holder is not None and holder.id != organisation.id:
            raise AccountError(f"Ce SIRET est déjà celui de l'organisation « {holder.name} ».")
    organisation.siret = siret
    db.session.flush()


def create_account_signed_elsewhere(*, email: str, name: str, email_verified: bool, employer_name: str = "") -> User:
    """An account for a State agent who signed in with an identity provider (ProConnect). It gets a random password
    nobody knows, so that it is a full account (mails, notifications) and « Mot de passe oublié ? » can give it
    one; its address is confirmed when the provider verified it."""
    return create_user(
        email=email,
        name=name,
        password=secrets.token_urlsafe(32),
        employer_kind=EmployerKind.STATE_SERVICE,
        employer_name=employer_name,
        confirmed=email_verified,
    )


def signed_in_elsewhere(user: User) -> None:
    """Note a sign-in through an identity provider, as `authenticate` does for a password."""
    user.last_login_at = utcnow()
    db.session.flush()


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


# --- browser sessions -------------------------------------------------------------------------------------

# How often a live session's `last_seen_at` is written: often enough to tell a person when each of their
# browsers was last used, seldom enough not to write on every page.
SESSION_SEEN_EVERY = timedelta(minutes=10)
USER_AGENT_LENGTH = 255


def start_session(user: User, *, user_agent: str = "", remembered: bool = False) -> UserSession:
    """A new server-side session for a browser that just signed in; it becomes `user.browser_session`, which
    the cookies will name (`User.get_id`)."""
    browser_session = UserSession(
        key=secrets.token_urlsafe(32),
        user=user,
        user_agent=re.sub(r"[\x00-\x1f\x7f]", "", user_agent or "")[:USER_AGENT_LENGTH],
        remembered=remembered,
    )
    db.session.add(browser_session)
    db.session.flush()
    user.browser_session = browser_session
    return browser_session


def user_of_session(cookie_id: str) -> User | None:
    """The account a session cookie or a remember-me cookie names (`User.get_id`), when its server-side session
    is live and the account active; None otherwise (ended session, suspended account, tampered or old cookie)."""
    user_id, _, key = cookie_id.partition(":")
    if not user_id.isdigit() or not key:
        return None
    browser_session = db.session.scalars(
        sa.select(UserSession)
        .join(UserSession.user)
        .options(contains_eager(UserSession.user))
        .where(UserSession.key == key, UserSession.ended_at.is_(None))
    ).first()
    if browser_session is None or browser_session.user_id != int(user_id) or not browser_session.user.active:
        return None
    user = browser_session.user
    user.browser_session = browser_session
    return user


def session_seen(browser_session: UserSession) -> bool:
    """Note that the session is being used; True when `last_seen_at` was changed (and needs a commit)."""
    now = utcnow()
    if now - browser_session.last_seen_at < SESSION_SEEN_EVERY:
        return False
    browser_session.last_seen_at = now
    db.session.flush()
    return True


def end_session(browser_session: UserSession | None) -> None:
    """End one browser's session: its cookies, wherever they were copied, stop working."""
    if browser_session is not None and browser_session.ended_at is None:
        browser_session.ended_at = utcnow()
        db.session.flush()


def end_all_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """End every live session of the account (but `keep`, the browser that asks, when given): « se déconnecter
    partout », a password change or reset, a suspended account. Returns how many were ended."""
    ended = [browser_session for browser_session in live_sessions(user) if browser_session is not keep]
    now = utcnow()
    for browser_session in ended:
        browser_session.ended_at = now
    db.session.flush()
    return len(ended)


def live_sessions(user: User) -> list[UserSession]:
    """The browsers the account is signed in with, the most recently used first."""
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


# --- sign-up without telling who has an account --------------------------------------------------------------


def register(
    *, email: str, name: str, password: str, employer_kind: EmployerKind, employer_name: str
) -> OutgoingMail | None:
    """Sign-up as the form does it. A new address gets an account and the mail that confirms it; an address
    that already has an account gets no second one, and its owner a mail saying someone tried (at most one an
    hour). The caller answers the same in both cases, so that the form tells nobody which addresses have an
    account. Returns the mail to send, if any."""
    existing = find_user_by_email(email)
    if existing is None:
        user = create_user(
            email=email, name=name, password=password, employer_kind=employer_kind, employer_name=employer_name
        )
        return queue_confirmation_mail(user)
    check_password_strength(password)
    User().set_password(password)  # as long as creating an account takes
    if not can_receive_account_mail(existing):
        return None
    return _queue_account_mail(
        existing,
        "signup-attempt",
        utcnow().strftime("%Y-%m-%dT%H"),  # one such mail an hour at most
        "Tentative de création d'un compte avec votre adresse",
        "accounts/mail/notice",
        title="Tentative de création d'un compte avec votre adresse",
        paragraphs=[
            "Quelqu'un, peut-être vous, a tenté de créer un compte sur la plateforme « Retours sur les données "
            "Ecosphères » avec votre adresse électronique. Votre compte existe déjà : aucun autre compte n'a été "
            "créé et le vôtre n'a pas changé.",
            "Si c'était vous, connectez-vous avec votre mot de passe, ou choisissez-en un nouveau avec "
            "« Mot de passe oublié ? » sur la page de connexion.",
            "Si ce n'était pas vous, ignorez ce courriel.",
        ],
        link=absolute_url("accounts.login"),
        link_label="Se connecter",
    )


# --- the account page: password, profile, address ------------------------------------------------------------

WRONG_CURRENT_PASSWORD = "Le mot de passe actuel n'est pas le bon."


def change_password(user: User, current_password: str, new_password: str) -> OutgoingMail | None:
    """Change the password from the account page: the current one is asked, the new one follows the sign-up
    rule, every other browser is signed out, and a mail tells the address. Raises AccountError."""
    if not user.check_password(current_password):
        raise AccountError(WRONG_CURRENT_PASSWORD)
    check_password_strength(new_password)
    user.set_password(new_password)
    end_all_sessions(user, keep=user.browser_session)
    return _queue_account_notice(
        user,
        "password-changed",
        "Votre mot de passe a été changé",
        [
            "Le mot de passe de votre compte sur la plateforme « Retours sur les données Ecosphères » vient "
            "d'être changé depuis la page « Mon compte ». Les autres navigateurs connectés à votre compte ont été "
            "déconnectés.",
            "Si c'était vous, vous n'avez rien à faire.",
            "Si ce n'était pas vous, choisissez tout de suite un nouveau mot de passe avec « Mot de passe "
            "oublié ? » sur la page de connexion, puis prévenez l'administrateur de la plateforme.",
        ],
        link=absolute_url("accounts.forgotten_password"),
        link_label="Choisir un nouveau mot de passe",
    )


def update_profile(user: User, *, name: str, employer_kind: EmployerKind, employer_name: str) -> None:
    user.name = name.strip()
    user.employer_kind = EmployerKind(employer_kind).value
    user.employer_name = employer_name.strip()
    db.session.flush()


def request_email_change(user: User, password: str, new_email: str) -> OutgoingMail | None:
    """Mail a link to the new address; the address changes only when it is opened (`change_email`). An address
    that another account uses gets nothing, and the caller answers the same, so that the form tells nobody which
    addresses have an account. Raises AccountError for a wrong password or the account's own address."""
    if not user.check_password(password):
        raise AccountError(WRONG_CURRENT_PASSWORD)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("C'est déjà l'adresse de votre compte.")
    if find_user_by_email(new_email) is not None:
        return None
    token = tokens.email_change_token(user, new_email)
    return _queue_account_mail(
        user,
        "email-change",
        token,
        "Confirmez votre nouvelle adresse électronique",
        "accounts/mail/email_change",
        to_address=new_email,
        new_email=new_email,
        link=absolute_url("accounts.change_email", token=token),
        validity_hours=int(tokens.EMAIL_CHANGE_VALIDITY.total_seconds() // 3600),
    )


def change_email(token: str) -> tuple[User, OutgoingMail | None]:
    """Give the account the address a change-of-address link was sent to, and tell the former address. Raises
    `tokens.TokenError` for a link that cannot be used (or an address taken since)."""
    user, new_email = tokens.email_change_from_token(token)
    if find_user_by_email(new_email) is not None:
        raise tokens.TokenError(tokens.EMAIL_CHANGE_STALE)
    former = user.email
    user.email = new_email
    user.confirmed = True  # the link reached the new address
    db.session.flush()
    notice = _queue_account_notice(
        user,
        "email-changed",
        "L'adresse électronique de votre compte a changé",
        [
            "L'adresse électronique de votre compte sur la plateforme « Retours sur les données Ecosphères » "
            f"vient d'être remplacée par {new_email}. Les courriels de la plateforme iront désormais à cette "
            "adresse.",
            "Si ce n'était pas vous, prévenez tout de suite l'administrateur de la plateforme.",
        ],
        to_address=former,
    )
    return user, notice
