"""The stats service's activity, run by the workflow worker over the stats schema: a period's report,
for the Schedules (workflows/stats_report.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from desk.storage_errors import final_storage_errors
from services.stats.periods import Boundary, PeriodKind, ReportPeriod
from services.stats.reports import Reports
from workflows.stats_contract import GENERATE_REPORT, GeneratedReport, GenerateReportInput

PERIOD_NOT_OVER = "PeriodNotOver"
INVALID_REPORT = "InvalidReport"


class StatsActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=GENERATE_REPORT)
    @final_storage_errors
    async def generate_report(self, request: GenerateReportInput) -> GeneratedReport:
        """The period's report, stored once with its report.generated event; a period not over is
        refused for good (a Schedule's run never asks for one; a starter that did not check might)."""
        now = datetime.now(UTC)
        period = period_of(request)
        if not period.is_over(now):
            raise ApplicationError(
                f"{period.report_id} is not over in {period.time_zone}",
                type=PERIOD_NOT_OVER,
                non_retryable=True,
            )
        reports = Reports(self._pool, period.time_zone)
        generated = await reports.generate(period, actor=request.report.actor, now=now)
        return GeneratedReport(report_id=generated.report.report_id, created=generated.created)

    def all(self) -> list[Callable[..., Any]]:
        """The activities the worker registers."""
        return [self.generate_report]


def period_of(request: GenerateReportInput) -> ReportPeriod:
    """The period asked for: the one holding the day, or without one the newest over at ``at``."""
    asked = request.report
    try:
        kind, boundary = PeriodKind(asked.period), Boundary(asked.boundary)
        if asked.day:
            return ReportPeriod.containing(kind, date.fromisoformat(asked.day), boundary, asked.time_zone)
    except ValueError as error:
        raise ApplicationError(str(error), type=INVALID_REPORT, non_retryable=True) from None
    if request.at is None:
        raise ApplicationError("neither a day nor an instant", type=INVALID_REPORT, non_retryable=True)
    return ReportPeriod.last_over_at(kind, request.at, boundary, asked.time_zone)
