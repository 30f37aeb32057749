"""A service's inbox counts its open threads under each tab from one index: the organisation's open threads by
deadline (what the index already held, for the list) now also carry their status and their assignee, so that the
counts read the index alone instead of a row of the table per thread (the busiest service has thousands).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 19:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_thread_inbox", "thread", ["organisation_id", "is_open", "due_at", "status", "assignee_id"])
    op.drop_index("ix_thread_organisation_open_due", table_name="thread")


def downgrade():
    op.create_index("ix_thread_organisation_open_due", "thread", ["organisation_id", "is_open", "due_at"])
    op.drop_index("ix_thread_inbox", table_name="thread")
