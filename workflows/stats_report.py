"""A period's statistics report from a Schedule (services/stats/schedules.py): ``stats.generate_report``
for the newest period over when the run started (its start time is in the history, so a replay takes
the same period), or for the input's day. The report is stored once; a second run finds it stored.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.stats_contract import (
        GENERATE_REPORT,
        REPORT_WORKFLOW,
        GeneratedReport,
        GenerateReportInput,
        ReportInput,
    )

ACTIVITY_TIMEOUT = timedelta(minutes=5)
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Until it succeeds: the database down only delays the report."""


@workflow.defn(name=REPORT_WORKFLOW)
class StatsReportWorkflow:
    @workflow.run
    async def run(self, input: ReportInput) -> GeneratedReport:
        at = None if input.day else workflow.info().start_time
        generated: GeneratedReport = await workflow.execute_activity(
            GENERATE_REPORT,
            GenerateReportInput(report=input, at=at),
            result_type=GeneratedReport,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRIES,
        )
        return generated
