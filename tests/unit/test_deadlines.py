"""Deadline arithmetic: warning and due times, the customer's cap, which alarms are due, calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.deadlines import (
    ROUND_THE_CLOCK,
    Alarm,
    AlarmKind,
    Deadline,
    DeadlineKind,
    DeadlineState,
    add_working_time,
    calendar_for,
    derive,
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
    calendar: str = "24X7",
    time_zone: str = "",
    not_after: datetime | None = None,
) -> Deadline:
    return new_deadline(
        DeadlineKind.RESOLUTION,
        started_at=T0,
        target_seconds=target_seconds,
        warning_percent=warning_percent,
        calendar=calendar,
        time_zone=time_zone,
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
    later, plain = resolution(not_after=T0 + timedelta(days=3)), resolution()
    assert (later.warn_at, later.due_at) == (plain.warn_at, plain.due_at)


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


def test_names_pick_the_calendar() -> None:
    assert calendar_for("24X7") == ROUND_THE_CLOCK
    assert calendar_for("") == ROUND_THE_CLOCK  # an old record: round the clock is the safe side
    assert calendar_for("BUSINESS_5X8", "Asia/Shanghai").name == "BUSINESS_5X8"
    assert add_working_time(T0, 90) == T0 + timedelta(seconds=90)
    assert ROUND_THE_CLOCK.between(T0, T0 - timedelta(hours=1)) == 0


def test_business_hours_stretch_a_deadline_over_the_night() -> None:
    """T0 is Monday 09:00 in a zone kept at UTC: 8 working hours a day."""
    deadline = resolution(target_seconds=10 * 3600, calendar="BUSINESS_5X8", time_zone="UTC")
    assert deadline.due_at == T0 + timedelta(days=1, hours=2)  # 8 h today, 2 h tomorrow
    assert deadline.warn_at == T0 + timedelta(hours=8)  # 80 % = 8 working hours: 17:00 today
    capped = resolution(
        target_seconds=10 * 3600, calendar="BUSINESS_5X8", time_zone="UTC", not_after=T0 + timedelta(hours=5)
    )
    assert (capped.warn_at, capped.due_at) == (T0 + timedelta(hours=4), T0 + timedelta(hours=5))


def test_a_deadline_re_derives_exactly_from_what_it_recorded() -> None:
    variants = [
        resolution(),
        resolution(warning_percent=55, not_after=T0 + timedelta(hours=7)),
        resolution(target_seconds=37 * 3600, calendar="BUSINESS_5X8", time_zone="Asia/Shanghai"),
        resolution(target_seconds=3 * 3600, calendar="BUSINESS_5X8", not_after=T0 - timedelta(hours=1)),
    ]
    for deadline in variants:
        assert derive(deadline) == (deadline.warn_at, deadline.due_at)
    assert variants[2].due_at > T0 + timedelta(days=4)  # 37 working hours: most of a working week
