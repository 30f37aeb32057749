"""A dataset field takes a title: the folded titles are indexed (`feedback.catalogue.resolver.look_up_dataset`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_dataset_search_title", "dataset", ["search_title"])


def downgrade():
    op.drop_index("ix_dataset_search_title", table_name="dataset")
