"""The quality service's Temporal Schedules: the daily sampling run and the weekly QA report.

- ``quality-daily-sampling``: every day at 00:10 in the desk's time zone, the day before's sample
  (DailySamplingInput with an empty day: the workflow takes the day before the time it was scheduled for).
- ``quality-weekly-report``: every Monday at 17:00, the week before's report (WeeklyReportInput, week empty):
  at the end of Monday's working day, so that the inspectors have inspected Sunday's sample (drawn at
  00:10 on Monday) before the report, which never changes once made, counts what was inspected.

Both are created, or brought to this definition, each time a quality process starts; several replicas
may start at once, so a schedule another one just created is updated instead, and an update that
raced another is tried again. An update keeps the schedule's state: one an operator paused stays paused.
A run still going when the next is due is not started twice (overlap SKIP); after an outage of
Temporal, a missed run is caught up within a day (past that, RunDailySampling samples any past day).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from desk.schedules import ensure_schedule
from workflows.contract import TASK_QUEUE
from workflows.quality_contract import (
    DAILY_SAMPLING_SCHEDULE,
    DAILY_SAMPLING_WORKFLOW,
    WEEKLY_REPORT_SCHEDULE,
    WEEKLY_REPORT_WORKFLOW,
    DailySamplingInput,
    WeeklyReportInput,
)

log = logging.getLogger(__name__)

CATCHUP_WINDOW = timedelta(days=1)
MONDAY = 1  # Temporal's day of week: 0 is Sunday


def daily_sampling_schedule(time_zone: str, task_queue: str = TASK_QUEUE) -> Schedule:
    return _schedule(
        ScheduleCalendarSpec(
            hour=(ScheduleRange(0),), minute=(ScheduleRange(10),), comment="00:10 every day"
        ),
        ScheduleActionStartWorkflow(
            DAILY_SAMPLING_WORKFLOW,
            DailySamplingInput(day="", time_zone=time_zone),
            id="quality-sampling/scheduled",  # Temporal appends the scheduled time
            task_queue=task_queue,
        ),
        time_zone,
    )


def weekly_report_schedule(time_zone: str, task_queue: str = TASK_QUEUE) -> Schedule:
    return _schedule(
        ScheduleCalendarSpec(
            hour=(ScheduleRange(17),),
            minute=(ScheduleRange(0),),
            day_of_week=(ScheduleRange(MONDAY),),
            comment="17:00 every Monday",
        ),
        ScheduleActionStartWorkflow(
            WEEKLY_REPORT_WORKFLOW,
            WeeklyReportInput(week="", time_zone=time_zone),
            id="quality-report/scheduled",
            task_queue=task_queue,
        ),
        time_zone,
    )


def _schedule(when: ScheduleCalendarSpec, action: ScheduleActionStartWorkflow, time_zone: str) -> Schedule:
    return Schedule(
        action=action,
        spec=ScheduleSpec(calendars=[when], time_zone_name=time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_schedules(client: Client, *, time_zone: str, task_queue: str = TASK_QUEUE) -> None:
    """Create both schedules, or bring existing ones to this definition."""
    await ensure_schedule(client, DAILY_SAMPLING_SCHEDULE, daily_sampling_schedule(time_zone, task_queue))
    await ensure_schedule(client, WEEKLY_REPORT_SCHEDULE, weekly_report_schedule(time_zone, task_queue))
