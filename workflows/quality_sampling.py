"""The daily sampling run (定期检查) of one day: ``quality-sampling/<day>`` from RunDailySampling, or a
Schedule's run shortly after midnight for the day before.

The run is one activity (services/quality/runs.py): it draws the day's sample once and answers the
stored run ever after, so a Schedule's run, an operator's and an external scheduler's for the same day
all end with the same sample. From the Schedule the day is empty: the workflow samples the day before
the time it was scheduled for (its start when no Schedule started it), in the input's time zone, so a
run the Schedule catches up late still samples the day it was meant for.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.quality.contract import RUN_DAILY_SAMPLING, RunDailySamplingInput, SampledDay
    from workflows.quality_contract import DAILY_SAMPLING_WORKFLOW, DailySamplingInput

RUN_TIMEOUT = timedelta(minutes=2)
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Until it succeeds: the database down only delays the run (a day not over fails for good)."""

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by Temporal on a workflow a Schedule started: the time it was scheduled for."""


def previous_day(at: datetime, time_zone: str) -> str:
    """The local day before ``at``'s, as YYYY-MM-DD."""
    return (at.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=1)).isoformat()


@workflow.defn(name=DAILY_SAMPLING_WORKFLOW)
class DailySamplingWorkflow:
    @workflow.run
    async def run(self, input: DailySamplingInput) -> SampledDay:
        day = input.day or previous_day(_scheduled_for(), input.time_zone)
        sampled: SampledDay = await workflow.execute_activity(
            RUN_DAILY_SAMPLING,
            RunDailySamplingInput(day, input.time_zone),
            result_type=SampledDay,
            start_to_close_timeout=RUN_TIMEOUT,
            retry_policy=RETRIES,
        )
        return sampled


def _scheduled_for() -> datetime:
    """Deterministic: both come from the workflow's start event."""
    info = workflow.info()
    return info.typed_search_attributes.get(SCHEDULED_START) or info.workflow_start_time
