"""Answering deadlines (feedback.threads.deadlines) on the calendar of feedback.clock: working days in Paris,
French public holidays, and the calendar months of R124-1. Every expected date below was counted on a
calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedback.clock import add_working_days, is_working_day, working_days_between
from feedback.threads.deadlines import legal_due_at

PARIS = ZoneInfo("Europe/Paris")


def paris(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 6), True),  # a Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 1, 1), False),  # New Year's Day, a Thursday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 5, 1), False),  # Labour Day, a Friday
        (date(2026, 5, 8), False),  # Victory in Europe Day, a Friday
        (date(2026, 5, 14), False),  # Ascension Thursday
        (date(2026, 5, 25), False),  # Whit Monday
        (date(2026, 7, 14), False),  # Bastille Day, a Tuesday
        (date(2026, 8, 15), False),  # Assumption (a Saturday anyway)
        (date(2026, 11, 11), False),  # Armistice Day, a Wednesday
        (date(2026, 12, 25), False),  # Christmas, a Friday
        (date(2026, 12, 24), True),  # Christmas Eve is worked
        (date(2026, 5, 15), True),  # the Friday after Ascension ("pont", but worked)
    ],
)
def test_working_days(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Over a weekend: Friday → Monday.
        (paris(2026, 3, 6), 1, paris(2026, 3, 9)),
        (paris(2026, 3, 6), 5, paris(2026, 3, 13)),
        # Thursday 30 April: Friday 1 May is off, then the weekend.
        (paris(2026, 4, 30), 1, paris(2026, 5, 4)),
        # Thursday 7 May: Friday 8 May is off.
        (paris(2026, 5, 7), 1, paris(2026, 5, 11)),
        # Wednesday 13 May: Ascension on Thursday 14.
        (paris(2026, 5, 13), 1, paris(2026, 5, 15)),
        # Friday 22 May: the weekend, then Whit Monday 25 May.
        (paris(2026, 5, 22), 1, paris(2026, 5, 26)),
        # Monday 13 July: Bastille Day on Tuesday 14.
        (paris(2026, 7, 13), 1, paris(2026, 7, 15)),
        # Thursday 24 December: Christmas on Friday, then the weekend.
        (paris(2026, 12, 24), 1, paris(2026, 12, 28)),
        # Thursday 31 December: New Year's Day, then the weekend.
        (paris(2026, 12, 31), 1, paris(2027, 1, 4)),
        # Fifteen working days from Thursday 30 April 2026 skip 1 May, 8 May, 14 May and 25 May.
        (paris(2026, 4, 30), 15, paris(2026, 5, 27)),
        # Starting on a Saturday counts from the Monday.
        (paris(2026, 3, 7), 1, paris(2026, 3, 9)),
        # Zero days: the same moment.
        (paris(2026, 3, 6), 0, paris(2026, 3, 6)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_add_working_days_keeps_the_time_of_day_in_paris_across_a_change_of_clocks():
    # Friday 27 March 2026, 10:00 in Paris (UTC+1); clocks go forward on Sunday 29 March.
    start = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)

    due = add_working_days(start, 1)

    # Monday 30 March, 10:00 in Paris, now UTC+2.
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert due.tzinfo == UTC


def test_add_working_days_counts_days_in_paris_not_in_utc():
    # Friday 6 March 2026, 23:30 UTC is already Saturday 7 March, 00:30 in Paris.
    start = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)

    # The next working day in Paris is Monday 9 March (00:30 in Paris = Sunday 8 March, 23:30 UTC).
    assert add_working_days(start, 1) == datetime(2026, 3, 8, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (paris(2026, 3, 6, 9), paris(2026, 3, 6, 18), 0),  # the same day
        (paris(2026, 3, 6), paris(2026, 3, 9), 1),  # Friday → Monday
        (paris(2026, 3, 6), paris(2026, 3, 8), 0),  # Friday → Sunday
        (paris(2026, 4, 30), paris(2026, 5, 4), 1),  # over 1 May and a weekend
        (paris(2026, 4, 30), paris(2026, 5, 27), 15),
        (paris(2026, 12, 24), paris(2027, 1, 4), 5),  # 28, 29, 30, 31 December and 4 January
        (paris(2026, 3, 9), paris(2026, 3, 6), 0),  # backwards: nothing
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("received", "due", "extended_due"),
    [
        # 31 January: no 31 February, so the last day of February; a non-leap year.
        (
            datetime(2025, 1, 31, 9, 0, tzinfo=UTC),
            datetime(2025, 2, 28, 9, 0, tzinfo=UTC),
            datetime(2025, 3, 31, 9, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 31, 9, 0, tzinfo=UTC),
            datetime(2026, 2, 28, 9, 0, tzinfo=UTC),
            datetime(2026, 3, 31, 9, 0, tzinfo=UTC),
        ),
        # A leap year.
        (
            datetime(2028, 1, 31, 9, 0, tzinfo=UTC),
            datetime(2028, 2, 29, 9, 0, tzinfo=UTC),
            datetime(2028, 3, 31, 9, 0, tzinfo=UTC),
        ),
        # An ordinary day, and the turn of the year.
        (
            datetime(2026, 3, 15, 14, 30, tzinfo=UTC),
            datetime(2026, 4, 15, 14, 30, tzinfo=UTC),
            datetime(2026, 5, 15, 14, 30, tzinfo=UTC),
        ),
        (
            datetime(2025, 12, 31, 8, 0, tzinfo=UTC),
            datetime(2026, 1, 31, 8, 0, tzinfo=UTC),
            datetime(2026, 2, 28, 8, 0, tzinfo=UTC),
        ),
        # 30 December + 2 months: no 30 February.
        (
            datetime(2025, 12, 30, 8, 0, tzinfo=UTC),
            datetime(2026, 1, 30, 8, 0, tzinfo=UTC),
            datetime(2026, 2, 28, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_legal_deadline_is_one_calendar_month_two_once_extended(received, due, extended_due):
    assert legal_due_at(received) == due
    assert legal_due_at(received, extended=True) == extended_due


def day_by_day(start: datetime, end: datetime) -> int:
    """The working days from `start` to `end`, walked one day at a time (what the ranks must give)."""
    first, last = start.astimezone(PARIS).date(), end.astimezone(PARIS).date()
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def test_working_days_by_rank_count_as_the_day_by_day_walk():
    # Wednesday 23 December 2026 to Monday 4 January 2027: 24, 28, 29, 30, 31 December and 4 January work
    # (25 December and 1 January are holidays, and the weekends): 6 working days.
    assert working_days_between(paris(2026, 12, 23, 9), paris(2027, 1, 4, 9)) == 6
    assert working_days_between(paris(2026, 5, 7, 9), paris(2026, 5, 11, 9)) == 1  # 8 May is a holiday
    assert working_days_between(paris(2027, 3, 1, 0), paris(2027, 3, 1, 18)) == 0
    assert working_days_between(paris(2027, 3, 2, 0), paris(2027, 3, 1, 0)) == 0
    rng = random.Random(20261205)
    for _ in range(2000):
        start = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 365 * 9))
        end = start + timedelta(minutes=rng.randrange(-3000, 60 * 24 * 400))
        assert working_days_between(start, end) == day_by_day(start, end), (start, end)
