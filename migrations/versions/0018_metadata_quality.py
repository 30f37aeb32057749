"""Each dataset keeps the result of the catalogue's metadata checks (`feedback.catalogue.quality`): its score
(0–100) and the ids of the checks it fails. Existing rows get them at the next import: their content hash is
cleared, so that the import rewrites every dataset once instead of leaving the unchanged ones unchecked.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dataset") as batch:
        batch.add_column(sa.Column("metadata_score", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("metadata_failed_checks", sa.JSON(), nullable=True))
    op.execute("UPDATE dataset SET content_hash = ''")


def downgrade():
    with op.batch_alter_table("dataset") as batch:
        batch.drop_column("metadata_failed_checks")
        batch.drop_column("metadata_score")
