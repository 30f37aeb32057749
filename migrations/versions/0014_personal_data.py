"""Personal data: `user_account.deleted_at`, set when a person deletes their account. The row stays, emptied of
everything personal, so that the threads and messages it signed stay readable under « Compte supprimé ».

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:00:00

"""

import sqlalchemy as sa
from alembic import op

from feedback.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("deleted_at", UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("deleted_at")
