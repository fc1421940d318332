"""What other code may know of the quality service: its activity names, records and the desk's day."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.dispatch.contract import ViolationRecord
from services.quality.scorecards import ItemKind, Post

RUN_DAILY_SAMPLING = "quality.run_daily_sampling"
GENERATE_WEEKLY_REPORT = "quality.generate_weekly_report"
MARK_VIOLATIONS_RECORDED = "quality.mark_violations_recorded"


@dataclass
class LedgerItem:
    """One handled item of someone's work, decided from one event (services/quality/workload.py)."""

    item_id: str
    day: date  # the desk's local day of occurred_at
    post: Post
    staff_id: str
    kind: ItemKind
    event_id: str
    occurred_at: datetime
    ticket_id: str = ""
    team_id: str = ""
    detail: str = ""
    subject_staff_id: str = ""  # a review's: the junior agent whose dispatch was graded
    outcome: str = ""  # a review's: APPROVED or REJECTED


_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class IsoWeek:
    """An ISO week of the desk: Monday 00:00 to the next Monday 00:00 in the desk's time zone."""

    name: str  # 2026-W48
    first_day: date  # its Monday
    time_zone: str

    @classmethod
    def parse(cls, text: str, time_zone: str) -> IsoWeek:
        """The week ``YYYY-Www``; ValueError when it is not one (a year without a week 53 included)."""
        matched = _ISO_WEEK.fullmatch(text)
        if matched is None:
            raise ValueError(f"{text!r} is not an ISO week (YYYY-Www, e.g. 2026-W48)")
        year, number = int(matched[1]), int(matched[2])
        try:
            monday = date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{year} has no week {number}") from None
        return cls(f"{year:04d}-W{number:02d}", monday, time_zone)

    @classmethod
    def containing(cls, instant: datetime, time_zone: str) -> IsoWeek:
        year, number, _ = instant.astimezone(ZoneInfo(time_zone)).date().isocalendar()
        return cls.parse(f"{year:04d}-W{number:02d}", time_zone)

    @classmethod
    def before(cls, instant: datetime, time_zone: str) -> IsoWeek:
        """The week before the one ``instant`` is in, locally (what the Monday Schedule reports on)."""
        return cls.containing(instant, time_zone).previous()

    def previous(self) -> IsoWeek:
        year, number, _ = (self.first_day - timedelta(days=7)).isocalendar()
        return IsoWeek.parse(f"{year:04d}-W{number:02d}", self.time_zone)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """Monday 00:00 locally (aware)."""
        return datetime.combine(self.first_day, time(), ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 locally: the week is [start, end)."""
        return datetime.combine(self.first_day + timedelta(days=7), time(), ZoneInfo(self.time_zone))


@dataclass
class WeeklyReportRequest:
    """What ``quality.generate_weekly_report`` needs: the week and the ledger's violations in it."""

    week: str  # 2026-W48
    time_zone: str
    violations: list[ViolationRecord] = field(default_factory=list)
    # False: the numbers so far (a week not over, or a preview), never stored.
    store: bool = True


@dataclass
class RunDailySamplingInput:
    """The day to sample (YYYY-MM-DD), over in ``time_zone``: a day not over is refused, not drawn."""

    day: str
    time_zone: str = "Asia/Shanghai"


@dataclass
class SampledDay:
    """What a daily run drew (the run itself is read back from the quality service's tables)."""

    day: str
    key_id: str
    items: int
    sampled: int
    ledger_position: int
