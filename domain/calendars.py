"""Business hours: working time on working days in a team's time zone, by mainland China's holiday calendar.

``BusinessHours`` is a deadline ``Calendar`` (:mod:`domain.deadlines`). It meets that protocol
structurally rather than importing it, because ``deadlines`` imports this module. Like all workflow code
it is pure and deterministic: no clock, and no I/O beyond loading the time zone and holiday data.

Working time is the half-open span [opens, closes) of each working day, local time. Each day's opening
and closing instants come from zoneinfo for that local date, so a daylight-saving change moves the UTC
instants and leaves the local hours alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar  # type: ignore[import-untyped]  # the package ships no type information

ROUND_THE_CLOCK_NAME = "24X7"
BUSINESS_5X8_NAME = "BUSINESS_5X8"
DEFAULT_TIME_ZONE = "Asia/Shanghai"

# How many calendar days add and between walk before they give up. The limit is far beyond any SLA
# target, and it stops a bad input (a huge target, an end centuries away) from spinning a workflow task.
MAX_DAYS = 20 * 366

# These keys load, but each host links them to its own zone, so two workers could read one key as two
# different zones.
_HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})

# chinese_calendar.is_workday(day) means "an adjusted working day, or a weekday that is not a holiday".
# On every call it also scans its whole table to find which years it covers, which takes about 25 µs,
# so a 400-hour target would spend 2 ms in that scan alone. is_working_day applies the same rule to the
# same pinned tables with set lookups. The tests check that it agrees with is_workday on every day the
# package covers.
_HOLIDAYS: frozenset[date] = frozenset(chinese_calendar.holidays)
_ADJUSTED_WORKING_DAYS: frozenset[date] = frozenset(chinese_calendar.workdays)
_CHINA_DATA_YEARS = range(min(_HOLIDAYS).year, max(_HOLIDAYS).year + 1)


def is_working_day(day: date) -> bool:
    """Mon-Fri, without mainland China's public holidays, plus its adjusted working days (调休).

    Outside the years the pinned ``chinese_calendar`` covers (2004-2026 in 1.11.0), the rule is plain
    Mon-Fri. The State Council announces a year's holidays only late in the year before, so a far
    deadline can't be exact. Taking weekdays keeps it running instead of failing the workflow. When a
    package upgrade adds a year, results change for that year only. Replay histories whose deadlines
    reach into that year before upgrading.
    """
    if day.year not in _CHINA_DATA_YEARS:
        return day.weekday() < 5
    return day in _ADJUSTED_WORKING_DAYS or (day.weekday() < 5 and day not in _HOLIDAYS)


def is_known_time_zone(time_zone: str) -> bool:
    """Whether ``time_zone`` is an IANA key this process can load and every host reads the same way."""
    if time_zone in _HOST_DEPENDENT_ZONES:
        return False
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown; malformed key; a folder like "Asia"
        return False
    return True


@dataclass(frozen=True)
class BusinessHours:
    """Working time from ``opens`` to ``closes`` (local time in ``time_zone``) on each working day.

    ``add`` and ``between`` are exact inverses: ``between(start, add(start, s)) == s``. Both take and
    return timezone-aware datetimes, and the result stays in the input's time zone.
    """

    time_zone: str
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def __post_init__(self) -> None:
        if not is_known_time_zone(self.time_zone):
            raise ValueError(f"unknown IANA time zone {self.time_zone!r}")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are local times: they take no tzinfo")
        if self.opens >= self.closes:
            raise ValueError(f"business hours must open before they close, got {self.opens}-{self.closes}")

    @property
    def name(self) -> str:
        return BUSINESS_5X8_NAME

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start``.

        Counting starts at ``start`` if it falls in working time, or else at the next opening. So zero
        seconds from outside hours gives the next opening, because nobody is there to act sooner. A
        target that runs out exactly at closing time gives that closing time, not the next opening.
        """
        if not 0 <= seconds <= MAX_DAYS * 24 * 3600:  # also false for NaN
            raise ValueError(f"working time to add must be 0 to {MAX_DAYS} days, got {seconds} s")
        # Whole microseconds (timedelta), not float seconds: float sums drift, and a remainder a hair
        # over a day's span would jump to the next opening, so between and add would disagree.
        left = timedelta(seconds=seconds)
        for opening, closing in self._working_spans(start):
            if left <= closing - opening:
                return (opening + left).astimezone(start.tzinfo)
            left -= closing - opening
        raise AssertionError("unreachable: _working_spans raises when it runs out of days")

    def between(self, start: datetime, end: datetime) -> float:
        """Seconds of working time from ``start`` to ``end`` (0 when ``end`` is not later)."""
        end = _as_utc(end)
        if end <= _as_utc(start):
            return 0.0
        total = timedelta()
        for opening, closing in self._working_spans(start):
            if opening >= end:
                break
            total += min(closing, end) - opening
        return total.total_seconds()

    def _working_spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Each working day's [opening, closing) in UTC, in order, from ``start`` on (the first cut at it)."""
        zone = ZoneInfo(self.time_zone)
        start = _as_utc(start)
        day = start.astimezone(zone).date()  # earlier local days closed before start
        for _ in range(MAX_DAYS):
            if is_working_day(day):
                opening = max(_instant(day, self.opens, zone), start)
                closing = _instant(day, self.closes, zone)
                if closing > opening:  # also skips a day whose hours a DST gap swallowed
                    yield opening, closing
            day += timedelta(days=1)
        raise ValueError(f"working time runs more than {MAX_DAYS} days past {start.isoformat()}")


def business_calendar(name: str, time_zone: str) -> BusinessHours | None:
    """Business hours in ``time_zone`` for ``BUSINESS_5X8`` (any case), else None (round the clock).

    The time zone is checked only for business hours, since round the clock does not use it. An unknown
    zone raises ValueError.
    """
    if name.upper() != BUSINESS_5X8_NAME:
        return None
    return BusinessHours(time_zone)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Arithmetic on an aware datetime in a ZoneInfo zone is wall-clock arithmetic, so convert to UTC
    # first. In a DST gap or overlap, fold=0 applies the offset in force before the change.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _as_utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment.isoformat()}")
    return moment.astimezone(UTC)
