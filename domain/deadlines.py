"""Deadline arithmetic: when a deadline warns and falls due, and which alarms are due now.

The ``Deadline`` record a ticket keeps, and pure functions over it, used by the ticket workflow
(deterministic: no clock, no I/O; the caller passes ``now``). Working time is measured on a
``Calendar``: round the clock (``24X7``), or business hours (``BUSINESS_5X8``, in a team's time zone,
with mainland China's public holidays and adjusted working days: :mod:`domain.calendars`).

A deadline keeps the inputs it was derived from (start, target, warning percent, calendar, time zone,
the customer's expected time), so ``derive`` gives its warn and due times again, exactly; the holiday
data is a pinned package, and a newer one changes only years it did not know before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain import calendars


class DeadlineKind(StrEnum):
    RESPONSE = "RESPONSE"
    RESOLUTION = "RESOLUTION"
    CALLBACK = "CALLBACK"
    KNOWLEDGE_ENTRY = "KNOWLEDGE_ENTRY"  # a hard case's entry (seed 002 五.二), held by the knowledge base
    INVESTIGATION = "INVESTIGATION"  # of an unsatisfied survey, held by the desk


class DeadlineState(StrEnum):
    PENDING = "PENDING"
    WARNED = "WARNED"
    OVERDUE = "OVERDUE"
    MET = "MET"
    CANCELLED = "CANCELLED"  # the ticket was cancelled before it was met


@dataclass
class Deadline:
    kind: DeadlineKind
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    state: DeadlineState = DeadlineState.PENDING
    work_order_id: str = ""  # set for a response deadline, which belongs to one work order
    team_id: str = ""  # who a miss is recorded against
    met_at: datetime | None = None
    # The inputs due_at and warn_at were derived from (deadlines.derive re-derives them exactly).
    target_seconds: float = 0.0
    warning_percent: int = 80
    calendar: str = "24X7"
    time_zone: str = ""
    not_after: datetime | None = None
    sla_policy_version: int = 0


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


def calendar_for(name: str, time_zone: str = "") -> Calendar:
    """The calendar a policy names; anything but a business calendar runs round the clock.

    Names and zones are checked where policies and teams are set, so an unknown one here is an old
    record: a deadline that runs early is safer than a ticket stuck on an unknown calendar.
    """
    try:
        business = calendars.business_calendar(name, time_zone or calendars.DEFAULT_TIME_ZONE)
    except ValueError:  # a zone this host's tz database lacks: never stall a ticket on it
        return ROUND_THE_CLOCK
    return business or ROUND_THE_CLOCK


def add_working_time(start: datetime, seconds: float, calendar: Calendar = ROUND_THE_CLOCK) -> datetime:
    return calendar.add(start, seconds)


def new_deadline(
    kind: DeadlineKind,
    *,
    started_at: datetime,
    target_seconds: float,
    warning_percent: int,
    calendar: str = ROUND_THE_CLOCK.name,
    time_zone: str = "",
    not_after: datetime | None = None,
    work_order_id: str = "",
    team_id: str = "",
    sla_policy_version: int = 0,
) -> Deadline:
    """A pending deadline ``target_seconds`` of working time after ``started_at`` on ``calendar``.

    ``not_after`` (the customer's expected time) shortens it; the warning then comes at
    ``warning_percent`` of the shortened span. A ``not_after`` already past makes it due at once.
    """
    deadline = Deadline(
        kind=kind,
        started_at=started_at,
        due_at=started_at,
        warn_at=started_at,
        work_order_id=work_order_id,
        team_id=team_id,
        target_seconds=target_seconds,
        warning_percent=warning_percent,
        calendar=calendar,
        time_zone=time_zone,
        not_after=not_after,
        sla_policy_version=sla_policy_version,
    )
    deadline.warn_at, deadline.due_at = derive(deadline)
    return deadline


def derive(deadline: Deadline) -> tuple[datetime, datetime]:
    """(warn_at, due_at) from the deadline's recorded inputs: the same inputs always give the same times."""
    calendar = calendar_for(deadline.calendar, deadline.time_zone)
    start, not_after = deadline.started_at, deadline.not_after
    due_at = calendar.add(start, deadline.target_seconds)
    span = deadline.target_seconds
    if not_after is not None and not_after < due_at:
        due_at = max(not_after, start)
        span = calendar.between(start, due_at)
    warn_at = calendar.add(start, span * deadline.warning_percent / 100)
    return min(warn_at, due_at), due_at


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
