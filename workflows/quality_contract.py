"""What the quality service may know of its workflows: their names, ids and inputs.

The daily sampling run and the weekly report are workflows so that a Schedule, an operator's RPC and
an external scheduler all take one path (the same workflow id per day or week: concurrent callers
share one run); an inspection's violations reach the violations ledger through a workflow so that a
crash after the inspection is stored cannot lose them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

DAILY_SAMPLING_WORKFLOW = "QualityDailySampling"
WEEKLY_REPORT_WORKFLOW = "QualityWeeklyReport"
INSPECTION_VIOLATIONS_WORKFLOW = "InspectionViolations"

DAILY_SAMPLING_SCHEDULE = "quality-daily-sampling"
WEEKLY_REPORT_SCHEDULE = "quality-weekly-report"


def daily_sampling_id(day: str) -> str:
    return f"quality-sampling/{day}"


def weekly_report_id(week: str) -> str:
    return f"quality-report/{week}"


def weekly_report_so_far_id(week: str) -> str:
    """A week not over: the numbers so far, never stored (concurrent askers share a run)."""
    return f"quality-report-so-far/{week}"


def inspection_violations_id(inspection_id: str) -> str:
    return f"inspection-violations/{inspection_id}"


@dataclass
class DailySamplingInput:
    """The day to sample (YYYY-MM-DD); empty from the Schedule: the day before the run's start, locally."""

    day: str = ""
    time_zone: str = "Asia/Shanghai"


def previous_day(at: datetime, time_zone: str) -> str:
    """The day an empty DailySamplingInput samples: the local day before ``at``'s, as YYYY-MM-DD.

    Here, imported passed through, rather than in the workflow's module: the sandbox lets zoneinfo,
    which reads the zone's file, work only outside it (as the ticket workflow's calendars do)."""
    return (at.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)).isoformat()


@dataclass
class WeeklyReportInput:
    """The ISO week (2026-W48); empty from the Schedule: the week before the run's start, locally."""

    week: str = ""
    time_zone: str = "Asia/Shanghai"
    # False: the numbers so far, stored nowhere (GetQualityReport of the current week).
    store: bool = True


@dataclass
class InspectionViolation:
    """One violation an inspection named, under its ledger id (inspection/<inspection_id>/<n>)."""

    violation_id: str
    code: str
    note: str = ""


@dataclass
class InspectionViolationsInput:
    """An inspection's violations, against the person who did the work and the team (service-desk for
    the desk's own work), dated when that work was done (``occurred_at``): a violation belongs to the
    week of the work, as a missed deadline does to the week it was missed, however late it is found."""

    inspection_id: str
    violations: list[InspectionViolation] = field(default_factory=list)
    ticket_id: str = ""
    agent_id: str = ""
    team_id: str = ""
    occurred_at: datetime | None = None
