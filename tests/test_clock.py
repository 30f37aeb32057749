"""The platform's clock (feedback.clock): a fixed instant reaches every part that asks the time; days and
hours are those of Paris, across the changes of summer time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from feedback import clock
from feedback.database import utcnow


def test_a_frozen_clock_is_what_everyone_reads_and_it_thaws_after():
    instant = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)

    with clock.frozen(instant):
        assert clock.now() == instant
        assert utcnow() == instant  # the database's defaults read the same clock
        assert clock.paris_today() == date(2026, 7, 14)
        with clock.frozen(instant + timedelta(days=1)):
            assert clock.now() == instant + timedelta(days=1)
        assert clock.now() == instant

    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError), clock.frozen(datetime(2026, 1, 1)):
        pass


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),  # winter time: UTC+1
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), date(2026, 3, 30)),  # summer time from 29 March: UTC+2
        (datetime(2026, 10, 24, 21, 59, tzinfo=UTC), date(2026, 10, 24)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), date(2026, 10, 26)),  # back to UTC+1 on 25 October
    ],
)
def test_the_day_of_an_instant_is_the_day_of_paris(instant, day):
    assert clock.paris_date(instant) == day


def test_a_day_of_paris_starts_at_its_local_midnight():
    assert clock.paris_day_start(date(2026, 1, 15)) == datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    assert clock.paris_day_start(date(2026, 7, 15)) == datetime(2026, 7, 14, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 7, 14), False),  # a Tuesday, national holiday
        (date(2026, 7, 13), True),
        (date(2026, 11, 11), False),  # Armistice, a Wednesday
        (date(2026, 12, 26), False),  # a Saturday
        (date(1985, 5, 6), True),  # before the calendar's first year: weekdays only
    ],
)
def test_working_days(day, working):
    assert clock.is_working_day(day) is working


def test_adding_working_days_steps_over_a_holiday_and_a_weekend():
    # Friday 10 July 2026 at 16:00 Paris, +2 working days: Monday 13, then Wednesday 15 (14 July is off).
    start = datetime(2026, 7, 10, 14, 0, tzinfo=UTC)
    assert clock.add_working_days(start, 2) == datetime(2026, 7, 15, 14, 0, tzinfo=UTC)
    assert clock.add_working_days(start, 0) == start
    # Across the return to winter time, the same hour of Paris: Friday 23 October 10:00 (UTC+2) + 1.
    autumn = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    assert clock.add_working_days(autumn, 1) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
