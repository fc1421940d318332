"""Callback attempts (回访) under the after-care policy: spaced, counted once per request id, exhausted
into "customer unreachable"; "not fixed" as a second dispatch reviewed by a senior agent; and the
surveyors' callback queue the workflow keeps in survey.

Policy here: callback deadline 24 h after resolution (``fakes.default_policy``); the after-care
defaults: 3 attempts at least 2 h apart.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.aftercare_policy import CUSTOMER_UNREACHABLE
from domain.deadlines import DeadlineKind, DeadlineState
from domain.ticket import TicketStatus
from domain.work_orders import DispatchKind, WorkOrderStatus
from tests.workflows.driving import (
    callback,
    deadline,
    open_ticket,
    record_callback,
    resolve,
    review,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import TRANSITION_NOT_ALLOWED


async def test_attempts_are_spaced_and_the_last_one_closes_the_ticket_as_unreachable(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    resolved = (await resolve(handle, f"{ticket_id}-W1")).ticket
    queued = desk.pending_callbacks[ticket_id]
    assert (queued.due_at, queued.attempts, queued.max_attempts) == (
        deadline(resolved, DeadlineKind.CALLBACK).due_at,
        0,
        3,
    )

    first = await record_callback(handle, reached=False, termination_reason="no answer", request_id="a1")
    assert (first.ticket.status, first.ticket.callback_attempts, first.callback.attempt) == (
        TicketStatus.RESOLVED,
        1,
        1,
    )
    assert first.ticket.next_callback_at == first.callback.recorded_at + timedelta(hours=2)
    assert desk.pending_callbacks[ticket_id].next_attempt_at == first.ticket.next_callback_at

    with pytest.raises(WorkflowUpdateFailedError) as too_soon:  # another request, within the 2 h
        await callback(handle, reached=False, termination_reason="busy", request_id="a2")
    assert too_soon.value.cause.type == TRANSITION_NOT_ALLOWED  # type: ignore[attr-defined]
    assert "next callback attempt" in str(too_soon.value.cause)

    await env.sleep(timedelta(hours=2))
    second = await callback(handle, reached=False, termination_reason="busy", request_id="a2")
    assert (second.status, second.callback_attempts) == (TicketStatus.RESOLVED, 2)
    await env.sleep(timedelta(hours=3))
    last = await callback(handle, reached=False, termination_reason="switched off", request_id="a3")

    assert (last.status, last.close_reason, last.callback_attempts) == (
        TicketStatus.CLOSED,
        CUSTOMER_UNREACHABLE,
        3,
    )
    assert deadline(last, DeadlineKind.CALLBACK).state == DeadlineState.MET
    assert ticket_id not in desk.pending_callbacks
    recorded = desk.events(ticket_id, "survey.callback_recorded")
    assert [(e.payload["attempt"], e.payload["outcome"]) for e in recorded] == [
        (1, "not_reached"),
        (2, "not_reached"),
        (3, "unreachable"),
    ]
    closed = desk.events(ticket_id, "ticket.closed")
    assert [(e.reason, e.payload["close_reason"]) for e in closed] == [(CUSTOMER_UNREACHABLE,) * 2]


async def test_a_retry_counts_once_and_another_request_id_is_another_attempt(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await resolve(handle, f"{ticket_id}-W1")
    first = await record_callback(handle, reached=False, termination_reason="no answer", request_id="r1")
    again = await record_callback(handle, reached=False, termination_reason="no answer", request_id="r1")

    assert again == first
    assert len(desk.callbacks) == 1 and len(desk.events(ticket_id, "survey.callback_recorded")) == 1
    await env.sleep(timedelta(hours=2))
    other = await record_callback(handle, reached=False, termination_reason="no answer", request_id="r2")
    assert (other.callback.attempt, other.ticket.callback_attempts) == (2, 2)


async def test_no_attempt_is_left_once_the_next_would_fall_after_the_deadline(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    await env.sleep(timedelta(hours=23))  # the next attempt, 2 h on, would miss the 24 h deadline

    closed = await callback(handle, reached=False, termination_reason="no answer")

    assert (closed.status, closed.close_reason, closed.callback_attempts) == (
        TicketStatus.CLOSED,
        CUSTOMER_UNREACHABLE,
        1,
    )


async def test_not_fixed_is_a_second_dispatch_that_a_senior_agent_reviews(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await resolve(handle, f"{ticket_id}-W1")
    await env.sleep(timedelta(hours=2))
    ticket = await callback(handle, confirmed=False)

    assert (ticket.status, ticket.assigned_team_id, ticket.second_dispatches) == (
        TicketStatus.PENDING_REVIEW,
        "",
        1,
    )
    second = ticket.work_orders[-1]
    assert (second.work_order_id, second.status, second.dispatch_kind, second.team_id) == (
        f"{ticket_id}-W2",
        WorkOrderStatus.PENDING_REVIEW,
        DispatchKind.SECOND_DISPATCH,
        "network",
    )
    assert not [e for e in desk.events(ticket_id, "dispatch.created") if e.payload["sequence"] == 2]
    assert ticket_id not in desk.pending_callbacks

    await env.sleep(timedelta(minutes=10))
    approved = (await review(handle, second.work_order_id, approve=True, reason="ok")).ticket
    assert (approved.status, approved.assigned_team_id) == (TicketStatus.DISPATCHED, "network")
    resolution = deadline(approved, DeadlineKind.RESOLUTION)
    assert resolution.started_at == approved.work_orders[-1].reviewed_at
    assert resolution.state == DeadlineState.PENDING
    created = desk.events(ticket_id, "dispatch.created")[-1]
    assert created.payload["dispatch_kind"] == "SECOND_DISPATCH"
    assert desk.work_orders[second.work_order_id].dispatch_kind == DispatchKind.SECOND_DISPATCH
