"""Business hours: working time on China's working days, the inverse add/between pair, DST, fallback, zones.

Instants are written as Asia/Shanghai wall-clock times (converted to UTC, as workflow.now() gives them)
so each expectation can be checked against a desk calendar.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]  # the package ships no type information
import pytest

from domain.calendars import (
    BUSINESS_5X8_NAME,
    MAX_DAYS,
    BusinessHours,
    business_calendar,
    is_known_time_zone,
    is_working_day,
)

if TYPE_CHECKING:  # deadlines imports calendars; a type-only import keeps the test off its import graph
    from domain.deadlines import Calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
CAL = BusinessHours("Asia/Shanghai")


def shanghai(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as the UTC instant a workflow sees."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# (start, working hours, end): add(start, hours) == end and between(start, end) == hours.
# March 2026 (Mon 9th to Mon 16th) is an ordinary week: no holiday, no adjusted working day.
SPANS = [
    pytest.param(shanghai(2026, 3, 10, 10), 2, shanghai(2026, 3, 10, 12), id="within Tuesday"),
    pytest.param(shanghai(2026, 3, 10, 16), 2, shanghai(2026, 3, 11, 10), id="Tuesday evening to Wednesday"),
    pytest.param(shanghai(2026, 3, 10, 9), 8, shanghai(2026, 3, 10, 17), id="ends at closing, not next day"),
    pytest.param(shanghai(2026, 3, 9, 9), 40, shanghai(2026, 3, 13, 17), id="a whole working week"),
    pytest.param(shanghai(2026, 3, 13, 16), 2, shanghai(2026, 3, 16, 10), id="Friday over the weekend"),
    pytest.param(shanghai(2026, 3, 14, 3), 1, shanghai(2026, 3, 16, 10), id="from Saturday night"),
    pytest.param(shanghai(2026, 3, 10, 20), 1, shanghai(2026, 3, 11, 10), id="from Tuesday evening"),
    pytest.param(shanghai(2026, 3, 10, 7), 1, shanghai(2026, 3, 10, 10), id="from before opening"),
    # National Day 2026: Thu 1 Oct to Wed 7 Oct are off; Thu 8 Oct is the first working day after.
    pytest.param(shanghai(2026, 9, 30, 16), 2, shanghai(2026, 10, 8, 10), id="over National Day"),
    # Adjusted working days (调休) of 2026: Sunday 20 Sep and Saturday 10 Oct.
    pytest.param(shanghai(2026, 10, 9, 16), 2, shanghai(2026, 10, 10, 10), id="into adjusted Saturday"),
    pytest.param(shanghai(2026, 9, 18, 16), 2, shanghai(2026, 9, 20, 10), id="into adjusted Sunday"),
    # Past the package's data (2026 in 1.11.0): 1 Jan 2027 is New Year's Day but plain Mon-Fri says work.
    pytest.param(shanghai(2026, 12, 31, 16), 2, shanghai(2027, 1, 1, 10), id="into 2027, Mon-Fri"),
]


@pytest.mark.parametrize(("start", "hours", "end"), SPANS)
def test_add_counts_only_working_time(start: datetime, hours: int, end: datetime) -> None:
    assert CAL.add(start, hours * HOUR) == end


@pytest.mark.parametrize(("start", "hours", "end"), SPANS)
def test_between_counts_only_working_time(start: datetime, hours: int, end: datetime) -> None:
    assert CAL.between(start, end) == hours * HOUR


def test_national_day_and_adjusted_days_come_from_the_package() -> None:
    october = [is_working_day(date(2026, 10, day)) for day in range(1, 11)]
    assert october == [False] * 7 + [True, True, True]  # 10 Oct is a Saturday, and a working day
    assert date(2026, 10, 10).weekday() == 5
    assert not is_working_day(date(2026, 9, 19))  # the Saturday before the adjusted Sunday stays off


def test_agrees_with_chinese_calendar_on_every_day_it_knows() -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    for beyond in (date(2003, 12, 31), date(2027, 1, 1)):  # the edges of its data are ours too
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(beyond)


def test_outside_the_package_data_weekdays_work() -> None:
    assert is_working_day(date(2027, 2, 8))  # a Monday in what will be Spring Festival 2027
    assert not is_working_day(date(2027, 2, 6))  # Saturday
    assert is_working_day(date(2003, 10, 1))  # National Day 2003 (a Wednesday), before the data begins
    assert CAL.add(shanghai(2027, 2, 5, 16), 2 * HOUR) == shanghai(2027, 2, 8, 10)


def test_zero_seconds_inside_hours_is_the_start() -> None:
    start = shanghai(2026, 3, 10, 11, 25)
    assert CAL.add(start, 0) == start


@pytest.mark.parametrize(
    ("start", "next_opening"),
    [
        pytest.param(shanghai(2026, 3, 14, 3), shanghai(2026, 3, 16, 9), id="Saturday"),
        pytest.param(shanghai(2026, 3, 10, 17), shanghai(2026, 3, 11, 9), id="at closing"),
        pytest.param(shanghai(2026, 3, 10, 8), shanghai(2026, 3, 10, 9), id="before opening"),
    ],
)
def test_zero_seconds_outside_hours_is_the_next_opening(start: datetime, next_opening: datetime) -> None:
    assert CAL.add(start, 0) == next_opening
    assert CAL.between(start, next_opening) == 0


def test_between_is_zero_when_end_is_not_later() -> None:
    start = shanghai(2026, 3, 10, 12)
    assert CAL.between(start, start) == 0
    assert CAL.between(start, shanghai(2026, 3, 10, 10)) == 0


def test_between_a_weekend_is_zero() -> None:
    assert CAL.between(shanghai(2026, 3, 14, 0), shanghai(2026, 3, 16, 9)) == 0


def test_add_and_between_are_inverse_and_monotonic() -> None:
    rng = random.Random(7)
    first = shanghai(2025, 1, 1, 0)
    for _ in range(500):
        # Whole hours land starts and ends on openings and closings, where mistakes hide.
        start = first + timedelta(hours=rng.randrange(2 * 365 * 24))
        start += timedelta(seconds=rng.choice([0.0, rng.uniform(0, HOUR)]))
        seconds = rng.choice([float(rng.randrange(301)) * HOUR, rng.uniform(0, 300 * HOUR)])
        due = CAL.add(start, seconds)
        assert abs(CAL.between(start, due) - seconds) <= 1e-6, (start, seconds)
        assert CAL.add(start, seconds + rng.uniform(0, 8 * HOUR)) >= due
        assert CAL.add(start + timedelta(seconds=rng.uniform(0, 8 * HOUR)), seconds) >= due
        end = start + timedelta(seconds=rng.uniform(0, 60 * 24 * HOUR))
        worked = CAL.between(start, end)
        assert CAL.between(start, CAL.add(start, worked)) == worked
        # No later than end, unless nothing was worked: zero from outside hours is the next opening.
        assert CAL.add(start, worked) <= end or worked == 0


@pytest.mark.parametrize(
    ("friday", "monday"),
    [
        # Clocks go forward on Sun 29 Mar 2026: Friday is CET (UTC+1), Monday CEST (UTC+2).
        pytest.param(utc(2026, 3, 27, 12), utc(2026, 3, 30, 11), id="March"),
        # And back on Sun 25 Oct 2026: Friday is CEST, Monday CET.
        pytest.param(utc(2026, 10, 23, 11), utc(2026, 10, 26, 12), id="October"),
    ],
)
def test_daylight_saving_keeps_local_hours(friday: datetime, monday: datetime) -> None:
    berlin = BusinessHours("Europe/Berlin")
    assert friday.astimezone(BERLIN).hour == monday.astimezone(BERLIN).hour == 13
    assert berlin.add(friday, 8 * HOUR) == monday  # Friday 13:00-17:00, then Monday 09:00-13:00
    assert berlin.between(friday, monday) == 8 * HOUR


def test_result_keeps_the_input_time_zone() -> None:
    start = datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)
    due = CAL.add(start, 2 * HOUR)
    assert due.tzinfo is SHANGHAI
    assert (due.hour, due.minute) == (12, 0)
    assert CAL.add(start.astimezone(UTC), 2 * HOUR).tzinfo is UTC


def test_other_hours() -> None:
    long_day = BusinessHours("Asia/Shanghai", opens=time(8, 30), closes=time(18, 0))
    assert long_day.add(shanghai(2026, 3, 10, 17, 30), 1 * HOUR) == shanghai(2026, 3, 11, 9, 0)
    assert long_day.between(shanghai(2026, 3, 10, 0), shanghai(2026, 3, 11, 0)) == 9.5 * HOUR


def test_a_year_of_working_time_ends_at_its_last_closing() -> None:
    # 2026 has 248 working days, by chinese_calendar, counting the adjusted ones.
    assert CAL.add(shanghai(2026, 1, 1, 0), 248 * 8 * HOUR) == shanghai(2026, 12, 31, 17)
    assert CAL.between(shanghai(2026, 1, 1, 0), shanghai(2027, 1, 1, 0)) == 248 * 8 * HOUR


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: CAL.add(datetime(2026, 3, 10, 10), HOUR), id="naive start"),
        pytest.param(lambda: CAL.between(shanghai(2026, 3, 10, 10), datetime(2026, 3, 11)), id="naive end"),
        pytest.param(lambda: CAL.add(shanghai(2026, 3, 10, 10), -1.0), id="negative"),
        pytest.param(lambda: CAL.add(shanghai(2026, 3, 10, 10), float("nan")), id="nan"),
        pytest.param(lambda: CAL.add(shanghai(2026, 3, 10, 10), float("inf")), id="infinite"),
        pytest.param(lambda: CAL.add(shanghai(2026, 3, 10, 10), MAX_DAYS * 24 * HOUR), id="runs out of days"),
        pytest.param(lambda: CAL.add(shanghai(2026, 3, 10, 10), 1e15), id="beyond the bound"),
        pytest.param(lambda: CAL.between(shanghai(2026, 3, 10, 10), utc(2100, 1, 1, 0)), id="end too far"),
        pytest.param(
            lambda: BusinessHours("Asia/Shanghai", opens=time(17), closes=time(9)), id="closes first"
        ),
    ],
)
def test_rejects_bad_input(bad: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("name", ["BUSINESS_5X8", "BUSINESS_5x8", "business_5x8"])
def test_business_calendar_by_name(name: str) -> None:
    assert business_calendar(name, "Asia/Shanghai") == BusinessHours("Asia/Shanghai")


@pytest.mark.parametrize("name", ["24X7", "", "BUSINESS_7X24", "CALENDAR_BUSINESS_5X8"])
def test_other_names_are_not_business_hours(name: str) -> None:
    assert business_calendar(name, "Asia/Shanghai") is None
    assert business_calendar(name, "Mars/Olympus") is None  # round the clock needs no zone


def test_unknown_time_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        business_calendar("BUSINESS_5X8", "Mars/Olympus")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        BusinessHours("Mars/Olympus")


@pytest.mark.parametrize(
    ("time_zone", "known"),
    [
        ("Asia/Shanghai", True),
        ("Europe/Berlin", True),
        ("UTC", True),
        ("Mars/Olympus", False),
        ("asia/shanghai", False),
        ("Asia", False),
        ("", False),
        ("../etc/passwd", False),
        ("localtime", False),
    ],
)
def test_is_known_time_zone(time_zone: str, known: bool) -> None:
    assert is_known_time_zone(time_zone) is known


def test_is_a_deadline_calendar() -> None:
    calendar: Calendar = CAL  # mypy checks the protocol is met
    assert calendar.name == BUSINESS_5X8_NAME == "BUSINESS_5X8"
