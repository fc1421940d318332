"""What other code may know of the quality service: its activity names, records and the desk's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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
