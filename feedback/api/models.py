"""Personal API tokens: a secret shown once to its owner, kept only as its SHA-256 digest."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import User
from feedback.database import UTCDateTime, utcnow
from feedback.extensions import Model


class ApiToken(Model):
    """A personal token: `Authorization: Bearer <secret>` acts as its owner on the API until it is revoked, or
    the account is suspended or deleted. The secret is 256 random bits: its digest is enough to find it, and
    no slow hash is needed (nothing to guess). `prefix`, the secret's first characters, lets its owner tell
    their tokens apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute (`tokens.LAST_USE_PRECISION`), so that reading the API costs no write.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… of {self.user_id}>"
