"""The ticket workflow's deadlines on the time-skipping test server, against honest fakes.

The fakes' policy and routing are described in ``tests.workflows.driving``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.deadlines import DeadlineKind, DeadlineState
from domain.ticket import TicketStatus
from domain.work_orders import DESK_TEAM_ID, WorkOrderStatus
from tests.workflows.driving import (
    accept,
    callback,
    close_to,
    deadline,
    eventually,
    open_ticket,
    resolve,
    sla_events,
)
from tests.workflows.fakes import FakeDesk


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


async def test_expected_time_shortens_the_resolution_deadline(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    expected_by = await env.get_current_time() + timedelta(hours=10)
    _, view = await open_ticket(env, task_queue, expected_by=expected_by)
    resolution = deadline(view, DeadlineKind.RESOLUTION)
    assert resolution.due_at == expected_by
    assert resolution.warn_at == view.draft.created_at + (expected_by - view.draft.created_at) * 0.8
