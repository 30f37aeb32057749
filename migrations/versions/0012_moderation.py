"""Moderation: reports of messages and threads, threads hidden by the curators, first posts of new accounts held
for review, notifications of the outcome.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 17:10:00

"""

import sqlalchemy as sa
from alembic import op

from feedback.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "'thread_created', 'message', 'internal_note', 'status_changed', 'transferred', 'routed', "
    "'deadline_extended', 'assigned', 'followed_thread', 'deadline_reminder', 'escalation', 'report_published'"
)
KINDS = KINDS_BEFORE + ", 'moderation'"


def upgrade():
    op.create_table(
        "moderation_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "reason IN ('personal_data', 'abuse', 'spam', 'other')", name=op.f("ck_moderation_report_reason_allowed")
        ),
        sa.CheckConstraint("outcome IN ('hidden', 'dismissed')", name=op.f("ck_moderation_report_outcome_allowed")),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["user_account.id"],
            name=op.f("fk_moderation_report_reporter_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["thread.id"], name=op.f("fk_moderation_report_thread_id_thread"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_moderation_report_message_id_message"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_moderation_report_closed_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_report")),
    )
    with op.batch_alter_table("moderation_report", schema=None) as batch_op:
        batch_op.create_index("ix_moderation_report_open", ["closed_at", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_moderation_report_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_moderation_report_thread_id"), ["thread_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_moderation_report_message_id"), ["message_id"], unique=False)
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("held_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_allowed"), type_="check")
        batch_op.create_check_constraint("kind_allowed", sa.text(f"kind IN ({KINDS})"))


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'moderation'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_allowed"), type_="check")
        batch_op.create_check_constraint("kind_allowed", sa.text(f"kind IN ({KINDS_BEFORE})"))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("held_at")
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("hidden_at")
    op.drop_table("moderation_report")
