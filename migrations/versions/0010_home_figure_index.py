"""The home page's share of data requests answered in time reads a narrow index of its own
(`feedback.capitalisation.home_figure`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 13:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ["kind", "visibility", "created_at", "is_open", "due_at", "answered_at"]


def upgrade():
    op.create_index("ix_thread_kind_deadlines", "thread", COLUMNS)


def downgrade():
    op.drop_index("ix_thread_kind_deadlines", table_name="thread")
