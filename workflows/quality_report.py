"""The weekly QA report (每周质检分析报告): ``quality-report/<week>``, from the Monday Schedule or
GetQualityReport.

It reads the violations recorded in the week from dispatch's ledger (dispatch's activity: the ledger
is dispatch's schema; the report counts its DEADLINE and INVESTIGATION ones, and the inspections'
from the quality service's own record), then has the quality service compute the report over its
own tables and store it once with its ``quality.reported`` event. A report stored is the answer from
then on: a second run, or one racing the first, returns it unchanged. The Schedule starts it with an
empty week: the ISO week before the run's start time in the input's time zone (the start time is in
the history, so a replay picks the same week).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.dispatch.contract import LIST_VIOLATIONS, ListViolationsInput, ViolationList
    from services.quality.contract import GENERATE_WEEKLY_REPORT, IsoWeek, WeeklyReportRequest
    from workflows.quality_contract import WEEKLY_REPORT_WORKFLOW, WeeklyReportInput

ACTIVITY_TIMEOUT = timedelta(minutes=2)
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Until it succeeds: the database down only delays the report."""


@workflow.defn(name=WEEKLY_REPORT_WORKFLOW)
class WeeklyReportWorkflow:
    @workflow.run
    async def run(self, input: WeeklyReportInput) -> dict[str, Any]:
        week = _week(input)
        found = await workflow.execute_activity(
            LIST_VIOLATIONS,
            ListViolationsInput(since=week.start, until=week.end),
            result_type=ViolationList,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRIES,
        )
        report: dict[str, Any] = await workflow.execute_activity(
            GENERATE_WEEKLY_REPORT,
            WeeklyReportRequest(week.name, input.time_zone, found.violations, store=input.store),
            result_type=dict,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRIES,
        )
        return report


def _week(input: WeeklyReportInput) -> IsoWeek:
    if not input.week:
        return IsoWeek.before(workflow.info().start_time, input.time_zone)
    try:
        return IsoWeek.parse(input.week, input.time_zone)
    except ValueError as error:  # a starter that did not check: fail the run, not its every task
        raise ApplicationError(str(error), type="InvalidWeek", non_retryable=True) from None
