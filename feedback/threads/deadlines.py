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
