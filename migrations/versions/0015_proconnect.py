"""ProConnect sign-in: organisations' SIRET, accounts linked to an identity provider, requests to join a service.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 19:00:00

"""

import sqlalchemy as sa
from alembic import op

from feedback.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "'thread_created', 'followed_thread', 'message', 'internal_note', 'status_changed', 'transferred', 'routed', "
    "'deadline_extended', 'assigned', 'deadline_reminder', 'escalation', 'report_published', 'moderation'"
)
KINDS = KINDS_BEFORE + ", 'join_request'"


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("siret", sa.String(length=14), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisation_siret"), ["siret"])
    op.create_table(
        "proconnect_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("acr", sa.String(length=64), nullable=True),
        sa.Column("amr", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_proconnect_identity_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proconnect_identity")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_proconnect_identity_issuer_subject")),
        sa.UniqueConstraint("user_id", name=op.f("uq_proconnect_identity_user_id")),
    )
    op.create_table(
        "join_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'refused')", name=op.f("ck_join_request_status_allowed")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_join_request_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_join_request_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_join_request_decided_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_request")),
    )
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_join_request_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_join_request_organisation_status", ["organisation_id", "status"], unique=False)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_allowed"), type_="check")
        batch_op.create_check_constraint("kind_allowed", sa.text(f"kind IN ({KINDS})"))


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'join_request'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_allowed"), type_="check")
        batch_op.create_check_constraint("kind_allowed", sa.text(f"kind IN ({KINDS_BEFORE})"))
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.drop_index("ix_join_request_organisation_status")
        batch_op.drop_index(batch_op.f("ix_join_request_user_id"))
    op.drop_table("join_request")
    op.drop_table("proconnect_identity")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organisation_siret"), type_="unique")
        batch_op.drop_column("siret")
