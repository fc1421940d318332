"""The ticket workflow on the time-skipping test server, against honest fakes of its activities.

Policy in these tests (``fakes.default_policy``): response 2 h, resolution 24 h, callback 24 h,
warning at 80 %. Routing: ``network`` goes to team network, then software; ``software`` to software;
anything else to no team (the ticket waits at the desk).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from desk.events import EventSpec
from services.dispatch.contract import DESK_TEAM_ID, WorkOrderStatus
from services.intake.contract import (
    Deadline,
    DeadlineKind,
    DeadlineState,
    Reporter,
    TicketDraft,
    TicketStatus,
    TicketView,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import (
    ACCEPT_WORK_ORDER,
    AWAIT_RECORDED,
    DISPATCH_TICKET,
    INVALID_ARGUMENT,
    RECORD_CALLBACK,
    RESOLVE_WORK_ORDER,
    RETURN_WORK_ORDER,
    TRANSITION_NOT_ALLOWED,
    WORK_ORDER_NOT_FOUND,
    AcceptWorkOrderInput,
    DispatchTicketInput,
    RecordCallbackInput,
    RecordCallbackResult,
    ResolveWorkOrderInput,
    ReturnWorkOrderInput,
    TicketWorkflowInput,
    WorkOrderResult,
    ticket_workflow_id,
)
from workflows.ticket import TicketWorkflow

Handle = WorkflowHandle[TicketWorkflow, TicketView]
Result = TypeVar("Result")


def draft(
    created_at: datetime, *, category: str = "network", expected_by: datetime | None = None
) -> TicketDraft:
    ticket_id = f"T-{uuid.uuid4().hex[:8]}"
    return TicketDraft(
        ticket_id=ticket_id,
        request_id=f"req-{ticket_id}",
        channel="PHONE",
        kind="FAULT",
        reporter=Reporter(name="Li Lei", phone="13800136138"),
        category=category,
        priority="P2",
        customer_tier="STANDARD",
        summary="line down",
        created_at=created_at,
        expected_by=expected_by,
        agent_id="agent-7",
    )


async def open_ticket(
    env: WorkflowEnvironment,
    task_queue: str,
    *,
    category: str = "network",
    expected_by: datetime | None = None,
) -> tuple[Handle, TicketView]:
    """Create a ticket the way CreateTicket does: update-with-start, answered once it is recorded."""
    ticket = draft(await env.get_current_time(), category=category, expected_by=expected_by)
    start = WithStartWorkflowOperation(
        TicketWorkflow.run,
        TicketWorkflowInput(ticket),
        id=ticket_workflow_id(ticket.ticket_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    view: TicketView = await env.client.execute_update_with_start_workflow(
        AWAIT_RECORDED, start_workflow_operation=start, result_type=TicketView
    )
    return await start.workflow_handle(), view


async def update(handle: Handle, name: str, arg: object, result_type: type[Result]) -> Result:
    """Send an update by its contract name, as the services do."""
    result: Result = await handle.execute_update(name, arg, result_type=result_type)
    return result


async def accept(handle: Handle, work_order_id: str) -> WorkOrderResult:
    request = AcceptWorkOrderInput(work_order_id, engineer="eng-1", actor="ops-1")
    return await update(handle, ACCEPT_WORK_ORDER, request, WorkOrderResult)


async def resolve(handle: Handle, work_order_id: str) -> WorkOrderResult:
    request = ResolveWorkOrderInput(
        work_order_id, cause="fibre cut", action="spliced", engineer="eng-1", actor="ops-1"
    )
    return await update(handle, RESOLVE_WORK_ORDER, request, WorkOrderResult)


async def give_back(handle: Handle, work_order_id: str) -> WorkOrderResult:
    request = ReturnWorkOrderInput(work_order_id, reason="not our equipment", actor="ops-1")
    return await update(handle, RETURN_WORK_ORDER, request, WorkOrderResult)


async def callback(
    handle: Handle, *, reached: bool = True, confirmed: bool = True, termination_reason: str = ""
) -> TicketView:
    request = RecordCallbackInput(
        reached, confirmed, termination_reason, note="called back", actor="surveyor-1"
    )
    return (await update(handle, RECORD_CALLBACK, request, RecordCallbackResult)).ticket


async def dispatch_to(handle: Handle, team_id: str, reason: str = "manual") -> WorkOrderResult:
    request = DispatchTicketInput(team_id, reason=reason, actor="senior-1")
    return await update(handle, DISPATCH_TICKET, request, WorkOrderResult)


async def eventually(check: Callable[[], bool], *, seconds: float = 5.0) -> None:
    """Wait (in real time) for the worker to finish what the skipped time set off."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


def sla_events(desk: FakeDesk, ticket_id: str, kind: DeadlineKind) -> list[EventSpec]:
    return [e for e in desk.events(ticket_id) if e.type.startswith("sla.") and e.payload["deadline"] == kind]


def deadline(view: TicketView, kind: DeadlineKind, work_order_id: str | None = None) -> Deadline:
    found = [d for d in view.deadlines if d.kind == kind and work_order_id in (None, d.work_order_id)]
    return found[-1]


def close_to(actual: datetime, expected: datetime) -> bool:
    """Timers fire at their time on the test server's clock, give or take its bookkeeping (ms)."""
    return abs(actual - expected) < timedelta(seconds=1)


async def test_resolution_deadline_warns_at_80_percent_and_goes_overdue_at_100(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    created = view.draft.created_at
    await accept(handle, f"{view.draft.ticket_id}-W1")  # the response deadline is met: only resolution runs

    await env.sleep(timedelta(hours=48))
    ticket_id = view.draft.ticket_id
    await eventually(lambda: len(desk.events(ticket_id, "dispatch.chased")) == 1)

    warnings = [e for e in sla_events(desk, ticket_id, DeadlineKind.RESOLUTION) if e.type == "sla.warning"]
    overdue = [e for e in sla_events(desk, ticket_id, DeadlineKind.RESOLUTION) if e.type == "sla.overdue"]
    assert len(warnings) == 1 and len(overdue) == 1
    assert warnings[0].payload["warn_at"] == (created + timedelta(hours=19.2)).isoformat()
    assert close_to(warnings[0].occurred_at, created + timedelta(hours=19.2))
    assert overdue[0].payload["due_at"] == (created + timedelta(hours=24)).isoformat()
    assert close_to(overdue[0].occurred_at, created + timedelta(hours=24))
    assert [e.subject for e in warnings + overdue] == ["helpdesk.sla.warning", "helpdesk.sla.overdue"]
    assert warnings[0].payload["team_id"] == overdue[0].payload["team_id"] == "network"

    [violation] = desk.violations.values()
    assert (violation.deadline_kind, violation.team_id) == ("RESOLUTION", "network")
    assert violation.work_order_id == f"{ticket_id}-W1"
    [chase] = desk.events(ticket_id, "dispatch.chased")
    assert chase.subject == "helpdesk.dispatch.network.chased"
    assert chase.sequence > overdue[0].sequence
    stored = desk.tickets[ticket_id]
    assert deadline(stored, DeadlineKind.RESOLUTION).state == DeadlineState.OVERDUE
    assert stored.work_orders[0].chase_count == 1


async def test_met_resolution_deadline_never_fires(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await env.sleep(timedelta(hours=1))  # before 80 % of the response (2 h) and resolution (24 h) targets
    result = await resolve(handle, f"{view.draft.ticket_id}-W1")  # resolving implies accepting

    await env.sleep(timedelta(hours=48))
    await eventually(lambda: len(desk.violations) == 1)  # the callback's, against the desk

    assert sla_events(desk, view.draft.ticket_id, DeadlineKind.RESOLUTION) == []
    assert sla_events(desk, view.draft.ticket_id, DeadlineKind.RESPONSE) == []
    resolution = deadline(desk.tickets[view.draft.ticket_id], DeadlineKind.RESOLUTION)
    assert resolution.state == DeadlineState.MET
    assert resolution.met_at == result.work_order.resolved_at


async def test_response_deadline_met_by_accept_never_fires(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    work_order_id = f"{view.draft.ticket_id}-W1"
    accepted = await accept(handle, work_order_id)
    assert accepted.ticket.status == TicketStatus.IN_PROGRESS
    assert accepted.work_order.status == WorkOrderStatus.ACCEPTED

    await env.sleep(timedelta(hours=4))  # twice the response target, before the resolution warning
    response = deadline(desk.tickets[view.draft.ticket_id], DeadlineKind.RESPONSE, work_order_id)
    assert response.state == DeadlineState.MET and response.met_at == accepted.work_order.accepted_at
    assert sla_events(desk, view.draft.ticket_id, DeadlineKind.RESPONSE) == []
    assert desk.violations == {}


async def test_missed_response_deadline_chases_the_work_order(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    dispatched_at = view.work_orders[0].created_at

    await env.sleep(timedelta(hours=4))
    await eventually(lambda: len(desk.events(ticket_id, "dispatch.chased")) == 1)

    warning, overdue = sla_events(desk, ticket_id, DeadlineKind.RESPONSE)
    assert close_to(warning.occurred_at, dispatched_at + timedelta(hours=1.6))
    assert close_to(overdue.occurred_at, dispatched_at + timedelta(hours=2))
    assert overdue.payload["work_order_id"] == f"{ticket_id}-W1"
    [violation] = desk.violations.values()
    assert (violation.deadline_kind, violation.team_id, violation.work_order_id) == (
        "RESPONSE",
        "network",
        f"{ticket_id}-W1",
    )


async def test_callback_deadline_runs_from_resolution(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await accept(handle, f"{ticket_id}-W1")
    await env.sleep(timedelta(hours=5))
    resolved = await resolve(handle, f"{ticket_id}-W1")
    resolved_at = resolved.work_order.resolved_at
    assert resolved_at is not None
    callback_deadline = deadline(resolved.ticket, DeadlineKind.CALLBACK)
    assert callback_deadline.started_at == resolved_at
    assert callback_deadline.due_at == resolved_at + timedelta(hours=24)

    await env.sleep(timedelta(hours=30))
    await eventually(lambda: any(v.deadline_kind == "CALLBACK" for v in desk.violations.values()))

    warning, overdue = sla_events(desk, ticket_id, DeadlineKind.CALLBACK)
    assert close_to(warning.occurred_at, resolved_at + timedelta(hours=19.2))
    assert close_to(overdue.occurred_at, resolved_at + timedelta(hours=24))
    [violation] = [v for v in desk.violations.values() if v.deadline_kind == "CALLBACK"]
    assert (violation.team_id, violation.work_order_id) == (DESK_TEAM_ID, "")
    assert desk.events(ticket_id, "dispatch.chased") == []  # the desk is not chased


async def test_not_reached_callback_keeps_the_deadline_running(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    ticket = await callback(handle, reached=False, confirmed=False, termination_reason="no answer")
    assert ticket.status == TicketStatus.RESOLVED
    assert deadline(ticket, DeadlineKind.CALLBACK).state == DeadlineState.PENDING
    assert desk.callbacks[-1].termination_reason == "no answer"

    await env.sleep(timedelta(hours=25))
    await eventually(lambda: len(sla_events(desk, view.draft.ticket_id, DeadlineKind.CALLBACK)) == 2)


async def test_return_redispatches_then_waits_at_the_desk(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    assert (view.status, view.assigned_team_id) == (TicketStatus.DISPATCHED, "network")

    await env.sleep(timedelta(hours=1))
    first = await give_back(handle, f"{ticket_id}-W1")
    assert first.work_order.status == WorkOrderStatus.RETURNED
    assert desk.routings[-1].exclude_team_ids == ["network"]
    second = first.ticket.work_orders[-1]
    assert (second.work_order_id, second.team_id, second.sequence) == (f"{ticket_id}-W2", "software", 2)
    assert (first.ticket.status, first.ticket.assigned_team_id) == (TicketStatus.DISPATCHED, "software")
    fresh = deadline(first.ticket, DeadlineKind.RESPONSE, second.work_order_id)
    assert fresh.started_at == second.created_at and fresh.due_at == second.created_at + timedelta(hours=2)
    assert deadline(first.ticket, DeadlineKind.RESPONSE, f"{ticket_id}-W1").state == DeadlineState.MET

    again = await give_back(handle, second.work_order_id)
    assert desk.routings[-1].exclude_team_ids == ["network", "software"]
    assert (again.ticket.status, again.ticket.assigned_team_id) == (TicketStatus.OPEN, "")
    assert len(again.ticket.work_orders) == 2

    manual = await dispatch_to(handle, "automation", reason="desk knows better")
    assert (manual.work_order.work_order_id, manual.work_order.team_id) == (f"{ticket_id}-W3", "automation")
    assert manual.ticket.status == TicketStatus.DISPATCHED
    assert desk.work_orders[f"{ticket_id}-W3"].status == WorkOrderStatus.DISPATCHED
    created = desk.events(ticket_id, "dispatch.created")
    assert [e.subject for e in created] == [
        f"helpdesk.dispatch.{t}.created" for t in ("network", "software", "automation")
    ]
    assert [e.type for e in desk.events(ticket_id, "dispatch.returned")] == ["dispatch.returned"] * 2


async def test_no_team_waits_for_manual_dispatch(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue, category="plumbing")
    assert (view.status, view.work_orders) == (TicketStatus.OPEN, [])
    assert deadline(view, DeadlineKind.RESOLUTION).due_at == view.draft.created_at + timedelta(hours=24)

    result = await dispatch_to(handle, "machine-room")
    assert (result.ticket.status, result.ticket.assigned_team_id) == (TicketStatus.DISPATCHED, "machine-room")


async def test_confirmed_callback_closes_and_completes(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await accept(handle, f"{view.draft.ticket_id}-W1")
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    closed = await callback(handle)
    assert closed.status == TicketStatus.CLOSED
    assert deadline(closed, DeadlineKind.CALLBACK).state == DeadlineState.MET

    final = await handle.result()
    assert final.status == TicketStatus.CLOSED
    assert desk.callbacks[-1].ticket_status == "CLOSED"
    timeline = desk.events(view.draft.ticket_id)
    assert [e.type for e in timeline[-2:]] == ["survey.callback_recorded", "ticket.closed"]
    assert [e.event_id for e in desk.published] == [e.event_id for e in timeline]


async def test_not_fixed_callback_sends_a_new_work_order_to_the_same_team(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await resolve(handle, f"{ticket_id}-W1")
    await env.sleep(timedelta(hours=2))
    ticket = await callback(handle, confirmed=False)

    assert (ticket.status, ticket.assigned_team_id) == (TicketStatus.DISPATCHED, "network")
    second = ticket.work_orders[-1]
    assert (second.work_order_id, second.sequence, second.status) == (
        f"{ticket_id}-W2",
        2,
        WorkOrderStatus.DISPATCHED,
    )
    response = deadline(ticket, DeadlineKind.RESPONSE, second.work_order_id)
    resolution = deadline(ticket, DeadlineKind.RESOLUTION)
    assert response.started_at == resolution.started_at == second.created_at
    assert resolution.due_at == second.created_at + timedelta(hours=24)
    assert resolution.state == DeadlineState.PENDING
    assert desk.callbacks[-1].ticket_status == "DISPATCHED"


async def test_updates_in_the_wrong_state_are_rejected_and_change_nothing(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await resolve(handle, f"{ticket_id}-W1")
    await eventually(lambda: len(desk.published) == len(desk.events(ticket_id)))
    calls, timeline = len(desk.calls), list(desk.events(ticket_id))

    rejected: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (TRANSITION_NOT_ALLOWED, lambda: accept(handle, f"{ticket_id}-W1")),
        (TRANSITION_NOT_ALLOWED, lambda: give_back(handle, f"{ticket_id}-W1")),
        (TRANSITION_NOT_ALLOWED, lambda: dispatch_to(handle, "software")),
        (WORK_ORDER_NOT_FOUND, lambda: accept(handle, f"{ticket_id}-W9")),
        (INVALID_ARGUMENT, lambda: callback(handle, reached=False, confirmed=True, termination_reason="x")),
        (INVALID_ARGUMENT, lambda: callback(handle, reached=False, confirmed=False)),
    ]
    for error_type, send in rejected:
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await send()
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == error_type

    assert len(desk.calls) == calls  # nothing persisted, nothing published
    assert desk.events(ticket_id) == timeline
    assert desk.tickets[ticket_id].status == TicketStatus.RESOLVED


async def test_concurrent_updates_apply_one_at_a_time(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    work_order_id = f"{view.draft.ticket_id}-W1"

    results = await asyncio.gather(
        accept(handle, work_order_id), accept(handle, work_order_id), return_exceptions=True
    )

    accepted = [r for r in results if isinstance(r, WorkOrderResult)]
    rejected = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(accepted) == 1 and len(rejected) == 1
    assert isinstance(rejected[0].cause, ApplicationError)
    assert rejected[0].cause.type == TRANSITION_NOT_ALLOWED
    assert len(desk.events(view.draft.ticket_id, "dispatch.accepted")) == 1


async def test_an_update_retried_with_the_same_id_is_applied_once(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    request = AcceptWorkOrderInput(f"{view.draft.ticket_id}-W1", engineer="eng-1", actor="ops-1")
    first = await handle.execute_update(
        ACCEPT_WORK_ORDER, request, id="accept-1", result_type=WorkOrderResult
    )
    again = await handle.execute_update(
        ACCEPT_WORK_ORDER, request, id="accept-1", result_type=WorkOrderResult
    )
    assert again == first
    assert len(desk.events(view.draft.ticket_id, "dispatch.accepted")) == 1


async def test_expected_time_shortens_the_resolution_deadline(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    expected_by = await env.get_current_time() + timedelta(hours=10)
    _, view = await open_ticket(env, task_queue, expected_by=expected_by)
    resolution = deadline(view, DeadlineKind.RESOLUTION)
    assert resolution.due_at == expected_by
    assert resolution.warn_at == view.draft.created_at + (expected_by - view.draft.created_at) * 0.8


async def test_events_are_numbered_without_gaps_and_published_once_in_order(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await give_back(handle, f"{ticket_id}-W1")
    await accept(handle, f"{ticket_id}-W2")
    await resolve(handle, f"{ticket_id}-W2")
    await callback(handle)
    await handle.result()

    timeline = desk.events(ticket_id)
    assert [e.sequence for e in timeline] == list(range(1, len(timeline) + 1))
    assert len({e.event_id for e in timeline}) == len(timeline)
    assert [e.type for e in timeline] == [
        "ticket.created",
        "ticket.acknowledged",
        "dispatch.created",
        "dispatch.returned",
        "dispatch.created",
        "dispatch.accepted",
        "dispatch.resolved",
        "ticket.resolved",
        "survey.callback_recorded",
        "ticket.closed",
    ]
    assert [e.actor for e in timeline[:3]] == ["agent-7", "agent-7", "system"]
    assert desk.published == timeline
    assert desk.publish_attempts == desk.calls.count("desk.publish_events")


async def test_publishing_outage_delays_events_without_blocking_updates(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    desk.nats_down = True
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    accepted = await accept(handle, f"{ticket_id}-W1")
    assert accepted.ticket.status == TicketStatus.IN_PROGRESS
    assert desk.tickets[ticket_id].status == TicketStatus.IN_PROGRESS  # persisted before the update returned
    await eventually(lambda: desk.publish_attempts >= 2)
    assert desk.published == []

    desk.nats_down = False
    await env.sleep(timedelta(seconds=30))  # past the publisher's retry backoff
    await eventually(lambda: len(desk.published) == len(desk.events(ticket_id)))
    assert desk.published == desk.events(ticket_id)
    assert [e.type for e in desk.published][-1] == "dispatch.accepted"
