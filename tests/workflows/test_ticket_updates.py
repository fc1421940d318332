"""The ticket workflow's updates, returns, callbacks and events, against honest fakes.

The fakes' policy and routing are described in ``tests.workflows.driving``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.commands import AcceptWorkOrderInput
from domain.deadlines import DeadlineKind, DeadlineState
from domain.ticket import TicketStatus
from domain.work_orders import WorkOrderStatus
from tests.workflows.driving import (
    accept,
    callback,
    deadline,
    dispatch_to,
    finished,
    give_back,
    open_ticket,
    resolve,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import (
    ACCEPT_WORK_ORDER,
    INVALID_ARGUMENT,
    TRANSITION_NOT_ALLOWED,
    WORK_ORDER_NOT_FOUND,
    WorkOrderResult,
)


async def test_a_return_goes_back_to_the_desk_and_a_new_dispatch_has_fresh_deadlines(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    assert (view.status, view.assigned_team_id) == (TicketStatus.DISPATCHED, "network")
    resolution_due = deadline(view, DeadlineKind.RESOLUTION).due_at

    await env.sleep(timedelta(hours=1))
    first = await give_back(handle, f"{ticket_id}-W1")
    assert (first.work_order.status, first.work_order.return_reason) == (
        WorkOrderStatus.RETURNED,
        "not our equipment",
    )
    assert (first.ticket.status, first.ticket.assigned_team_id) == (TicketStatus.OPEN, "")
    assert len(first.ticket.work_orders) == 1 and len(desk.routings) == 1  # not routed on by itself
    assert deadline(first.ticket, DeadlineKind.RESPONSE, f"{ticket_id}-W1").state == DeadlineState.MET

    await env.sleep(timedelta(minutes=30))
    second = await dispatch_to(handle, "software", reason="software owns the gateway")
    work_order = second.work_order
    assert (work_order.work_order_id, work_order.team_id, work_order.sequence) == (
        f"{ticket_id}-W2",
        "software",
        2,
    )
    assert (second.ticket.status, second.ticket.assigned_team_id) == (TicketStatus.DISPATCHED, "software")
    fresh = deadline(second.ticket, DeadlineKind.RESPONSE, work_order.work_order_id)
    assert fresh.started_at == work_order.created_at >= view.draft.created_at + timedelta(hours=1, minutes=30)
    assert (fresh.due_at, fresh.state) == (work_order.created_at + timedelta(hours=2), DeadlineState.PENDING)
    assert deadline(second.ticket, DeadlineKind.RESOLUTION).due_at == resolution_due  # the ticket's own
    created = desk.events(ticket_id, "dispatch.created")
    assert [e.subject for e in created] == [f"helpdesk.dispatch.{t}.created" for t in ("network", "software")]
    assert [e.reason for e in desk.events(ticket_id, "dispatch.returned")] == ["not our equipment"]


async def test_no_team_waits_for_manual_dispatch(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue, category="plumbing")
    assert (view.status, view.work_orders) == (TicketStatus.OPEN, [])
    assert deadline(view, DeadlineKind.RESOLUTION).due_at == view.draft.created_at + timedelta(hours=24)

    result = await dispatch_to(handle, "machine-room")
    assert (result.ticket.status, result.ticket.assigned_team_id) == (TicketStatus.DISPATCHED, "machine-room")


async def test_confirmed_callback_closes_and_the_workflow_completes_once_archived(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await accept(handle, f"{view.draft.ticket_id}-W1")
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    closed = await callback(handle)
    assert closed.status == TicketStatus.CLOSED
    assert deadline(closed, DeadlineKind.CALLBACK).state == DeadlineState.MET

    final = await finished(env, handle)
    assert final.status == TicketStatus.ARCHIVED
    assert desk.callbacks[-1].ticket_status == "CLOSED"
    timeline = desk.events(view.draft.ticket_id)
    assert [e.type for e in timeline[-4:]] == [
        "survey.callback_recorded",
        "ticket.closed",
        "survey.expired",
        "ticket.archived",
    ]
    assert [e.event_id for e in desk.outboxed] == [e.event_id for e in timeline]


async def test_updates_in_the_wrong_state_are_rejected_and_change_nothing(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await resolve(handle, f"{ticket_id}-W1")
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


async def test_events_are_numbered_without_gaps_and_queued_once_in_order(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await give_back(handle, f"{ticket_id}-W1")
    await dispatch_to(handle, "software")
    await accept(handle, f"{ticket_id}-W2")
    await resolve(handle, f"{ticket_id}-W2")
    await callback(handle)
    await finished(env, handle)

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
        "survey.expired",
        "ticket.archived",
    ]
    assert [e.actor for e in timeline[:3]] == ["agent-7", "agent-7", "system"]
    assert desk.outboxed == timeline  # with each record, for intake's relay to publish
