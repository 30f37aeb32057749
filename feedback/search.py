"""Accent-insensitive full-text search, on SQLite (FTS5) and on PostgreSQL (text search).

Both backends index the same normalised text (lower case, accents removed, see `normalise`) and answer
the same query: every word of the query must appear, as a word or the start of one ("inond" finds
"inondation"). Which one runs follows the database dialect.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa

from feedback.extensions import db

_WORD = re.compile(r"[0-9a-z]+")
MAX_QUERY_WORDS = 12
# On SQLite, a search with at most this many matches reads them by rowid; with more, it walks an index.
FEW_MATCHES = 2000


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


def title_relevance(title_column, words: list[str]):
    """How many of the words a normalised title holds: a relevance to sort matches by, the same on both
    databases and cheap however many rows match (bm25 would score every one of them)."""
    return sum(sa.case((title_column.contains(word, autoescape=True), 1), else_=0) for word in words)


def relevance_ranks(title_column, words: list[str]) -> list:
    """Conditions on a normalised title, best first: it holds all the words, all but one, … none. A list
    sorted by relevance reads its matches one rank at a time (`pagination.paginate`), each in the order of an
    index, rather than scoring and sorting every match of a common word."""
    if len(words) == 1:  # the common case, written so that PostgreSQL estimates how many titles hold the word
        holds = title_column.contains(words[0], autoescape=True)
        return [holds, sa.not_(holds)]
    # The first rank as a plain AND, which the planners estimate (a sum of CASEs they cannot): titles that hold
    # every word are the many matches of a common pair, read along the list's index.
    every_word = sa.and_(*(title_column.contains(word, autoescape=True) for word in words))
    relevance = title_relevance(title_column, words)
    return [every_word] + [relevance == held for held in range(len(words) - 1, -1, -1)]


def query_words(query: str | None) -> list[str]:
    """The words of a search query, normalised, in order, without repeats."""
    words: list[str] = []
    for word in _WORD.findall(normalise(query)):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


class FullTextIndex:
    """One indexed text column of a table, searchable on both backends.

    On SQLite an external-content FTS5 table `<table>_fts` mirrors the column; on PostgreSQL a stored
    generated column `search_vector` holds `to_tsvector('simple', column)` under a GIN index, so that a row
    is checked against a query without parsing its text again (an index walk in the order of a list checks
    each row it meets). Both are created by the migrations. The PostgreSQL column follows the table by
    itself; the FTS5 table is kept in step by whoever writes the column, in bulk:
    `forget(ids)` before rows change or go, `index(ids)` once they are written. (Row triggers would do
    it too, but at three times the cost of a catalogue import.)
    """

    def __init__(self, table: str, column: str):
        self.table = table
        self.column = column
        self.fts_table = f"{table}_fts"
        self.pg_index = f"ix_{table}_{column}_tsv"
        self.pg_column = "search_vector"

    def matching(self, dialect_name: str, id_column, text_column, words: list[str], any_word: bool = False):
        """A condition: the rows whose text holds every word (or, with `any_word`, one of them), each as a word
        or the start of one.

        On SQLite the matches come from the FTS5 table as a set of ids, computed once (`id IN (…)`), rather
        than the search being run again for every row the rest of the query looks at."""
        if dialect_name == "postgresql":
            tsquery = sa.func.to_tsquery("simple", (" | " if any_word else " & ").join(f"{w}:*" for w in words))
            return sa.literal_column(f"{self.table}.{self.pg_column}").op("@@")(tsquery)
        fts = sa.table(self.fts_table, sa.column("rowid"))
        expression = (" OR " if any_word else " ").join(f'"{w}"*' for w in words)
        matches = sa.select(fts.c.rowid).where(
            sa.text(f"{self.fts_table} MATCH :fts_query").bindparams(fts_query=expression)
        )
        # "+ 0" keeps the planner from fetching each match by its rowid: once statistics exist it would,
        # reading thousands of whole rows for a common word, where walking an index that covers the sort
        # and checking each entry against the set of matches reads far less. A rare word is the other way
        # round (the walk would cover the whole table to find a handful): its few matches are fetched by
        # rowid. Which one is told by counting the matches, no further than FEW_MATCHES + 1.
        probe = sa.select(sa.func.count()).select_from(matches.limit(FEW_MATCHES + 1).subquery())
        if (db.session.scalar(probe) or 0) <= FEW_MATCHES:
            return id_column.in_(matches)
        return (id_column + 0).in_(matches)

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
        return (
            name in (self.pg_index, self.pg_column, self.fts_table) or name.startswith(f"{self.fts_table}_")
        )
