"""Accent-insensitive full-text search, on SQLite (FTS5) and on PostgreSQL (text search).

Both backends index the same normalised text (lower case, accents removed, see `normalise`) and answer
the same query: every word of the query must appear, as a word or the start of one ("inond" finds
"inondation"). Which one runs follows the database dialect.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa

_WORD = re.compile(r"[0-9a-z]+")
MAX_QUERY_WORDS = 12


def normalise(text: str | None) -> str:
    """Lower case, accents and ligatures removed: "Église, Œuvre" → "eglise, oeuvre".

    Every step is a C-level string operation: this runs on every imported description. Letters are
    decomposed (NFKD) and whatever is left outside ASCII (combining accents, quotes, symbols) dropped.
    """
    if not text:
        return ""
    text = text.lower()
    if text.isascii():
        return text
    text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss").replace("’", "'").replace("‘", "'")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def query_words(query: str | None) -> list[str]:
    """The words of a search query, normalised, in order, without repeats."""
    words: list[str] = []
    for word in _WORD.findall(normalise(query)):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


class FullTextIndex:
    """One indexed text column of a table, searchable on both backends.

    On SQLite an external-content FTS5 table `<table>_fts` mirrors the column; on PostgreSQL a GIN index
    covers `to_tsvector('simple', column)`. Both are created by the migrations. The PostgreSQL index
    follows the table by itself; the FTS5 table is kept in step by whoever writes the column, in bulk:
    `forget(ids)` before rows change or go, `index(ids)` once they are written. (Row triggers would do
    it too, but at three times the cost of a catalogue import.)
    """

    def __init__(self, table: str, column: str):
        self.table = table
        self.column = column
        self.fts_table = f"{table}_fts"
        self.pg_index = f"ix_{table}_{column}_tsv"

    def apply(self, statement, dialect_name: str, id_column, text_column, words: list[str], any_word: bool = False):
        """Restrict `statement` to the rows matching every word (or, with `any_word`, one of them); returns
        it with a rank expression (lower is a better match) to order by."""
        if dialect_name == "postgresql":
            tsquery = sa.func.to_tsquery("simple", (" | " if any_word else " & ").join(f"{w}:*" for w in words))
            vector = sa.func.to_tsvector("simple", text_column)
            return statement.where(vector.op("@@")(tsquery)), -sa.func.ts_rank(vector, tsquery)
        fts = sa.table(self.fts_table, sa.column("rowid"), sa.column("rank"))
        expression = (" OR " if any_word else " ").join(f'"{w}"*' for w in words)
        statement = statement.join(fts, fts.c.rowid == id_column).where(
            sa.text(f"{self.fts_table} MATCH :fts_query").bindparams(fts_query=expression)
        )
        return statement, fts.c.rank

    def _sync(self, session, ids: list[int], *, delete: bool) -> None:
        if not ids or session.get_bind().dialect.name == "postgresql":
            return
        f, c, t = self.fts_table, self.column, self.table
        if delete:  # the FTS5 'delete' command needs the text that was indexed, still in the table
            sql = f"INSERT INTO {f}({f}, rowid, {c}) SELECT 'delete', id, {c} FROM {t} WHERE id IN :ids"
        else:
            sql = f"INSERT INTO {f}(rowid, {c}) SELECT id, {c} FROM {t} WHERE id IN :ids"
        statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
        session.execute(statement, {"ids": list(ids)})

    def forget(self, session, ids: list[int]) -> None:
        """Before rows are updated or deleted: take their current text out of the index."""
        self._sync(session, ids, delete=True)

    def index(self, session, ids: list[int]) -> None:
        """After rows are inserted or updated: put their text in the index."""
        self._sync(session, ids, delete=False)

    def owns(self, name: str) -> bool:
        """Whether a database object belongs to this index (migrations' autogenerate leaves it alone)."""
        return name == self.pg_index or name == self.fts_table or name.startswith(f"{self.fts_table}_")
