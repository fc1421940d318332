"""Report periods, pure: which week, month, quarter or year holds a day, on which boundary, and its id.

Calendar periods (the default) are ISO weeks (Monday to Sunday), calendar months, quarters from
January, April, July and October, and calendar years. The regulation's reporting day (seed 002 七.5:
"每周一、每月、每季度、每年12月份的21号") starts monthly, quarterly and yearly periods on the 21st:
a month runs from the 21st to the 20th of the next one, quarters from 21 December, March, June and
September, a year from 21 December to 20 December; weeks stay ISO weeks on either boundary, so a
weekly report is one report whichever boundary it was asked on.

A period is whole days of the desk's time zone: it begins at local midnight of its first day and ends
at local midnight after its last (``start``/``end``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

REPORTING_DAY = 21
"""The regulation's reporting day: day-21 periods begin on it."""


class PeriodKind(enum.Enum):
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"


class Boundary(enum.Enum):
    CALENDAR = "CALENDAR"
    DAY_21 = "DAY_21"

    @classmethod
    def from_setting(cls, text: str) -> Boundary:
        """``calendar`` or ``day21`` (HELPDESK_REPORT_BOUNDARY); ValueError for anything else."""
        wanted = text.strip().lower().replace("_", "").replace("-", "")
        for boundary, names in ((cls.CALENDAR, ("calendar",)), (cls.DAY_21, ("day21",))):
            if wanted in names:
                return boundary
        raise ValueError(f"{text!r} is no period boundary (calendar or day21)")


_MONTHS_PER_PERIOD = {PeriodKind.MONTHLY: 1, PeriodKind.QUARTERLY: 3, PeriodKind.YEARLY: 12}


@dataclass(frozen=True)
class ReportPeriod:
    """One period: its kind, boundary, first and last day (both included) in ``time_zone``."""

    kind: PeriodKind
    boundary: Boundary
    first_day: date
    last_day: date
    time_zone: str

    @classmethod
    def containing(cls, kind: PeriodKind, day: date, boundary: Boundary, time_zone: str) -> ReportPeriod:
        if kind is PeriodKind.WEEKLY:
            monday = day - timedelta(days=day.weekday())
            return cls(kind, Boundary.CALENDAR, monday, monday + timedelta(days=6), time_zone)
        first = _first_day(kind, day, boundary)
        following = _add_months(first, _MONTHS_PER_PERIOD[kind])
        return cls(kind, boundary, first, following - timedelta(days=1), time_zone)

    @classmethod
    def last_over_at(
        cls, kind: PeriodKind, instant: datetime, boundary: Boundary, time_zone: str
    ) -> ReportPeriod:
        """The newest period over at ``instant``: the one before the period its local day is in
        (what a Schedule run reports on, however late after the period's end it starts)."""
        today = instant.astimezone(ZoneInfo(time_zone)).date()
        return cls.containing(kind, today, boundary, time_zone).previous()

    def previous(self) -> ReportPeriod:
        return ReportPeriod.containing(
            self.kind, self.first_day - timedelta(days=1), self.boundary, self.time_zone
        )

    def following(self) -> ReportPeriod:
        return ReportPeriod.containing(
            self.kind, self.last_day + timedelta(days=1), self.boundary, self.time_zone
        )

    @property
    def start(self) -> datetime:
        """Local midnight of the first day (aware)."""
        return datetime.combine(self.first_day, time(), ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        """Local midnight after the last day: the period is [start, end)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), ZoneInfo(self.time_zone))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def is_over(self, now: datetime) -> bool:
        return now >= self.end

    @property
    def report_id(self) -> str:
        """``WEEKLY-2026-W48``, ``MONTHLY-2026-11``, ``QUARTERLY-2026-Q4``, ``YEARLY-2026``; on the
        day-21 boundary the kind gets a 21 and the first day is named: ``MONTHLY21-2026-11-21``."""
        first = self.first_day
        if self.kind is PeriodKind.WEEKLY:
            year, week, _ = first.isocalendar()
            return f"WEEKLY-{year:04d}-W{week:02d}"
        if self.boundary is Boundary.DAY_21:
            return f"{self.kind.value}21-{first.isoformat()}"
        if self.kind is PeriodKind.MONTHLY:
            return f"MONTHLY-{first.year:04d}-{first.month:02d}"
        if self.kind is PeriodKind.QUARTERLY:
            return f"QUARTERLY-{first.year:04d}-Q{(first.month - 1) // 3 + 1}"
        return f"YEARLY-{first.year:04d}"


_REPORT_ID = re.compile(
    r"(?P<kind>WEEKLY|MONTHLY|QUARTERLY|YEARLY)(?P<day21>21)?-"
    r"(?P<year>\d{4})(?:-W(?P<week>\d{2})|-Q(?P<quarter>[1-4])|-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
)


def parse_report_id(text: str, time_zone: str) -> ReportPeriod:
    """The period a report id names; ValueError when it names none (a kind and a date that disagree
    included: ``MONTHLY21-2026-11-20`` does not begin a day-21 month)."""
    matched = _REPORT_ID.fullmatch(text.strip())
    if matched is None:
        raise ValueError(f"{text!r} is not a report id (e.g. MONTHLY-2026-11, WEEKLY-2026-W48)")
    kind = PeriodKind(matched["kind"])
    boundary = Boundary.DAY_21 if matched["day21"] else Boundary.CALENDAR
    year = int(matched["year"])
    try:
        first = _named_first_day(kind, boundary, year, matched)
    except ValueError:
        raise ValueError(f"{text!r} names no {kind.value.lower()} period") from None
    period = ReportPeriod.containing(kind, first, boundary, time_zone)
    if period.report_id != text.strip():
        raise ValueError(f"{text!r} names no {kind.value.lower()} period (did you mean {period.report_id}?)")
    return period


def _named_first_day(kind: PeriodKind, boundary: Boundary, year: int, matched: re.Match[str]) -> date:
    if kind is PeriodKind.WEEKLY:
        return date.fromisocalendar(year, int(matched["week"] or "0"), 1)
    if boundary is Boundary.DAY_21:
        return date(year, int(matched["month"] or "0"), int(matched["day"] or "0"))
    if kind is PeriodKind.QUARTERLY:
        return date(year, (int(matched["quarter"] or "0") - 1) * 3 + 1, 1)
    if kind is PeriodKind.MONTHLY:
        return date(year, int(matched["month"] or "0"), 1)
    return date(year, 1, 1)


def _first_day(kind: PeriodKind, day: date, boundary: Boundary) -> date:
    """The first day of the month, quarter or year holding ``day``."""
    months = _MONTHS_PER_PERIOD[kind]
    if boundary is Boundary.CALENDAR:
        month_index = (day.month - 1) // months * months  # 0-based month the period begins in
        return date(day.year, month_index + 1, 1)
    # Day 21: the period named by the calendar period of (day + the days to the next 21st), shifted
    # back to its 21st: 21 Dec 2026 opens the year (and quarter, and month) that the calendar starts
    # on 1 Jan 2027.
    anchor = day if day.day < REPORTING_DAY else _add_months(day.replace(day=1), 1)
    calendar_first = _first_day(kind, anchor, Boundary.CALENDAR)
    return _add_months(calendar_first, -1).replace(day=REPORTING_DAY)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, first_of_month.day)
