"""The statistics reports' Temporal Schedules: one per period kind, in the desk's time zone, at 01:00
on the first day after each period (seed 002 七.5), on the desk's boundary (HELPDESK_REPORT_BOUNDARY):

| schedule | calendar boundary | day-21 boundary |
|---|---|---|
| ``stats-weekly-report`` | Monday 01:00 (the ISO week before) | the same |
| ``stats-monthly-report`` | the 1st, 01:00 | the 21st, 01:00 |
| ``stats-quarterly-report`` | 1 Jan, Apr, Jul, Oct, 01:00 | 21 Mar, Jun, Sep, Dec, 01:00 |
| ``stats-yearly-report`` | 1 January, 01:00 | 21 December, 01:00 |

Each run is workflows/stats_report.py with an empty day: the newest period over when it starts. One
hour after midnight gives the read model time to apply the last day's events; an event later still is
a late correction of the next report. Created, or brought to this definition, each time a stats
process starts (desk/schedules.py). A run still going when the next is due is not started twice
(overlap SKIP); after an outage of Temporal a missed run is caught up within a day, and past that
GenerateReport makes any period's report.
"""

from __future__ import annotations

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
from services.stats.periods import REPORTING_DAY, Boundary, PeriodKind
from workflows.contract import TASK_QUEUE
from workflows.stats_contract import REPORT_SCHEDULES, REPORT_WORKFLOW, ReportInput

CATCHUP_WINDOW = timedelta(days=1)
MONDAY = 1  # Temporal's day of week: 0 is Sunday
HOUR = 1

_CALENDAR_MONTHS = {
    PeriodKind.MONTHLY: range(1, 13),
    PeriodKind.QUARTERLY: (1, 4, 7, 10),
    PeriodKind.YEARLY: (1,),
}
_DAY_21_MONTHS = {
    PeriodKind.MONTHLY: range(1, 13),
    PeriodKind.QUARTERLY: (3, 6, 9, 12),
    PeriodKind.YEARLY: (12,),
}


def when(kind: PeriodKind, boundary: Boundary) -> ScheduleCalendarSpec:
    """The first day after each period of ``kind``, 01:00."""
    hour, minute = (ScheduleRange(HOUR),), (ScheduleRange(0),)
    if kind is PeriodKind.WEEKLY:
        return ScheduleCalendarSpec(
            hour=hour, minute=minute, day_of_week=(ScheduleRange(MONDAY),), comment="Monday 01:00"
        )
    day21 = boundary is Boundary.DAY_21
    months = (_DAY_21_MONTHS if day21 else _CALENDAR_MONTHS)[kind]
    day = REPORTING_DAY if day21 else 1
    return ScheduleCalendarSpec(
        hour=hour,
        minute=minute,
        day_of_month=(ScheduleRange(day),),
        month=tuple(ScheduleRange(month) for month in months),
        comment=f"01:00 on day {day} of months {', '.join(str(m) for m in months)}",
    )


def report_schedule(
    kind: PeriodKind, boundary: Boundary, time_zone: str, task_queue: str = TASK_QUEUE
) -> Schedule:
    boundary = Boundary.CALENDAR if kind is PeriodKind.WEEKLY else boundary
    return Schedule(
        action=ScheduleActionStartWorkflow(
            REPORT_WORKFLOW,
            ReportInput(period=kind.value, boundary=boundary.value, time_zone=time_zone, actor="system"),
            id=f"stats-report/{kind.value.lower()}/scheduled",  # Temporal appends the scheduled time
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(calendars=[when(kind, boundary)], time_zone_name=time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_schedules(
    client: Client, *, time_zone: str, boundary: Boundary, task_queue: str = TASK_QUEUE
) -> None:
    """Create the four schedules, or bring existing ones to this definition."""
    for kind in PeriodKind:
        await ensure_schedule(
            client, REPORT_SCHEDULES[kind.value], report_schedule(kind, boundary, time_zone, task_queue)
        )
