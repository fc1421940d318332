"""Deadline arithmetic: warning and due times, the customer's cap, which alarms are due, the calendar seam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.intake.contract import Deadline, DeadlineKind, DeadlineState
from workflows.deadlines import (
    ROUND_THE_CLOCK,
    Alarm,
    AlarmKind,
    Calendar,
    add_working_time,
    calendar_for,
    due_alarms,
    meet,
    new_deadline,
    next_alarm_at,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 3600.0


def resolution(
    *,
    target_seconds: float = DAY,
    warning_percent: int = 80,
    calendar: Calendar = ROUND_THE_CLOCK,
    not_after: datetime | None = None,
) -> Deadline:
    return new_deadline(
        DeadlineKind.RESOLUTION,
        started_at=T0,
        target_seconds=target_seconds,
        warning_percent=warning_percent,
        calendar=calendar,
        not_after=not_after,
    )


def test_warns_at_80_percent_and_is_due_at_100() -> None:
    deadline = resolution()
    assert deadline.warn_at == T0 + timedelta(hours=19.2)
    assert deadline.due_at == T0 + timedelta(hours=24)
    assert (deadline.state, deadline.met_at) == (DeadlineState.PENDING, None)


def test_warning_percent_comes_from_the_policy() -> None:
    assert resolution(warning_percent=50).warn_at == T0 + timedelta(hours=12)


def test_expected_time_shortens_the_deadline_and_its_warning() -> None:
    deadline = resolution(not_after=T0 + timedelta(hours=10))
    assert deadline.due_at == T0 + timedelta(hours=10)
    assert deadline.warn_at == T0 + timedelta(hours=8)


def test_expected_time_later_than_the_target_changes_nothing() -> None:
    assert resolution(not_after=T0 + timedelta(days=3)) == resolution()


def test_expected_time_already_past_makes_it_due_at_once() -> None:
    deadline = resolution(not_after=T0 - timedelta(hours=1))
    assert deadline.warn_at == deadline.due_at == T0


def test_next_alarm_is_the_earliest_warning_or_due_time_still_open() -> None:
    response = new_deadline(DeadlineKind.RESPONSE, started_at=T0, target_seconds=7200, warning_percent=80)
    deadlines = [resolution(), response]
    assert next_alarm_at(deadlines) == T0 + timedelta(hours=1.6)
    response.state = DeadlineState.WARNED
    assert next_alarm_at(deadlines) == T0 + timedelta(hours=2)
    response.state = DeadlineState.OVERDUE
    assert next_alarm_at(deadlines) == T0 + timedelta(hours=19.2)
    meet(deadlines[0], T0)
    assert next_alarm_at(deadlines) is None


def test_due_alarms_fire_each_once_in_order() -> None:
    deadline = resolution()
    assert due_alarms([deadline], T0 + timedelta(hours=19)) == []
    assert due_alarms([deadline], T0 + timedelta(hours=19.2)) == [Alarm(0, AlarmKind.WARNING)]
    deadline.state = DeadlineState.WARNED
    assert due_alarms([deadline], T0 + timedelta(hours=20)) == []
    assert due_alarms([deadline], T0 + timedelta(hours=24)) == [Alarm(0, AlarmKind.OVERDUE)]
    deadline.state = DeadlineState.OVERDUE
    assert due_alarms([deadline], T0 + timedelta(days=9)) == []


def test_a_late_look_raises_the_warning_before_the_overdue() -> None:
    assert due_alarms([resolution()], T0 + timedelta(days=2)) == [
        Alarm(0, AlarmKind.WARNING),
        Alarm(0, AlarmKind.OVERDUE),
    ]


def test_a_met_deadline_raises_nothing() -> None:
    deadline = resolution()
    meet(deadline, T0 + timedelta(hours=3))
    assert (deadline.state, deadline.met_at) == (DeadlineState.MET, T0 + timedelta(hours=3))
    assert due_alarms([deadline], T0 + timedelta(days=2)) == []


def test_meeting_an_overdue_deadline_keeps_it_overdue() -> None:
    deadline = resolution()
    deadline.state = DeadlineState.OVERDUE
    meet(deadline, T0 + timedelta(days=2))
    assert (deadline.state, deadline.met_at) == (DeadlineState.OVERDUE, T0 + timedelta(days=2))


def test_round_the_clock_is_the_calendar_for_now() -> None:
    assert calendar_for("24X7") == ROUND_THE_CLOCK
    assert calendar_for("BUSINESS_5x8") == ROUND_THE_CLOCK  # until business calendars land
    assert add_working_time(T0, 90) == T0 + timedelta(seconds=90)
    assert ROUND_THE_CLOCK.between(T0, T0 - timedelta(hours=1)) == 0


@dataclass(frozen=True)
class NineToFive:
    """A toy business calendar (every day, 09:00-17:00), to show the seam takes one."""

    name: str = "TOY_9_TO_5"

    def add(self, start: datetime, seconds: float) -> datetime:
        at, left = start, seconds
        while True:
            opens, closes = at.replace(hour=9, minute=0, second=0), at.replace(hour=17, minute=0, second=0)
            at = max(at, opens)
            if at < closes and left <= (closes - at).total_seconds():
                return at + timedelta(seconds=left)
            left -= max((closes - at).total_seconds(), 0)
            at = opens + timedelta(days=1)

    def between(self, start: datetime, end: datetime) -> float:
        seconds, at = 0.0, start
        while at < end:
            opens, closes = at.replace(hour=9, minute=0, second=0), at.replace(hour=17, minute=0, second=0)
            seconds += max((min(closes, end) - max(opens, at)).total_seconds(), 0)
            at = opens + timedelta(days=1)
        return seconds


def test_a_calendar_can_be_passed_in() -> None:
    deadline = resolution(target_seconds=10 * 3600, calendar=NineToFive())  # 10 working hours from 09:00
    assert deadline.due_at == T0 + timedelta(days=1, hours=2)  # 8 h today, 2 h tomorrow
    assert deadline.warn_at == T0 + timedelta(hours=8)  # 80 % = 8 working hours: 17:00 today
    capped = resolution(target_seconds=10 * 3600, calendar=NineToFive(), not_after=T0 + timedelta(hours=5))
    assert capped.warn_at == T0 + timedelta(hours=4)
