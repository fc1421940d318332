"""The deadline-precision bench's arithmetic: lateness from events, percentiles, the stages read from a
workflow's history, and the plan that keeps the openings, the idle window and the alarms apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    HistoryEvent,
    TimerFiredEventAttributes,
    TimerStartedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
)

from helpdesk.v1 import events_pb2
from tests.bench.deadline_precision import OPENING_LAG, Plan, Scenario
from tests.bench.lateness import Alarm, alarm_from_event, evenly_spaced, percentile, timer_stages

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _sla_event(type_: str, occurred: datetime, **payload: str) -> events_pb2.EventEnvelope:
    envelope = events_pb2.EventEnvelope(type=type_, ticket_id="T1", payload=struct_pb2.Struct())
    envelope.payload.update(payload)
    envelope.occurred_at.FromDatetime(occurred)
    return envelope


def test_a_warning_is_late_against_warn_at_and_an_overdue_against_due_at() -> None:
    times = {
        "deadline": "RESPONSE",
        "warn_at": T0.isoformat(),
        "due_at": (T0 + timedelta(minutes=1)).isoformat(),
    }
    streamed = T0 + timedelta(seconds=70)
    warning = alarm_from_event(_sla_event("sla.warning", T0 + timedelta(seconds=2), **times), streamed)
    overdue = alarm_from_event(_sla_event("sla.overdue", T0 + timedelta(seconds=61), **times), streamed)
    assert warning is not None and overdue is not None
    assert (warning.alarm, warning.deadline, warning.late, warning.late_on_stream) == (
        "warning",
        "RESPONSE",
        2,
        70,
    )
    assert (overdue.alarm, overdue.late, overdue.late_on_stream) == ("overdue", 1, 10)


def test_other_events_and_alarms_without_a_due_time_give_no_alarm() -> None:
    assert alarm_from_event(_sla_event("dispatch.chased", T0, due_at=T0.isoformat()), T0) is None
    assert alarm_from_event(_sla_event("sla.warning", T0, due_at=T0.isoformat()), T0) is None


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert [percentile(values, p) for p in (1, 50, 99, 100)] == [1, 50, 99, 100]
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 2.0], 50) == 1.0
    with pytest.raises(ValueError):
        percentile([], 50)


def _event(event_id: int, kind: EventType.ValueType, at: datetime, **attributes: object) -> HistoryEvent:
    time = timestamp_pb2.Timestamp()
    time.FromDatetime(at)
    return HistoryEvent(event_id=event_id, event_type=kind, event_time=time, **attributes)  # type: ignore[arg-type]


def _history(due: datetime) -> list[HistoryEvent]:
    """A timer set 0.1 s late by a workflow task that ran 0.08 s, fired 0.2 s after it ran out, a task
    attempt that timed out, then one completed 10.8 s after the firing."""
    started_at = due + timedelta(seconds=0.1) - timedelta(seconds=60)
    timeout = duration_pb2.Duration(seconds=60)
    return [
        _event(3, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, started_at - timedelta(seconds=0.08)),
        _event(
            5,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            started_at,
            workflow_task_completed_event_attributes=WorkflowTaskCompletedEventAttributes(
                scheduled_event_id=2, started_event_id=3
            ),
        ),
        _event(
            6,
            EventType.EVENT_TYPE_TIMER_STARTED,
            started_at,
            timer_started_event_attributes=TimerStartedEventAttributes(
                timer_id="6", start_to_fire_timeout=timeout, workflow_task_completed_event_id=5
            ),
        ),
        _event(
            7,
            EventType.EVENT_TYPE_TIMER_FIRED,
            due + timedelta(seconds=0.3),
            timer_fired_event_attributes=TimerFiredEventAttributes(timer_id="6", started_event_id=6),
        ),
        _event(8, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, due + timedelta(seconds=0.3)),
        _event(9, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, due + timedelta(seconds=0.4)),
        _event(10, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, due + timedelta(seconds=10.4)),
        _event(11, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, due + timedelta(seconds=10.4)),
        _event(12, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, due + timedelta(seconds=11.1)),
        _event(
            13,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            due + timedelta(seconds=11.2),
            workflow_task_completed_event_attributes=WorkflowTaskCompletedEventAttributes(
                scheduled_event_id=11, started_event_id=12
            ),
        ),
    ]


def test_a_history_splits_the_lateness_into_stages_that_add_up() -> None:
    due = T0 + timedelta(minutes=5)
    alarm = Alarm(
        "T1", "warning", "RESPONSE", due, due + timedelta(seconds=11.15), due + timedelta(seconds=11.6)
    )
    stages = timer_stages(_history(due), alarm)
    assert stages is not None
    assert stages.set_late == pytest.approx(0.1)
    assert stages.setting_task == pytest.approx(0.08)
    assert stages.fired == pytest.approx(0.2)
    assert stages.picked == pytest.approx(10.8)  # the timed-out attempt is time spent waiting for a worker
    assert stages.raised == pytest.approx(0.05)
    parts = stages.set_late + stages.fired + stages.picked + stages.raised + stages.streamed
    assert parts == pytest.approx(alarm.late_on_stream)


def test_no_stages_when_no_timer_fired_for_the_alarm() -> None:
    """An overdue raised with its late warning, on the warning's timer, has no timer of its own."""
    due = T0 + timedelta(minutes=5)
    later = due + timedelta(minutes=1)
    alarm = Alarm("T1", "overdue", "RESPONSE", later, later, later)
    assert timer_stages(_history(due), alarm) is None


def test_the_sample_spans_the_run() -> None:
    assert evenly_spaced(list(range(101)), 5) == [0, 25, 50, 75, 100]
    assert evenly_spaced([1, 2], 5) == [1, 2]
    assert evenly_spaced([1, 2, 3], 1) == [1]


@pytest.mark.parametrize("tickets", [300, 1000, 10_000, 100_000])
def test_the_plan_opens_every_ticket_and_idles_before_the_first_warning(tickets: int) -> None:
    plan = Plan(tickets=tickets, rate=40, idle_seconds=30)
    opened_by = plan.ramp_seconds * OPENING_LAG
    assert plan.warn_after >= opened_by + plan.idle_seconds
    # The first overdue comes due only after the last ticket's warning has.
    assert plan.due_after >= opened_by + plan.warn_after


def test_the_measured_tickets_are_paced_below_the_rate_the_desk_opened_the_others_at() -> None:
    scenario = Scenario(10_000, 1000, rate=None, idle_seconds=30, sample=10)
    assert (scenario.background, scenario.plan(50.0).tickets, scenario.plan(50.0).rate) == (9000, 1000, 40.0)
    assert Scenario(10_000, 1000, rate=25.0, idle_seconds=30, sample=10).plan(50.0).rate == 25.0
    everything = Scenario(1000, 1000, rate=None, idle_seconds=30, sample=10)
    assert (everything.background, everything.plan(50.0).tickets) == (100, 900)  # the rate learnt on 100
