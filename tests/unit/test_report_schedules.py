"""The report Schedules' calendars: after each period, on the calendar or the day-21 boundary."""

from __future__ import annotations

from temporalio.client import ScheduleActionStartWorkflow, ScheduleCalendarSpec

from services.stats.periods import Boundary, PeriodKind
from services.stats.schedules import report_schedule, when
from workflows.stats_contract import ReportInput


def _days(spec: ScheduleCalendarSpec) -> tuple[list[int], list[int], list[int]]:
    """(months, days of the month, days of the week) the spec fires on, at 01:00."""
    assert [r.start for r in spec.hour] == [1] and [r.start for r in spec.minute] == [0]
    return (
        [r.start for r in spec.month],
        [r.start for r in spec.day_of_month],
        [r.start for r in spec.day_of_week],
    )


def test_calendar_periods_are_reported_on_the_first_day_after_them() -> None:
    assert _days(when(PeriodKind.MONTHLY, Boundary.CALENDAR))[:2] == (list(range(1, 13)), [1])
    assert _days(when(PeriodKind.QUARTERLY, Boundary.CALENDAR))[:2] == ([1, 4, 7, 10], [1])
    assert _days(when(PeriodKind.YEARLY, Boundary.CALENDAR))[:2] == ([1], [1])


def test_day_21_periods_are_reported_on_the_21st() -> None:
    assert _days(when(PeriodKind.MONTHLY, Boundary.DAY_21))[:2] == (list(range(1, 13)), [21])
    assert _days(when(PeriodKind.QUARTERLY, Boundary.DAY_21))[:2] == ([3, 6, 9, 12], [21])
    assert _days(when(PeriodKind.YEARLY, Boundary.DAY_21))[:2] == ([12], [21])


def test_weeks_are_reported_on_monday_whatever_the_boundary() -> None:
    for boundary in Boundary:
        assert _days(when(PeriodKind.WEEKLY, boundary))[2] == [1]
        action = report_schedule(PeriodKind.WEEKLY, boundary, "Asia/Shanghai").action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.args == [ReportInput("WEEKLY", "CALENDAR", "", "Asia/Shanghai", "system")]
