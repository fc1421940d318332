"""The ticket's lifecycle rules called directly: dispatch, accept, resolve, return, callback, alarms."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from desk.errors import InvalidArgument, NotFound, TransitionNotAllowed
from domain import ticket_state as ts
from domain.commands import (
    AcceptWorkOrderInput,
    RecordCallbackInput,
    ResolveWorkOrderInput,
    ReturnWorkOrderInput,
)
from domain.deadlines import Alarm, AlarmKind, Deadline, DeadlineKind, DeadlineState, due_alarms
from domain.ticket import Reporter, TicketDraft, TicketStatus
from domain.work_orders import DESK_TEAM_ID, SlaPolicyRecord, WorkOrderRecord, WorkOrderStatus
from services.dispatch.contract import RecordViolationInput
from workflows import alarms

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3600.0
# Any priority, tier and team: response 2 h, resolution 24 h, callback 24 h, warning at 75 %.
POLICY = SlaPolicyRecord("", "", "", 2 * HOUR, 24 * HOUR, 24 * HOUR, warning_percent=75)


def draft() -> TicketDraft:
    return TicketDraft(
        ticket_id="T-1",
        request_id="req-T-1",
        channel="PHONE",
        kind="FAULT",
        reporter=Reporter(name="Li Lei", phone="13800136138"),
        category="network",
        priority="P2",
        customer_tier="STANDARD",
        summary="line down",
        created_at=T0,
        agent_id="agent-7",
    )


def opened() -> ts.TicketState:
    """A ticket just created, its resolution clock running from T0 (as the workflow opens it)."""
    state = ts.new_state(draft(), T0)
    ts.start_resolution_clock(state, POLICY, since=T0, capped=True)
    return state


def dispatched(team_id: str = "network", at: datetime = T0) -> tuple[ts.TicketState, WorkOrderRecord]:
    state = opened()
    work_order, _ = ts.dispatch(state, team_id=team_id, policy=POLICY, now=at, actor="sys", reason="routed")
    return state, work_order


def accept(state: ts.TicketState, work_order_id: str, now: datetime) -> None:
    ts.accept(state, AcceptWorkOrderInput(work_order_id, engineer="eng-1", actor="ops-1"), now)


def resolve(state: ts.TicketState, work_order_id: str, now: datetime) -> None:
    request = ResolveWorkOrderInput(work_order_id, "fibre cut", "spliced", engineer="eng-1", actor="ops-1")
    ts.resolve(state, request, now)


def give_back(state: ts.TicketState, work_order_id: str, now: datetime) -> None:
    ts.return_work_order(state, ReturnWorkOrderInput(work_order_id, "not our equipment", "ops-1"), now)


def callback(
    reached: bool = True, confirmed: bool = True, termination_reason: str = ""
) -> RecordCallbackInput:
    return RecordCallbackInput(reached, confirmed, termination_reason, note="called back", actor="surveyor-1")


def resolved() -> ts.TicketState:
    state, work_order = dispatched()
    resolve(state, work_order.work_order_id, T0 + timedelta(hours=3))
    return state


def deadline(state: ts.TicketState, kind: DeadlineKind) -> Deadline:
    return [d for d in state.view.deadlines if d.kind == kind][-1]


def raise_due(state: ts.TicketState, now: datetime) -> tuple[list[ts.NewEvent], list[RecordViolationInput]]:
    """Raise every alarm due at ``now``, the way the workflow's deadline watch does."""
    events: list[ts.NewEvent] = []
    violations: list[RecordViolationInput] = []
    for alarm in due_alarms(state.view.deadlines, now):
        raised, violation = alarms.raise_alarm(state, alarm, now)
        events += raised
        violations += [violation] if violation else []
    return events, violations


def test_dispatch_creates_a_work_order_with_its_response_deadline() -> None:
    state, work_order = dispatched(at=T0 + timedelta(minutes=5))
    now = T0 + timedelta(minutes=5)
    assert (work_order.sequence, work_order.status) == (1, WorkOrderStatus.DISPATCHED)
    assert (work_order.team_id, work_order.created_at) == ("network", now)
    assert state.view.work_orders == [work_order]
    response = deadline(state, DeadlineKind.RESPONSE)
    assert response.due_at == now + timedelta(hours=2)
    assert response.warn_at == now + timedelta(hours=1.5)  # 75 % of the policy's 2 h
    assert (response.work_order_id, response.team_id) == (work_order.work_order_id, "network")
    assert response.state == DeadlineState.PENDING
    assert (state.view.status, state.view.assigned_team_id) == (TicketStatus.DISPATCHED, "network")


def test_a_dispatch_after_a_return_is_work_order_two() -> None:
    state, first = dispatched()
    give_back(state, first.work_order_id, T0 + timedelta(minutes=10))
    ts.check_dispatch(state, "software")
    second, _ = ts.dispatch(
        state, team_id="software", policy=POLICY, now=T0 + timedelta(minutes=11), actor="a", reason="r"
    )
    assert [w.sequence for w in state.view.work_orders] == [1, 2]
    assert second.work_order_id != first.work_order_id
    assert (state.view.status, state.view.assigned_team_id) == (TicketStatus.DISPATCHED, "software")


def test_only_an_open_ticket_without_an_open_work_order_can_be_dispatched() -> None:
    state, _ = dispatched()
    with pytest.raises(TransitionNotAllowed):
        ts.check_dispatch(state, "software")
    with pytest.raises(InvalidArgument):
        ts.check_dispatch(opened(), "")


def test_accept_meets_the_response_deadline_and_starts_work() -> None:
    state, work_order = dispatched()
    now = T0 + timedelta(minutes=30)
    accept(state, work_order.work_order_id, now)
    assert state.work_order(work_order.work_order_id).status == WorkOrderStatus.ACCEPTED
    assert state.work_order(work_order.work_order_id).accepted_at == now
    response = deadline(state, DeadlineKind.RESPONSE)
    assert (response.state, response.met_at) == (DeadlineState.MET, now)
    assert deadline(state, DeadlineKind.RESOLUTION).state == DeadlineState.PENDING
    assert state.view.status == TicketStatus.IN_PROGRESS


def test_accept_rejects_an_unknown_work_order_and_one_not_dispatched() -> None:
    state, work_order = dispatched()
    with pytest.raises(NotFound):
        ts.check_accept(state, "T-1-W9")
    accept(state, work_order.work_order_id, T0 + timedelta(minutes=1))
    with pytest.raises(TransitionNotAllowed):
        ts.check_accept(state, work_order.work_order_id)
    with pytest.raises(TransitionNotAllowed):
        accept(state, work_order.work_order_id, T0 + timedelta(minutes=2))


def test_resolve_meets_the_resolution_deadline_and_starts_the_callback_clock() -> None:
    state, work_order = dispatched()
    accept(state, work_order.work_order_id, T0 + timedelta(minutes=30))
    now = T0 + timedelta(hours=3)
    resolve(state, work_order.work_order_id, now)
    assert state.work_order(work_order.work_order_id).status == WorkOrderStatus.RESOLVED
    resolution = deadline(state, DeadlineKind.RESOLUTION)
    assert (resolution.state, resolution.met_at) == (DeadlineState.MET, now)
    callback_deadline = deadline(state, DeadlineKind.CALLBACK)
    assert callback_deadline.started_at == now
    assert callback_deadline.due_at == now + timedelta(seconds=POLICY.callback_seconds)
    assert callback_deadline.team_id == DESK_TEAM_ID
    assert state.view.status == TicketStatus.RESOLVED
    assert ts.last_resolving_team(state) == "network"


def test_resolving_a_dispatched_work_order_accepts_it_first() -> None:
    state, work_order = dispatched()
    resolve(state, work_order.work_order_id, T0 + timedelta(hours=1))
    assert deadline(state, DeadlineKind.RESPONSE).state == DeadlineState.MET
    assert state.work_order(work_order.work_order_id).accepted_at == T0 + timedelta(hours=1)


def test_return_reopens_the_ticket_and_remembers_the_team() -> None:
    state, work_order = dispatched()
    now = T0 + timedelta(minutes=10)
    give_back(state, work_order.work_order_id, now)
    returned = state.work_order(work_order.work_order_id)
    assert (returned.status, returned.return_reason) == (WorkOrderStatus.RETURNED, "not our equipment")
    assert returned.returned_at == now
    assert (state.view.status, state.view.assigned_team_id) == (TicketStatus.OPEN, "")
    assert deadline(state, DeadlineKind.RESPONSE).state == DeadlineState.MET
    with pytest.raises(TransitionNotAllowed):
        ts.check_resolve(state, work_order.work_order_id)


def test_a_confirmed_callback_closes_the_ticket() -> None:
    state = resolved()
    now = T0 + timedelta(hours=5)
    record, events = ts.record_callback(state, callback(), now)
    assert state.view.status == TicketStatus.CLOSED and state.finished
    assert record.ticket_status == TicketStatus.CLOSED
    assert deadline(state, DeadlineKind.CALLBACK).met_at == now
    assert [e.type for e in events] == ["survey.callback_recorded", "ticket.closed"]


def test_not_fixed_reopens_the_ticket_for_the_team_that_resolved_it() -> None:
    state = resolved()
    _, events = ts.record_callback(state, callback(confirmed=False), T0 + timedelta(hours=5))
    assert state.view.status == TicketStatus.OPEN and not state.finished
    assert deadline(state, DeadlineKind.CALLBACK).state == DeadlineState.MET
    assert ts.last_resolving_team(state) == "network"
    ts.check_dispatch(state, "network")  # the workflow dispatches it again at once
    assert "ticket.closed" not in [e.type for e in events]


def test_not_reached_needs_a_reason_and_leaves_the_ticket_resolved() -> None:
    state = resolved()
    with pytest.raises(InvalidArgument) as missing:
        ts.check_callback(state, callback(reached=False, confirmed=False))
    assert [v.field for v in missing.value.violations] == ["termination_reason"]
    with pytest.raises(InvalidArgument):
        ts.check_callback(state, callback(reached=False, confirmed=True, termination_reason="no answer"))
    ts.record_callback(state, callback(False, False, "no answer"), T0 + timedelta(hours=5))
    assert state.view.status == TicketStatus.RESOLVED
    assert deadline(state, DeadlineKind.CALLBACK).state == DeadlineState.PENDING
    with pytest.raises(TransitionNotAllowed):  # a callback needs a RESOLVED ticket
        ts.check_callback(dispatched()[0], callback())


def test_response_warns_then_goes_overdue_against_the_work_orders_team() -> None:
    state, work_order = dispatched()
    response = deadline(state, DeadlineKind.RESPONSE)
    events, violations = raise_due(state, response.warn_at)
    assert [e.type for e in events] == ["sla.warning"] and violations == []
    assert response.state == DeadlineState.WARNED
    events, violations = raise_due(state, response.due_at)
    assert [e.type for e in events] == ["sla.overdue"]
    assert deadline(state, DeadlineKind.RESPONSE).state == DeadlineState.OVERDUE
    [violation] = violations
    assert (violation.deadline_kind, violation.team_id) == ("RESPONSE", "network")
    assert (violation.work_order_id, violation.ticket_id) == (work_order.work_order_id, "T-1")
    assert (violation.due_at, violation.recorded_at) == (response.due_at, response.due_at)


def test_resolution_overdue_is_held_against_the_team_that_has_the_ticket() -> None:
    state, work_order = dispatched()
    accept(state, work_order.work_order_id, T0 + timedelta(minutes=1))
    due_at = deadline(state, DeadlineKind.RESOLUTION).due_at
    events, violations = raise_due(state, due_at)
    assert [e.type for e in events] == ["sla.warning", "sla.overdue"]
    [violation] = violations
    assert (violation.deadline_kind, violation.team_id) == ("RESOLUTION", "network")
    assert violation.work_order_id == work_order.work_order_id
    assert deadline(state, DeadlineKind.RESOLUTION).state == DeadlineState.OVERDUE


def test_an_alarm_raised_once_is_not_raised_again() -> None:
    state, _ = dispatched()
    due_at = deadline(state, DeadlineKind.RESPONSE).due_at
    first, violations = raise_due(state, due_at)
    assert len(first) == 2 and len(violations) == 1
    again, violations = raise_due(state, due_at)
    assert (again, violations) == ([], [])
    later, _ = raise_due(state, due_at + timedelta(minutes=30))
    assert later == []


def test_a_met_deadline_never_raises() -> None:
    state, work_order = dispatched()
    accept(state, work_order.work_order_id, T0 + timedelta(minutes=1))
    events, violations = raise_due(state, T0 + timedelta(hours=17))  # before the resolution warns
    assert (events, violations) == ([], [])
    assert deadline(state, DeadlineKind.RESPONSE).state == DeadlineState.MET


def test_stamp_numbers_events_on_from_the_last_without_gaps() -> None:
    state = opened()
    ids = (f"id-{n}" for n in itertools.count(1))
    first = ts.stamp(state, ts.opened(state), now=T0, new_id=lambda: next(ids))
    _, dispatched_events = ts.dispatch(state, team_id="network", policy=POLICY, now=T0, actor="a", reason="r")
    later = T0 + timedelta(seconds=1)
    second = ts.stamp(state, dispatched_events, now=later, new_id=lambda: next(ids))
    stamped = first + second
    assert [e.sequence for e in stamped] == [1, 2, 3]
    assert [e.event_id for e in stamped] == ["id-1", "id-2", "id-3"]
    assert [e.occurred_at for e in stamped] == [T0, T0, later]
    assert {e.ticket_id for e in stamped} == {"T-1"}
    assert state.last_sequence == 3
    assert ts.stamp(state, [], now=later, new_id=lambda: next(ids)) == []
    assert state.last_sequence == 3


def test_raise_alarm_itself_refuses_an_alarm_already_raised_or_a_met_deadline() -> None:
    state, _ = dispatched()
    index = next(i for i, d in enumerate(state.view.deadlines) if d.kind == DeadlineKind.RESPONSE)
    due = state.view.deadlines[index].due_at
    overdue = Alarm(index, AlarmKind.OVERDUE)
    first, violation = alarms.raise_alarm(state, overdue, due)
    assert first and violation is not None
    assert alarms.raise_alarm(state, overdue, due) == ([], None)
    assert alarms.raise_alarm(state, Alarm(index, AlarmKind.WARNING), due) == ([], None)
