"""Accounts' ProConnect identities and agents' requests to join a producer service."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import Organisation, User
from feedback.database import UTCDateTime, allowed_values, utcnow
from feedback.extensions import Model


class ProConnectIdentity(Model):
    """The ProConnect identity an account signs in with: the provider's `issuer` and its `sub` for the person,
    and what the last sign-in said (the `siret` of the agent's service, how they authenticated: `acr`, `amr`)."""

    __tablename__ = "proconnect_identity"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    acr: Mapped[str | None] = mapped_column(sa.String(64))
    # The methods of authentication (`amr`), separated by spaces.
    amr: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ProConnectIdentity {self.id} of user {self.user_id}>"


class JoinRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"pending": "En attente", "accepted": "Acceptée", "refused": "Refusée"}[self]


class JoinRequest(Model):
    """An agent asks to join the producer service whose SIRET ProConnect gave; a coordinator of that service or a
    curator accepts (the agent becomes a member) or refuses."""

    __tablename__ = "join_request"
    __table_args__ = (
        allowed_values("status", JoinRequestStatus),
        sa.Index("ix_join_request_organisation_status", "organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"))
    siret: Mapped[str] = mapped_column(sa.String(14))
    status: Mapped[str] = mapped_column(sa.String(10), default=JoinRequestStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return JoinRequestStatus(self.status).label

    def __repr__(self) -> str:
        return f"<JoinRequest {self.id} {self.status} of user {self.user_id} to organisation {self.organisation_id}>"
