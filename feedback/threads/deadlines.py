"""Answering deadlines.

Code de l'environnement, art. R124-1: a public authority answers a request for environmental information
within one month of receipt; it may extend this to two months when the volume or the complexity of the
request justify it, telling the requester why within the first month. Other threads get a service
target in working days (weekends and French public holidays do not count), set by
`FEEDBACK_SERVICE_TARGET_WORKING_DAYS`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

PARIS = ZoneInfo("Europe/Paris")
LEGAL_DELAY = relativedelta(months=1)
EXTENDED_LEGAL_DELAY = relativedelta(months=2)
DUE_SOON = timedelta(days=7)


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same time of day, `days` working days later (counted in Paris, where the services work)."""
    local = start.astimezone(PARIS)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


class WorkingDayRanks:
    """Working days between many pairs of days at once: each day's rank (working days since a fixed day, that
    day excluded) is counted once over the span asked for, and a pair is a subtraction. Gives what
    `working_days_between` gives, for the capitalisation's thousands of (received, answered) pairs."""

    def __init__(self) -> None:
        self._ranks: dict[date, int] = {}
        self._first: date | None = None
        self._last: date | None = None

    def _extend(self, first: date, last: date) -> None:
        if self._first is None:
            self._first = self._last = first
            self._ranks[first] = 0
        while first < self._first:  # backwards: the earlier day's rank is one less if the day after works
            following = self._first
            self._first -= timedelta(days=1)
            self._ranks[self._first] = self._ranks[following] - (1 if is_working_day(following) else 0)
        while self._last < last:
            self._last += timedelta(days=1)
            self._ranks[self._last] = self._ranks[self._last - timedelta(days=1)] + (
                1 if is_working_day(self._last) else 0
            )

    def between(self, start: datetime, end: datetime) -> int:
        first, last = start.astimezone(PARIS).date(), end.astimezone(PARIS).date()
        if last <= first:
            return 0
        if self._first is None or first < self._first or last > self._last:
            self._extend(first, last)
        return self._ranks[last] - self._ranks[first]


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days from `start` to `end`: 0 on the same day, 1 the next working day…"""
    first, last = start.astimezone(PARIS).date(), end.astimezone(PARIS).date()
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def legal_due_at(received_at: datetime, *, extended: bool = False) -> datetime:
    """One month after receipt, two once extended (calendar months, R124-1)."""
    return received_at + (EXTENDED_LEGAL_DELAY if extended else LEGAL_DELAY)


def service_due_at(received_at: datetime, working_days: int) -> datetime:
    return add_working_days(received_at, working_days)
