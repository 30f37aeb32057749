"""Replies by mail: every mail the receiver took is recorded once (`inbound_mail`), so that a mail delivered
twice creates one message.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00

"""

import sqlalchemy as sa
from alembic import op

from feedback.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=250), nullable=False),
        sa.Column("sender", sa.String(length=254), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("posted_message_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('posted', 'refused', 'ignored')", name=op.f("ck_inbound_mail_status_allowed")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mail")),
        sa.UniqueConstraint("message_key", name=op.f("uq_inbound_mail_message_key")),
    )


def downgrade():
    op.drop_table("inbound_mail")
