"""How late deadline alarms fire, from their events and from Temporal's histories. Pure: no I/O.

An ``sla.warning`` is due at its deadline's ``warn_at``, an ``sla.overdue`` at its ``due_at`` (both
in the event's payload). Its lateness is the event's ``occurred_at`` (the workflow's clock when it
raised the alarm) minus that; the same against the time JetStream stored the event says how late a
consumer could first see it. A ticket workflow's history splits the first into stages: when
Temporal fired the workflow's timer, and when a worker took the workflow task that timer made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from helpdesk.v1 import events_pb2

T = TypeVar("T")
ALARMS = ("warning", "overdue")
TIMER_MATCH_TOLERANCE = timedelta(milliseconds=500)
"""A timer fired this much before an alarm's due time still counts as that alarm's timer: Temporal
stores event times to the millisecond and the workflow computes the timer from its own clock."""


@dataclass(frozen=True)
class Alarm:
    ticket_id: str
    alarm: str  # "warning" or "overdue"
    deadline: str  # the deadline's kind: RESPONSE, RESOLUTION, …
    due: datetime  # warn_at for a warning, due_at for an overdue
    occurred: datetime  # the event's occurred_at
    streamed: datetime  # when the event reached the stream (JetStream's timestamp)

    @property
    def late(self) -> float:
        """The event's time minus the time it was due, in seconds."""
        return (self.occurred - self.due).total_seconds()

    @property
    def late_on_stream(self) -> float:
        return (self.streamed - self.due).total_seconds()


def alarm_from_event(envelope: events_pb2.EventEnvelope, streamed: datetime) -> Alarm | None:
    """The alarm an ``sla.warning`` or ``sla.overdue`` reports; None for any other event, or one whose
    payload lacks the time it was due."""
    alarm = envelope.type.removeprefix("sla.")
    if alarm not in ALARMS:
        return None
    fields = envelope.payload.fields
    due = fields.get("warn_at" if alarm == "warning" else "due_at")
    if due is None or not due.string_value:
        return None
    return Alarm(
        ticket_id=envelope.ticket_id,
        alarm=alarm,
        deadline=fields["deadline"].string_value if "deadline" in fields else "",
        due=datetime.fromisoformat(due.string_value),
        occurred=envelope.occurred_at.ToDatetime(tzinfo=UTC),
        streamed=streamed,
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``p`` % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    count: int
    p50: float
    p99: float
    most: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        if not values:
            return None
        return cls(len(values), percentile(values, 50), percentile(values, 99), max(values))

    def cells(self) -> str:
        return f"{self.p50:7.3f} {self.p99:7.3f} {self.most:7.3f}"


@dataclass(frozen=True)
class TimerStages:
    """Where an alarm's lateness went, from its workflow's history; the stages add up to the time the
    event reached the stream minus its due time."""

    set_late: float  # the timer runs out after the due time: the workflow task that started it took that
    # long between reading its clock and the server recording the timer (TimerStarted + its duration - due)
    setting_task: float  # how long that workflow task ran, from its start to its completion
    fired: float  # Temporal's timer queue: TimerFired minus when the timer ran out
    picked: float  # until a worker ran the workflow task the firing made (its started time - TimerFired)
    raised: float  # the worker's step until it stamped the event: occurred_at minus that task's start
    streamed: float  # recorded, then relayed from intake's outbox to the stream: stream time - occurred_at


def timer_stages(history: Sequence[HistoryEvent], alarm: Alarm) -> TimerStages | None:
    """The stages of ``alarm`` in its workflow's history: the first timer fired at (about) its due time
    or after, and the first workflow task completed after that (an attempt that timed out before it is
    time spent waiting for a worker). None when no timer of its own fired for it: a workflow that woke
    late enough raises a warning and its overdue at once, on the warning's timer."""
    by_id = {event.event_id: event for event in history}
    earliest = alarm.due - TIMER_MATCH_TOLERANCE
    fired = next(
        (
            event
            for event in history
            if event.event_type == EventType.EVENT_TYPE_TIMER_FIRED and _at(event) >= earliest
        ),
        None,
    )
    if fired is None:
        return None
    completed = next(
        (
            event
            for event in history
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            and event.event_id > fired.event_id
        ),
        None,
    )
    started = by_id.get(fired.timer_fired_event_attributes.started_event_id)
    if completed is None or started is None:
        return None
    task_started = _task_start(by_id, completed)
    timer = started.timer_started_event_attributes
    runs_out = _at(started) + timer.start_to_fire_timeout.ToTimedelta()
    setting = by_id[timer.workflow_task_completed_event_id]
    return TimerStages(
        set_late=(runs_out - alarm.due).total_seconds(),
        setting_task=(_at(setting) - _at(_task_start(by_id, setting))).total_seconds(),
        fired=(_at(fired) - runs_out).total_seconds(),
        picked=(_at(task_started) - _at(fired)).total_seconds(),
        raised=(alarm.occurred - _at(task_started)).total_seconds(),
        streamed=(alarm.streamed - alarm.occurred).total_seconds(),
    )


def _task_start(by_id: dict[int, HistoryEvent], completed: HistoryEvent) -> HistoryEvent:
    return by_id[completed.workflow_task_completed_event_attributes.started_event_id]


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def evenly_spaced(items: Sequence[T], count: int) -> list[T]:
    """``count`` of ``items`` spread from the first to the last (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    if count <= 1:
        return list(items[:count])
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def lateness_lines(alarms: Iterable[Alarm]) -> list[str]:
    """A table of each alarm's lateness (p50, p99, max, in seconds), by event time and by stream time."""
    by_kind: dict[str, list[Alarm]] = {alarm: [] for alarm in ALARMS}
    for alarm in alarms:
        by_kind[alarm.alarm].append(alarm)
    lines = [f"  {'lateness, s':<14} {'count':>6}   event time - due: p50 p99 max | on the stream - due"]
    for kind, found in by_kind.items():
        event = Spread.of([a.late for a in found])
        stream = Spread.of([a.late_on_stream for a in found])
        if event is None or stream is None:
            lines.append(f"  sla.{kind:<10} {0:>6}   (none fired)")
            continue
        lines.append(f"  sla.{kind:<10} {event.count:>6}   {event.cells()} | {stream.cells()}")
    return lines


def stage_lines(stages: Sequence[TimerStages]) -> list[str]:
    """Where the lateness went (p50, p99, max, in seconds) over the sampled alarms."""
    rows = (
        ("timer set late (TimerStarted + duration - due)", [s.set_late for s in stages]),
        ("  the workflow task that set it ran (completed - started)", [s.setting_task for s in stages]),
        ("Temporal fired it (TimerFired - timer ran out)", [s.fired for s in stages]),
        ("a worker ran the task (task started - TimerFired)", [s.picked for s in stages]),
        ("the worker raised the alarm (occurred_at - task started)", [s.raised for s in stages]),
        ("recorded and relayed (on the stream - occurred_at)", [s.streamed for s in stages]),
    )
    lines = []
    for name, values in rows:
        spread = Spread.of(values)
        if spread is not None:
            lines.append(f"    {name:<58} {spread.cells()}")
    return lines
