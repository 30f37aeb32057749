"""Operations of the ProConnect sign-in: the account of an identity, and requests to join a service. They change
the session and flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import contains_eager

from feedback.accounts import services as accounts
from feedback.accounts.models import MembershipRole, Organisation, User
from feedback.auth.models import JoinRequest, JoinRequestStatus, ProConnectIdentity
from feedback.auth.proconnect import Identity
from feedback.database import utcnow
from feedback.extensions import db
from feedback.notifications.models import NotificationKind
from feedback.notifications.services import notify

ACCOUNT_UNUSABLE = (
    "Ce compte est suspendu ou a été supprimé : il ne peut pas se connecter, avec ProConnect pas plus qu'avec un "
    "mot de passe. Pour toute question, écrivez à l'administrateur de la plateforme."
)
UNVERIFIED_ADDRESS = (
    "Un compte existe déjà sur la plateforme avec l'adresse {email}, mais ProConnect n'indique pas que cette adresse "
    "a été vérifiée : par sécurité, votre connexion ProConnect n'a pas été rattachée à ce compte. Connectez-vous avec "
    "votre mot de passe, ou faites vérifier votre adresse auprès de votre fournisseur d'identité."
)


class SignInRefused(Exception):
    """ProConnect said who the person is, but the platform cannot sign them in; the message is French."""


@dataclass(frozen=True)
class SignIn:
    user: User
    created: bool  # a new account
    linked: bool  # an existing account met its ProConnect identity


def identity_of(user: User) -> ProConnectIdentity | None:
    return db.session.scalars(sa.select(ProConnectIdentity).where(ProConnectIdentity.user_id == user.id)).first()


def sign_in(identity: Identity) -> SignIn:
    """The account of a ProConnect identity: the one it signed in with before, else the account of the same
    address when ProConnect verified the address (linked), else a new account. Never an account that cannot sign
    in (suspended, deleted), never a link on an address nobody verified. Raises SignInRefused."""
    known = db.session.scalars(
        sa.select(ProConnectIdentity).where(
            ProConnectIdentity.issuer == identity.issuer, ProConnectIdentity.subject == identity.subject
        )
    ).first()
    created = linked = False
    if known is not None:
        user = known.user
    else:
        existing = accounts.find_user_by_email(identity.email)
        if existing is None:
            user = accounts.create_account_signed_elsewhere(
                email=identity.email,
                name=(identity.name or identity.email.split("@")[0])[:120],
                email_verified=identity.email_verified,
            )
            created = True
        elif not identity.email_verified:
            raise SignInRefused(UNVERIFIED_ADDRESS.format(email=existing.email))
        elif identity_of(existing) is not None:
            # The account already signs in with another ProConnect identity: the address alone does not move it.
            raise SignInRefused(
                "Ce compte de la plateforme est déjà rattaché à une autre identité ProConnect. Connectez-vous avec "
                "celle-ci, ou écrivez à l'administrateur de la plateforme."
            )
        else:
            user = existing
            linked = True
        if not user.active or user.deleted_at is not None:
            raise SignInRefused(ACCOUNT_UNUSABLE)
        known = ProConnectIdentity(user=user, issuer=identity.issuer, subject=identity.subject)
        db.session.add(known)
    if not user.active or user.deleted_at is not None:
        raise SignInRefused(ACCOUNT_UNUSABLE)
    if identity.email_verified and user.email == identity.email.strip().lower() and not user.confirmed:
        user.confirmed = True
    known.siret = identity.siret if identity.siret and len(identity.siret) == 14 else None
    known.acr = (identity.acr or None) and identity.acr[:64]
    known.amr = " ".join(identity.amr)[:255] or None
    known.last_login_at = utcnow()
    accounts.signed_in_elsewhere(user)
    return SignIn(user=user, created=created, linked=linked)


# --- joining a service ---------------------------------------------------------------------------------------


def pending_request(user: User, organisation: Organisation) -> JoinRequest | None:
    return db.session.scalars(
        sa.select(JoinRequest).where(
            JoinRequest.user_id == user.id,
            JoinRequest.organisation_id == organisation.id,
            JoinRequest.status == JoinRequestStatus.PENDING.value,
        )
    ).first()


def joinable_organisation(user: User) -> Organisation | None:
    """The producer service the person may ask to join: the one whose SIRET their last ProConnect sign-in gave,
    when they do not belong to it yet and have not asked already."""
    identity = identity_of(user)
    if identity is None or not identity.siret:
        return None
    organisation = accounts.organisation_by_siret(identity.siret)
    if organisation is None or not organisation.is_producer:
        return None
    if accounts.membership_of(user, organisation) is not None or pending_request(user, organisation) is not None:
        return None
    return organisation


def _organisation_path(organisation: Organisation) -> str:
    return url_for("catalogue.organisation", slug=organisation.slug, _anchor="demandes-de-rattachement")


def _deciders(organisation: Organisation) -> list[User]:
    """Who is told of a request: the service's coordinators, or the curators when it has none."""
    return accounts.organisation_coordinators(organisation) or accounts.curators()


def request_to_join(user: User) -> JoinRequest:
    """Ask to join the service of one's ProConnect SIRET; its coordinators (or, without any, the curators) are
    told. Raises SignInRefused when there is no such service to join."""
    organisation = joinable_organisation(user)
    identity = identity_of(user)
    if organisation is None or identity is None or identity.siret is None:
        raise SignInRefused("Aucun service producteur ne correspond au SIRET de votre compte ProConnect.")
    join_request = JoinRequest(user=user, organisation=organisation, siret=identity.siret)
    db.session.add(join_request)
    db.session.flush()
    notify(
        _deciders(organisation),
        NotificationKind.JOIN_REQUEST,
        f"{user.name} ({user.email}), connecté·e avec ProConnect, demande à rejoindre {organisation.name}.",
        _organisation_path(organisation),
    )
    return join_request


def pending_requests(organisation: Organisation) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            sa.select(JoinRequest)
            .join(JoinRequest.user)
            .options(contains_eager(JoinRequest.user))
            .where(
                JoinRequest.organisation_id == organisation.id,
                JoinRequest.status == JoinRequestStatus.PENDING.value,
            )
            .order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def decide(join_request: JoinRequest, decider: User, *, accept: bool) -> None:
    """Accept (the person becomes a member of the service) or refuse a pending request; the person is told.
    Raises SignInRefused for a request already decided."""
    if join_request.status != JoinRequestStatus.PENDING:
        raise SignInRefused("Cette demande a déjà reçu une réponse.")
    organisation = join_request.organisation
    join_request.status = (JoinRequestStatus.ACCEPTED if accept else JoinRequestStatus.REFUSED).value
    join_request.decided_at = utcnow()
    join_request.decided_by = decider
    if accept:
        if accounts.membership_of(join_request.user, organisation) is None:
            accounts.add_member(join_request.user, organisation, MembershipRole.MEMBER)
        text = f"Votre demande pour rejoindre {organisation.name} a été acceptée : vous en êtes maintenant membre."
    else:
        text = f"Votre demande pour rejoindre {organisation.name} a été refusée."
    db.session.flush()
    notify(
        [join_request.user],
        NotificationKind.JOIN_REQUEST,
        text,
        url_for("catalogue.organisation", slug=organisation.slug),
    )
