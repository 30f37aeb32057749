"""(to be written)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:00:00

"""

from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
