"""A page of results and the page numbers to show around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.sql import operators

from feedback.extensions import db
from feedback.kept_values import kept

T = TypeVar("T")
MAX_PAGE = 100_000
# A list counts its rows up to this many and says "plus de 1 000" beyond: counting every match of a common
# word among 100,000 threads on each request would cost more than reading the page itself, and grow with them.
COUNT_CAP = 1000


def page_number(value: str | None) -> int:
    """A page number from a query string: anything that is not a positive integer is page 1."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


@dataclass
class Page(Generic[T]):
    """One page of a list. `total` is the number of rows when `exact`; otherwise the list holds more than
    `total` rows (the count stopped there) and `following` tells whether a page comes after this one."""

    items: list[T]
    total: int
    number: int
    size: int
    exact: bool = True
    following: bool | None = None

    @property
    def pages(self) -> int:
        """The last page when the count is exact; otherwise the last page known to exist."""
        known = max(1, -(-self.total // self.size))
        if self.exact:
            return known
        return max(known, self.number + (1 if self.following else 0))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.following if self.following is not None else self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link to, with None where numbers are left out: 1 … 4 5 [6] 7 8 … 20. When the
        count is not exact, the numbers stop at the last page known to exist, followed by None."""
        last = self.pages
        shown = set(range(max(1, self.number - around), min(last, self.number + around) + 1)) | {1}
        if self.exact:
            shown.add(last)
        result: list[int | None] = []
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                result.append(None)
            result.append(number)
            previous = number
        if not self.exact and self.has_next:
            result.append(None)
        return result


def capped_count(statement, cap: int | None) -> int:
    """How many rows `statement` selects, counting no further than `cap` + 1 (all of them when `cap` is None).

    A count that went past the cap is remembered by the worker for FEEDBACK_LONG_COUNT_SECONDS: the list is
    then shown as "more than" the cap without counting again (a common word's matches were counted on each
    visit, the most costly query of a search). A count under the cap is never remembered, so that a short list
    always shows its exact number."""
    # maintain_column_froms: a statement whose WHERE names no table (a curator sees everything) keeps its FROM.
    rows = statement.with_only_columns(sa.literal_column("1"), maintain_column_froms=True).order_by(None)
    if cap is None:
        return _count(rows)
    rows = rows.limit(cap + 1)
    seconds = current_app.config.get("FEEDBACK_LONG_COUNT_SECONDS", 0)
    if seconds <= 0:
        return _count(rows)
    # The statement's shape and its parameters' values: what SQLAlchemy's own statement cache keys on.
    shape = rows._generate_cache_key()
    key = ("capped count", shape.key, tuple(repr(parameter.effective_value) for parameter in shape.bindparams))
    return kept(key, seconds, lambda: _count(rows), keep_if=lambda counted: counted > cap)


def _count(rows) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(rows.subquery())) or 0


def paginate(
    statement,
    order_by: list,
    number: int,
    size: int,
    options=(),
    ranks: Sequence | None = None,
    count_cap: int | None = COUNT_CAP,
) -> Page:
    """One page of `statement` (a select of one entity, with its filters), in three queries whatever the size.

    The count, stopped at `count_cap` + 1 rows; then the page's ids and whether a row follows (LIMIT size + 1),
    sorted and offset on the narrowest rows (an index often covers them); then those rows, with `options`
    (eager loads). With `ranks` (conditions, best first), the rows meeting the first come first, each rank
    sorted by `order_by`, each read only as far as the page's end, all in one query: a page of a common
    word's matches reads about one page of rows per rank, instead of scoring and sorting every match. A page
    number past the end shows the last page."""
    entity = statement.column_descriptions[0]["entity"]
    counted = capped_count(statement, count_cap)
    if count_cap is not None and counted > count_cap:
        total, exact = count_cap, False
    else:
        total, exact = counted, True
    if exact:
        number = min(number, max(1, -(-total // size)))
    ids = _page_ids(statement, entity, order_by, number, size, ranks)
    if not ids and number > 1:  # past the end of a list too long to be counted: count it all, once
        total, exact = capped_count(statement, None), True
        number = max(1, -(-total // size))
        ids = _page_ids(statement, entity, order_by, number, size, ranks)
    following = len(ids) > size
    ids = ids[:size]
    items = []
    if ids:
        rows = db.session.scalars(sa.select(entity).where(entity.id.in_(ids)).options(*options)).unique()
        position = {row_id: index for index, row_id in enumerate(ids)}
        items = sorted(rows, key=lambda row: position[row.id])
    return Page(items=items, total=total, number=number, size=size, exact=exact, following=following)


def _page_ids(statement, entity, order_by: list, number: int, size: int, ranks: Sequence | None) -> list:
    """The ids of page `number` and of the row after it, if any (size + 1 at most).

    With `ranks`, the ranks are read best first, each in the order of `order_by` (an index walk that stops
    early) and only as far as the page's end, one query per rank until the page is full: the words of a search
    found together in most titles fill the page from the first rank, and the lower ranks, whose walks would
    cross every match, are never read. At most one query per rank, however many rows match."""
    skip = (number - 1) * size
    ids_of = statement.with_only_columns(entity.id, maintain_column_froms=True).order_by(*order_by)
    if not ranks:
        return list(db.session.scalars(ids_of.limit(size + 1).offset(skip)))
    wanted = skip + size + 1
    found: list = []
    for condition in ranks:
        found.extend(db.session.scalars(ids_of.where(condition).limit(wanted - len(found))))
        if len(found) >= wanted:
            break
    return found[skip:]


def _sort_key(term) -> tuple:
    """A term of ORDER BY as (column, descending): a column, or a column's `.asc()` or `.desc()`."""
    modifier = getattr(term, "modifier", None)
    if modifier is operators.desc_op:
        return term.element, True
    if modifier is operators.asc_op:
        return term.element, False
    if modifier is None:
        return term, False
    raise ValueError(f"a ranked list sorts by columns, ascending or descending, not by {term}")
