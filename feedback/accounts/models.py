"""People, the organisations they belong to, and their memberships."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model


class Role(enum.StrEnum):
    USER = "user"
    CURATOR = "curator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"user": "Usager", "curator": "Administrateur des données", "admin": "Administrateur"}[self]


CURATOR_ROLES = (Role.CURATOR, Role.ADMIN)


class EmployerKind(enum.StrEnum):
    """The kind of organisation a person works for, given at sign-up."""

    CONSULTANCY = "consultancy"
    LOCAL_AUTHORITY = "local_authority"
    ASSOCIATION = "association"
    STATE_SERVICE = "state_service"
    OTHER = "other"

    @property
    def label(self) -> str:
        return EMPLOYER_KIND_LABELS[self]


EMPLOYER_KIND_LABELS = {
    EmployerKind.CONSULTANCY: "Bureau d'études",
    EmployerKind.LOCAL_AUTHORITY: "Collectivité",
    EmployerKind.ASSOCIATION: "Association",
    EmployerKind.STATE_SERVICE: "Service de l'État",
    EmployerKind.OTHER: "Autre",
}


class OrganisationKind(enum.StrEnum):
    DDT = "ddt"
    DDTM = "ddtm"
    DREAL = "dreal"
    DEAL = "deal"
    DRIEAT = "drieat"
    DIR = "dir"
    PUBLIC_BODY = "public_body"
    CONSULTANCY = "consultancy"
    LOCAL_AUTHORITY = "local_authority"
    ASSOCIATION = "association"
    OTHER = "other"

    @property
    def label(self) -> str:
        return ORGANISATION_KIND_LABELS[self]


ORGANISATION_KIND_LABELS = {
    OrganisationKind.DDT: "DDT",
    OrganisationKind.DDTM: "DDTM",
    OrganisationKind.DREAL: "DREAL",
    OrganisationKind.DEAL: "DEAL",
    OrganisationKind.DRIEAT: "DRIEAT",
    OrganisationKind.DIR: "DIR",
    OrganisationKind.PUBLIC_BODY: "Établissement public",
    OrganisationKind.CONSULTANCY: "Bureau d'études",
    OrganisationKind.LOCAL_AUTHORITY: "Collectivité",
    OrganisationKind.ASSOCIATION: "Association",
    OrganisationKind.OTHER: "Autre",
}


class MembershipRole(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"

    @property
    def label(self) -> str:
        return {"member": "Membre", "coordinator": "Coordinateur"}[self]


class User(UserMixin, Model):
    __tablename__ = "user_account"
    __table_args__ = (
        allowed_values("role", Role),
        allowed_values("employer_kind", EmployerKind),
        # Addresses are stored lower-cased (see `normalise_email`), so this is case-insensitive.
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.USER.value)
    employer_kind: Mapped[str] = mapped_column(sa.String(32), default=EmployerKind.OTHER.value)
    employer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    confirmed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person deleted the account (`privacy.erasure`): the row stays, anonymous, for their contributions.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # data.gouv.fr user id of the placeholder accounts that imported discussions are signed with; such an
    # account has no password and cannot log in.
    datagouv_id: Mapped[str | None] = mapped_column(sa.String(24), unique=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")
    browser_sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("email")
    def _lower_email(self, key, value: str) -> str:
        return normalise_email(value)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def password_fingerprint(self) -> str:
        """Changes whenever the password does; reveals nothing usable about the hash."""
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]

    def get_id(self) -> str:
        """What the session cookie and the remember-me cookie hold: the account's id and the key of the browser
        session it was signed in with (`UserSession`), so that ending that row on the server signs the browser
        out whatever cookie it kept (`accounts.views.load_user`)."""
        browser_session = self.browser_session
        return f"{self.id}:{browser_session.key if browser_session else ''}"

    @property
    def browser_session(self) -> UserSession | None:
        """The server-side session of the browser this account is signed in with in the current request."""
        return self.__dict__.get("_browser_session")

    @browser_session.setter
    def browser_session(self, value: UserSession | None) -> None:
        self.__dict__["_browser_session"] = value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts.
        return self.active

    @hybrid_property
    def is_curator(self) -> bool:
        """A data administrator (curator or admin): routes, moderates, sees everything. In SQL too
        (`select(User).where(User.is_curator)`), so that no query names the role values."""
        return self.role in CURATOR_ROLES

    @is_curator.inplace.expression
    @classmethod
    def _is_curator_expression(cls):
        return cls.role.in_([role.value for role in CURATOR_ROLES])

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def employer_kind_label(self) -> str:
        return EmployerKind(self.employer_kind).label

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserSession(Model):
    """One signed-in browser: created at log-in, ended at log-out (or by « se déconnecter partout », a password
    change, a suspension). The cookies only name it (`User.get_id`); a cookie copied from a browser stops working
    as soon as its row is ended."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    remembered: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="browser_sessions")

    @property
    def is_live(self) -> bool:
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


class Organisation(Model):
    __tablename__ = "organisation"
    __table_args__ = (allowed_values("kind", OrganisationKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    slug: Mapped[str] = mapped_column(sa.String(255), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default=OrganisationKind.OTHER.value)
    # A code of the territory table (FR, R84, D45); a plain string so that accounts stay below catalogue.
    territory_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    datagouv_id: Mapped[str | None] = mapped_column(sa.String(24), unique=True)
    datagouv_slug: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str | None] = mapped_column(sa.String(500))
    full_name: Mapped[str | None] = mapped_column(sa.String(255))
    # The service's SIRET (14 digits, `accounts.services.check_siret`): ProConnect's `siret` claim names it.
    siret: Mapped[str | None] = mapped_column(sa.String(14), unique=True)
    is_producer: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation", cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return OrganisationKind(self.kind).label

    @property
    def overseen_region(self) -> str | None:
        """The région whose départements' services a regional service (DREAL, DEAL, DRIEAT) oversees."""
        regional = self.kind in (OrganisationKind.DREAL, OrganisationKind.DEAL, OrganisationKind.DRIEAT)
        code = self.territory_code or ""
        return code if regional and code.startswith("R") else None

    @property
    def datagouv_url(self) -> str | None:
        key = self.datagouv_slug or self.datagouv_id
        return f"https://www.data.gouv.fr/organizations/{key}/" if key else None

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.slug}>"


class Membership(Model):
    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "organisation_id"),
        allowed_values("role", MembershipRole),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=MembershipRole.MEMBER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")

    @property
    def role_label(self) -> str:
        return MembershipRole(self.role).label
