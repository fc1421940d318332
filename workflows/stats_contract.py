"""What the stats service may know of its report workflow, and the workflow of the service: the
workflow's, activity's and Schedules' names and their inputs (services/stats/schedules.py and
activities.py, workflows/stats_report.py), as workflows/quality_contract.py is the quality service's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

GENERATE_REPORT = "stats.generate_report"
REPORT_WORKFLOW = "StatsReport"

REPORT_SCHEDULES = {
    "WEEKLY": "stats-weekly-report",
    "MONTHLY": "stats-monthly-report",
    "QUARTERLY": "stats-quarterly-report",
    "YEARLY": "stats-yearly-report",
}
"""The Schedule of each period (services/stats/schedules.py)."""


@dataclass
class ReportInput:
    """One period's report: ``period`` WEEKLY … YEARLY, ``boundary`` CALENDAR or DAY_21, ``day`` a day
    inside it (YYYY-MM-DD); an empty day (a Schedule's run): the newest period over at the run's start."""

    period: str
    boundary: str = "CALENDAR"
    day: str = ""
    time_zone: str = "Asia/Shanghai"
    actor: str = "system"


@dataclass
class GenerateReportInput:
    """What ``stats.generate_report`` is given: the workflow's input and, for an empty day, the
    instant the period is taken from (the run's start, fixed in its history)."""

    report: ReportInput
    at: datetime | None = None


@dataclass
class GeneratedReport:
    report_id: str
    created: bool  # False: it was generated before (or by a concurrent call), and is unchanged
