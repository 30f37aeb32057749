"""The time of the platform, and the calendar the services work by: one clock, one count of working days.

- `now()` is the current instant (UTC, aware). Everything that asks what time it is asks here (the database's
  `utcnow` too), so a test or a command can fix it: `with clock.frozen(instant): …`.
- The services work in Paris: a day, a deadline, a digest hour are days and hours of Paris (`PARIS`,
  `paris_date`, `paris_day_start`).
- Working days are Monday to Friday except French public holidays (the `holidays` package). They are counted
  by rank: a day's rank is the number of working days from a fixed day to it, so that the working days
  between two moments, or the moment N working days later, cost a subtraction and a binary search, whatever
  the span and however many pairs the indicators ask for.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")

_frozen_at: datetime | None = None


def now() -> datetime:
    """The current instant, in UTC; the frozen one while `frozen()` holds."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


@contextmanager
def frozen(instant: datetime) -> Iterator[datetime]:
    """Fix the clock at `instant` (aware) for the block: every part of the platform reads that instant."""
    global _frozen_at
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: give an aware instant")
    previous, _frozen_at = _frozen_at, instant.astimezone(UTC)
    try:
        yield _frozen_at
    finally:
        _frozen_at = previous


def paris_date(instant: datetime) -> date:
    """The day of Paris an instant falls on."""
    return instant.astimezone(PARIS).date()


def paris_today() -> date:
    return paris_date(now())


def paris_day_start(day: date) -> datetime:
    """The UTC instant at which `day` starts in Paris."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


# Working days ------------------------------------------------------------------------------------------------

# Ranks count from this Monday; holidays are known from its year on (earlier days count their weekdays only).
_EPOCH = date(1990, 1, 1)


@lru_cache(maxsize=256)
def french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


@lru_cache(maxsize=256)
def _weekday_holidays(year: int) -> tuple[date, ...]:
    """The holidays of a year that fall on a weekday (the others are not working days anyway), sorted."""
    return tuple(sorted(day for day in french_holidays(year) if day.weekday() < 5))


@lru_cache(maxsize=256)
def _holidays_before_year(year: int) -> int:
    """Weekday holidays from the epoch's year to the end of `year - 1`."""
    if year <= _EPOCH.year:
        return 0
    return _holidays_before_year(year - 1) + len(_weekday_holidays(year - 1))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in french_holidays(day.year)


def working_day_rank(day: date) -> int:
    """The working days in [epoch, day]: the rank of `day` (a difference of ranks counts working days)."""
    elapsed = (day - _EPOCH).days + 1  # the days of [epoch, day]; the epoch is a Monday
    weekdays = (elapsed // 7) * 5 + min(elapsed % 7, 5)
    if day.year < _EPOCH.year:
        return weekdays
    holidays_count = _holidays_before_year(day.year) + bisect.bisect_right(_weekday_holidays(day.year), day)
    return weekdays - holidays_count


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days from `start` to `end`, counted in Paris days: 0 on the same day, 1 the next working day…;
    0 when `end` is not after `start`."""
    first, last = paris_date(start), paris_date(end)
    if last <= first:
        return 0
    return working_day_rank(last) - working_day_rank(first)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same time of day (in Paris), `days` working days later: the first day whose rank is `days` more."""
    if days <= 0:
        return start
    local = start.astimezone(PARIS)
    target = working_day_rank(local.date()) + days
    day = local.date() + timedelta(days=days)  # never later than the answer: a working day is a day
    while working_day_rank(day) < target:
        day += timedelta(days=1)
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
