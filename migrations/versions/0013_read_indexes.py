"""Full-text search: PostgreSQL reads a stored tsvector instead of parsing each row's text again; SQLite's
FTS5 tables get prefix indexes.

A list of matches read in the order of an index (the latest threads holding a common word) checks every row
it meets against the query: with only an expression index, PostgreSQL parses the row's text each time
(about 0.1 ms a thread). A stored generated column `search_vector` holds the parsed text, and the GIN index
(same name as before) now covers that column. Its storage is MAIN: kept in the row, compressed, rather than
moved to the TOAST table, where checking a row would cost a lookup of its own (the rows are rewritten once
to apply it).

On SQLite every search word is a prefix ("inond" finds "inondation"): without a prefix index FTS5 merges the
lists of every word starting with it at each query (10 ms for « zone » among 100,000 threads). The FTS5 tables
are made again with `prefix='2 3 4 5 6'` and rebuilt from their content tables.

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
FTS5 = (
    "CREATE VIRTUAL TABLE {table}_fts USING fts5(search_text, content='{table}', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', detail=none{options})"
)


def _make_fts_tables(options: str) -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        op.execute(FTS5.format(table=table, options=options))
        op.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _make_fts_tables(", prefix='2 3 4 5 6'")
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_tsv")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(search_text, ''))) STORED"
        )
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute(f"UPDATE {table} SET search_text = search_text")  # written again, with that storage
        op.execute(f"CREATE INDEX ix_{table}_search_text_tsv ON {table} USING gin (search_vector)")
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _make_fts_tables("")
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_text_tsv")
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
        op.execute(f"CREATE INDEX ix_{table}_search_text_tsv ON {table} USING gin (to_tsvector('simple', search_text))")
