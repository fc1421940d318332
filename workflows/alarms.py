"""Deadline alarms: a warning, or an overdue with the violation dispatch records for it; and the
violation an investigation finds against a desk staff member.

Pure, like the domain's transitions; it lives beside the workflow because what it builds for an
overdue is dispatch's activity input (``RecordViolationInput``).
"""

from __future__ import annotations

from datetime import datetime

from desk.events import sla_subject
from domain.deadlines import Alarm, AlarmKind, Deadline, DeadlineKind, DeadlineState, can_raise
from domain.ticket_state import SYSTEM_ACTOR, NewEvent, TicketState
from domain.work_orders import DESK_TEAM_ID
from services.dispatch.contract import RecordViolationInput, ViolationSource


def raise_alarm(
    state: TicketState, alarm: Alarm, now: datetime
) -> tuple[list[NewEvent], RecordViolationInput | None]:
    """Warn, or mark overdue; an overdue deadline is recorded as a violation against its team.

    An alarm already raised (or a deadline already met) raises nothing: the once-only promise holds
    here, not only in the caller's choice of alarms.
    """
    deadline = state.view.deadlines[alarm.index]
    if not can_raise(deadline, alarm.kind):
        return [], None
    work_order_id = _chased_work_order(state, deadline)
    if deadline.kind == DeadlineKind.RESOLUTION:  # held by whoever has the ticket now
        deadline.team_id = state.work_order(work_order_id).team_id if work_order_id else DESK_TEAM_ID
    if alarm.kind == AlarmKind.WARNING:
        deadline.state = DeadlineState.WARNED
        return [_sla_event(deadline, "warning", work_order_id)], None
    deadline.state = DeadlineState.OVERDUE
    violation = RecordViolationInput(
        violation_id=f"{state.ticket_id}/{deadline.kind.lower()}-{alarm.index + 1}",
        ticket_id=state.ticket_id,
        team_id=deadline.team_id,
        deadline_kind=str(deadline.kind),
        work_order_id=work_order_id,
        due_at=deadline.due_at,
        recorded_at=now,
        agent_id=_responsible_agent(state, work_order_id),
        source=ViolationSource.DEADLINE,
    )
    return [_sla_event(deadline, "overdue", work_order_id)], violation


def staff_violation(state: TicketState, staff_id: str, now: datetime) -> RecordViolationInput:
    """An unsatisfied survey the investigation blamed on the desk: recorded against the staff member
    (for the team lead and quality inspection), once per survey round."""
    survey = state.view.survey
    assert survey is not None, "an investigation follows a survey"
    return RecordViolationInput(
        violation_id=f"{state.ticket_id}/investigation-{survey.round}",
        ticket_id=state.ticket_id,
        team_id=DESK_TEAM_ID,
        deadline_kind="",
        work_order_id="",
        due_at=survey.investigation_due_at or now,
        recorded_at=now,
        agent_id=staff_id,
        source=ViolationSource.INVESTIGATION,
    )


def _chased_work_order(state: TicketState, deadline: Deadline) -> str:
    """Which work order a miss chases: the response's own, the open one for a resolution, none else."""
    if deadline.kind == DeadlineKind.RESPONSE:
        return deadline.work_order_id
    open_work_order = state.open_work_order() if deadline.kind == DeadlineKind.RESOLUTION else None
    return open_work_order.work_order_id if open_work_order else ""


def _responsible_agent(state: TicketState, work_order_id: str) -> str:
    """Who held the ticket at the miss: the work order's engineer, or the desk agent who recorded it."""
    if work_order_id:
        return state.work_order(work_order_id).engineer
    return state.view.draft.agent_id


def _sla_event(deadline: Deadline, verb: str, work_order_id: str) -> NewEvent:
    facts = {"deadline": str(deadline.kind), "team_id": deadline.team_id, "work_order_id": work_order_id}
    facts |= {"warn_at": deadline.warn_at.isoformat(), "due_at": deadline.due_at.isoformat()}
    status = "due at" if verb == "warning" else "missed at"
    reason = f"{deadline.kind.lower()} deadline {status} {deadline.due_at.isoformat()}"
    return NewEvent(f"sla.{verb}", sla_subject(verb), SYSTEM_ACTOR, reason, facts)
