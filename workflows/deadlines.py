"""Deadline arithmetic: when a deadline warns and falls due, and which alarms are due now.

Pure functions over the contract's ``Deadline`` records, used by the ticket workflow (deterministic:
no clock, no I/O; the caller passes ``now``). Working time is measured on a ``Calendar``: only the
round-the-clock calendar (``24X7``) exists now. Business calendars (5x8 with public holidays and
adjusted working days) plug in later by implementing ``Calendar`` and registering in ``calendar_for``;
nothing else here changes. Running workflows pick up a new calendar only behind ``workflow.patched``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from services.intake.contract import Deadline, DeadlineKind, DeadlineState


class Calendar(Protocol):
    """Where working time runs. ``add`` and ``between`` are inverse of each other."""

    @property
    def name(self) -> str: ...

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start``."""
        ...

    def between(self, start: datetime, end: datetime) -> float:
        """Seconds of working time from ``start`` to ``end`` (0 when ``end`` is not later)."""
        ...


@dataclass(frozen=True)
class RoundTheClock:
    """7x24: every second is a working second."""

    name: str = "24X7"

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def between(self, start: datetime, end: datetime) -> float:
        return max((end - start).total_seconds(), 0.0)


ROUND_THE_CLOCK = RoundTheClock()


def calendar_for(name: str) -> Calendar:
    """The calendar a policy names.

    Until business calendars land, every name (including ``BUSINESS_5x8``) runs round the clock:
    a deadline that runs early is safer than a ticket stuck on an unknown calendar.
    """
    return ROUND_THE_CLOCK


def add_working_time(start: datetime, seconds: float, calendar: Calendar = ROUND_THE_CLOCK) -> datetime:
    return calendar.add(start, seconds)


def new_deadline(
    kind: DeadlineKind,
    *,
    started_at: datetime,
    target_seconds: float,
    warning_percent: int,
    calendar: Calendar = ROUND_THE_CLOCK,
    not_after: datetime | None = None,
    work_order_id: str = "",
    team_id: str = "",
) -> Deadline:
    """A pending deadline ``target_seconds`` of working time after ``started_at``.

    ``not_after`` (the customer's expected time) shortens it; the warning then comes at
    ``warning_percent`` of the shortened span. A ``not_after`` already past makes it due at once.
    """
    due_at = add_working_time(started_at, target_seconds, calendar)
    span = target_seconds
    if not_after is not None and not_after < due_at:
        due_at = max(not_after, started_at)
        span = calendar.between(started_at, due_at)
    warn_at = add_working_time(started_at, span * warning_percent / 100, calendar)
    return Deadline(
        kind=kind,
        started_at=started_at,
        due_at=due_at,
        warn_at=min(warn_at, due_at),
        work_order_id=work_order_id,
        team_id=team_id,
    )


class AlarmKind(StrEnum):
    WARNING = "warning"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Alarm:
    index: int  # position in the ticket's deadlines (they are only ever appended)
    kind: AlarmKind


def is_open(deadline: Deadline) -> bool:
    """Still able to raise an alarm: neither met nor already overdue."""
    return deadline.state in (DeadlineState.PENDING, DeadlineState.WARNED)


def next_alarm_at(deadlines: list[Deadline]) -> datetime | None:
    """When the earliest alarm still to come is due, or None when no deadline is open."""
    times = [_next_time(d) for d in deadlines if is_open(d)]
    return min(times, default=None)


def can_raise(deadline: Deadline, kind: AlarmKind) -> bool:
    """Whether this alarm is still to come: each deadline warns once and goes overdue once, never once met."""
    if kind == AlarmKind.WARNING:
        return deadline.state == DeadlineState.PENDING
    return is_open(deadline)


def due_alarms(deadlines: list[Deadline], now: datetime) -> list[Alarm]:
    """Alarms due at ``now``, in deadline order; a warning always comes before its overdue."""
    alarms: list[Alarm] = []
    for index, deadline in enumerate(deadlines):
        if can_raise(deadline, AlarmKind.WARNING) and now >= deadline.warn_at:
            alarms.append(Alarm(index, AlarmKind.WARNING))
        if can_raise(deadline, AlarmKind.OVERDUE) and now >= deadline.due_at:
            alarms.append(Alarm(index, AlarmKind.OVERDUE))
    return alarms


def meet(deadline: Deadline, now: datetime) -> None:
    """Close a deadline: an open one is met; one already overdue stays overdue but keeps ``met_at``."""
    if is_open(deadline):
        deadline.state = DeadlineState.MET
    if deadline.met_at is None:
        deadline.met_at = now


def _next_time(deadline: Deadline) -> datetime:
    return deadline.warn_at if deadline.state == DeadlineState.PENDING else deadline.due_at
