"""A page of results and the page numbers to show around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa

from feedback.extensions import db

T = TypeVar("T")
MAX_PAGE = 100_000


def page_number(value: str | None) -> int:
    """A page number from a query string: anything that is not a positive integer is page 1."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link to, with None where numbers are left out: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.pages} | set(range(max(1, self.number - around), min(self.pages, self.number + around) + 1))
        result: list[int | None] = []
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                result.append(None)
            result.append(number)
            previous = number
        return result


def paginate(statement, order_by: list, number: int, size: int, options=()) -> Page:
    """One page of `statement` (a select of one entity, with its filters): three queries whatever the size.

    The count; then the page's ids, sorted and offset on the narrowest rows (an index often covers them);
    then those rows, with `options` (eager loads). Sorting whole rows, or stepping over thousands of them to
    reach a deep page, would cost far more. A page number past the end shows the last page."""
    entity = statement.column_descriptions[0]["entity"]
    # maintain_column_froms: a statement whose WHERE names no table (a curator sees everything) keeps its FROM.
    counted = statement.with_only_columns(sa.literal_column("1"), maintain_column_froms=True).order_by(None)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    number = min(number, max(1, -(-total // size)))
    ids = list(
        db.session.scalars(
            statement.with_only_columns(entity.id, maintain_column_froms=True)
            .order_by(*order_by)
            .limit(size)
            .offset((number - 1) * size)
        )
    )
    items = []
    if ids:
        rows = db.session.scalars(sa.select(entity).where(entity.id.in_(ids)).options(*options)).unique()
        position = {row_id: index for index, row_id in enumerate(ids)}
        items = sorted(rows, key=lambda row: position[row.id])
    return Page(items=items, total=total, number=number, size=size)
