"""What the desk's further contacts do to a ticket, as pure transitions like ``ticket_state``.

- A repeat report (重复申告) counts on the ticket; past ``MAX_REPEATS`` repeats, or on a ticket with a
  deadline already missed, the ticket is escalated to the manager hotline (经理热线), once.
- A supplement (补充申告) is kept on the timeline, and the team holding the ticket is told.
- Resolved at first contact: the agent solved it during the call. Work orders not yet taken up are
  withdrawn (the team is told), and the ticket goes on to its callback like any resolved one.
- Cancelled: the report is withdrawn; every open work order and deadline stops.
- Resolved by a known outage's repair: the ticket was linked to the outage and never dispatched.
"""

from __future__ import annotations

from datetime import datetime

from desk.errors import InvalidArgument, TransitionNotAllowed
from desk.events import dispatch_subject, ticket_subject
from domain import deadlines
from domain.commands import (
    AddSupplementInput,
    CancelTicketInput,
    RecordRepeatInput,
    ResolveAtFirstContactInput,
    ResolveByOutageInput,
)
from domain.deadlines import DeadlineKind, DeadlineState
from domain.line_tests import LineTestResult
from domain.ticket import TicketStatus
from domain.ticket_state import ON_BEHALF_OF, SYSTEM_ACTOR, VIA, NewEvent, TicketState
from domain.work_orders import DESK_TEAM_ID, WorkOrderRecord, WorkOrderStatus

MAX_REPEATS = 3
"""A fourth repeat of the same fault escalates the ticket (seed 002 一.6, 二.4)."""

_BEFORE_THE_TEAM_STARTS = (TicketStatus.OPEN, TicketStatus.PENDING_REVIEW, TicketStatus.DISPATCHED)
_CANCELLABLE = (*_BEFORE_THE_TEAM_STARTS, TicketStatus.IN_PROGRESS)
_WITHDRAWABLE = (WorkOrderStatus.PENDING_REVIEW, WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED)


def check_open(state: TicketState) -> None:
    if state.finished:
        raise TransitionNotAllowed(f"ticket {state.ticket_id} is {state.view.status}")


def repeat(state: TicketState, request: RecordRepeatInput) -> list[NewEvent]:
    check_open(state)
    report = request.report
    state.view.repeat_count += 1
    facts = {
        "repeat_count": state.view.repeat_count,
        "channel": report.channel,
        "request_id": report.request_id,
    }
    if request.on_behalf_of:  # only when set: a history recorded before the field replays unchanged
        facts[ON_BEHALF_OF] = request.on_behalf_of
    if request.via:
        facts[VIA] = request.via
    events = [NewEvent("ticket.repeated", ticket_subject("repeated"), request.actor, report.summary, facts)]
    missed = any(d.state == DeadlineState.OVERDUE for d in state.view.deadlines)
    if not state.view.escalated and (state.view.repeat_count > MAX_REPEATS or missed):
        state.view.escalated = True
        why = "a repeat on an overdue ticket" if missed else f"{state.view.repeat_count} repeats"
        escalation = {"to": "manager_hotline", "repeat_count": state.view.repeat_count}
        events.append(
            NewEvent("ticket.escalated", ticket_subject("escalated"), SYSTEM_ACTOR, why, escalation)
        )
    return events


def supplement(state: TicketState, request: AddSupplementInput) -> list[NewEvent]:
    check_open(state)
    if not request.text.strip():
        raise InvalidArgument.one("text", "is required")
    state.view.supplements += 1
    facts = {"supplement": state.view.supplements}
    events = [
        NewEvent("ticket.supplemented", ticket_subject("supplemented"), request.actor, request.text, facts)
    ]
    held = state.open_work_order()
    if held is not None:
        team_facts = facts | {"team_id": held.team_id, "work_order_id": held.work_order_id}
        subject = dispatch_subject(held.team_id, "supplemented")
        events.append(NewEvent("dispatch.supplemented", subject, request.actor, request.text, team_facts))
    return events


def check_first_contact(state: TicketState, request: ResolveAtFirstContactInput) -> None:
    if not request.resolution.strip():
        raise InvalidArgument.one("resolution", "is required")
    if state.view.status not in _BEFORE_THE_TEAM_STARTS:
        raise TransitionNotAllowed(
            f"ticket is {state.view.status}: only a ticket no team has taken up is resolved at first contact"
        )


def resolve_at_first_contact(
    state: TicketState, request: ResolveAtFirstContactInput, now: datetime
) -> tuple[list[WorkOrderRecord], list[NewEvent]]:
    """Resolved by the desk during the call; returns the work orders it withdrew (to be saved)."""
    check_first_contact(state, request)
    withdrawn, events = _withdraw_work_orders(state, request.actor, "resolved at first contact", now)
    state.view.resolved_at_first_contact = True
    events += _resolved(state, request.actor, request.resolution, now, {"first_contact": True})
    return withdrawn, events


def check_cancel(state: TicketState, request: CancelTicketInput) -> None:
    if not request.reason.strip():
        raise InvalidArgument.one("reason", "is required")
    if state.view.status not in _CANCELLABLE:
        raise TransitionNotAllowed(f"ticket is {state.view.status} and cannot be cancelled")


def cancel(
    state: TicketState, request: CancelTicketInput, now: datetime
) -> tuple[list[WorkOrderRecord], list[NewEvent]]:
    check_cancel(state, request)
    withdrawn, events = _withdraw_work_orders(state, request.actor, request.reason, now)
    for deadline in state.view.deadlines:
        if deadlines.is_open(deadline):
            deadline.state = DeadlineState.CANCELLED
    state.view.status, state.view.assigned_team_id = TicketStatus.CANCELLED, ""
    state.view.cancel_reason = request.reason
    events.append(
        NewEvent("ticket.cancelled", ticket_subject("cancelled"), request.actor, request.reason, {})
    )
    return withdrawn, events


def check_outage_resolution(state: TicketState, request: ResolveByOutageInput) -> None:
    if state.view.draft.outage_id != request.outage_id:
        raise InvalidArgument.one("outage_id", f"ticket {state.ticket_id} is not linked to this outage")
    if state.view.status != TicketStatus.OPEN:
        raise TransitionNotAllowed(f"ticket is {state.view.status}, not waiting for its outage")


def resolve_by_outage(state: TicketState, request: ResolveByOutageInput, now: datetime) -> list[NewEvent]:
    check_outage_resolution(state, request)
    return _resolved(state, request.actor, request.resolution, now, {"outage_id": request.outage_id})


def line_tested(state: TicketState, result: LineTestResult) -> list[NewEvent]:
    state.view.line_test = result
    facts = {"result": str(result.result), "fault_code": str(result.fault_code), "tester": result.tester}
    return [NewEvent("ticket.line_tested", ticket_subject("line_tested"), SYSTEM_ACTOR, result.detail, facts)]


def _withdraw_work_orders(
    state: TicketState, actor: str, reason: str, now: datetime
) -> tuple[list[WorkOrderRecord], list[NewEvent]]:
    withdrawn, events = [], []
    for work_order in state.view.work_orders:
        if work_order.status not in _WITHDRAWABLE:
            continue
        told = work_order.status != WorkOrderStatus.PENDING_REVIEW  # the team never saw one in review
        work_order.status, work_order.returned_at = WorkOrderStatus.CANCELLED, now
        for deadline in state.view.deadlines:
            if deadline.work_order_id == work_order.work_order_id and deadlines.is_open(deadline):
                deadline.state = DeadlineState.CANCELLED
        withdrawn.append(work_order)
        if told:
            facts = {"team_id": work_order.team_id, "work_order_id": work_order.work_order_id}
            subject = dispatch_subject(work_order.team_id, "cancelled")
            events.append(NewEvent("dispatch.cancelled", subject, actor, reason, facts))
    return withdrawn, events


def _resolved(
    state: TicketState, actor: str, resolution: str, now: datetime, facts: dict[str, object]
) -> list[NewEvent]:
    """Resolved without a team's resolution: the resolution clock is met, the callback clock starts."""
    for deadline in state.view.deadlines:
        if deadline.kind == DeadlineKind.RESOLUTION:
            deadlines.meet(deadline, now)
    policy = state.policy
    assert policy is not None, "a ticket has its desk policy from the moment it opens"
    callback = deadlines.new_deadline(
        DeadlineKind.CALLBACK,
        started_at=now,
        target_seconds=policy.callback_seconds,
        warning_percent=policy.warning_percent,
        calendar=policy.calendar or deadlines.ROUND_THE_CLOCK.name,
        time_zone=policy.time_zone,
        team_id=DESK_TEAM_ID,
        sla_policy_version=policy.version,
    )
    state.view.deadlines.append(callback)
    state.view.status, state.view.assigned_team_id = TicketStatus.RESOLVED, ""
    return [NewEvent("ticket.resolved", ticket_subject("resolved"), actor, resolution, dict(facts))]
