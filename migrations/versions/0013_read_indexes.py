"""Full-text search on PostgreSQL reads a stored tsvector instead of parsing each row's text again.

A list of matches read in the order of an index (the latest threads holding a common word) checks every row
it meets against the query: with only an expression index, PostgreSQL parses the row's text each time
(about 0.1 ms a thread). A stored generated column `search_vector` holds the parsed text, and the GIN index
(same name as before) now covers that column. SQLite keeps its FTS5 tables: nothing changes there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 16:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("dataset", "thread")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_tsv")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(search_text, ''))) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_search_text_tsv ON {table} USING gin (search_vector)")
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_tsv")
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
        op.execute(f"CREATE INDEX ix_{table}_search_text_tsv ON {table} USING gin (to_tsvector('simple', search_text))")
