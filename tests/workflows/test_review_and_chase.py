"""Review (审核) before a team sees a work order, and the desk chasing a team (催单), against honest fakes.

Routing and policy as in ``tests.workflows.driving``: network tickets go to team network, response 2 h.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.deadlines import DeadlineKind
from domain.ticket import TicketStatus
from domain.work_orders import WorkOrderStatus
from services.dispatch.contract import RoutingRuleRecord
from tests.workflows.driving import (
    accept,
    chase,
    close_to,
    deadline,
    dispatch_to,
    give_back,
    open_ticket,
    resolve,
    review,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import INVALID_ARGUMENT, TRANSITION_NOT_ALLOWED


async def test_a_junior_dispatch_waits_for_review_then_goes_to_the_team_chosen_by_the_reviewer(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    desk.team_policies["automation"] = replace(desk.policy, response_seconds=3600.0, version=7)
    handle, view = await open_ticket(env, task_queue, category="plumbing")  # no route: at the desk
    ticket_id = view.draft.ticket_id

    proposed = await dispatch_to(handle, "network", reason="line fault", needs_review=True)
    assert proposed.work_order.status == WorkOrderStatus.PENDING_REVIEW
    assert (proposed.ticket.status, proposed.ticket.assigned_team_id) == (TicketStatus.PENDING_REVIEW, "")
    assert [d.kind for d in proposed.ticket.deadlines] == [DeadlineKind.RESOLUTION]  # no response clock yet
    assert desk.events(ticket_id, "dispatch.created") == []  # the team is not told
    assert [e.payload["team_id"] for e in desk.events(ticket_id, "review.requested")] == ["network"]

    await env.sleep(timedelta(minutes=20))
    approved = await review(handle, f"{ticket_id}-W1", approve=True, team_id="automation", reason="PLC")
    work_order = approved.work_order
    assert (work_order.status, work_order.team_id, work_order.reviewed_by) == (
        WorkOrderStatus.DISPATCHED,
        "automation",
        "senior-1",
    )
    assert work_order.sla_policy_version == 7
    assert (approved.ticket.status, approved.ticket.assigned_team_id) == (
        TicketStatus.DISPATCHED,
        "automation",
    )
    response = deadline(approved.ticket, DeadlineKind.RESPONSE, work_order.work_order_id)
    assert work_order.reviewed_at is not None and response.started_at == work_order.reviewed_at
    assert close_to(response.started_at, view.draft.created_at + timedelta(minutes=20))
    assert response.due_at == response.started_at + timedelta(hours=1)  # automation's policy
    assert [e.subject for e in desk.events(ticket_id, "dispatch.created")] == [
        "helpdesk.dispatch.automation.created"
    ]
    assert desk.work_orders[work_order.work_order_id].status == WorkOrderStatus.DISPATCHED


async def test_a_rejected_work_order_sends_the_ticket_back_to_the_desk(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue, category="plumbing")
    ticket_id = view.draft.ticket_id
    await dispatch_to(handle, "network", needs_review=True)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await review(handle, f"{ticket_id}-W1", approve=False)  # a rejection needs its reason
    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == INVALID_ARGUMENT

    rejected = await review(handle, f"{ticket_id}-W1", approve=False, reason="customer premises equipment")
    assert (rejected.work_order.status, rejected.work_order.review_reason) == (
        WorkOrderStatus.REJECTED,
        "customer premises equipment",
    )
    assert (rejected.ticket.status, rejected.ticket.assigned_team_id) == (TicketStatus.OPEN, "")
    assert [e.reason for e in desk.events(ticket_id, "review.rejected")] == ["customer premises equipment"]

    again = await dispatch_to(handle, "software")
    assert (again.work_order.work_order_id, again.work_order.status) == (
        f"{ticket_id}-W2",
        WorkOrderStatus.DISPATCHED,
    )


async def test_vip_tickets_and_rules_asking_for_it_are_reviewed_even_when_routed_automatically(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, vip = await open_ticket(env, task_queue, customer_tier="VIP")
    assert (vip.status, vip.work_orders[0].status) == (
        TicketStatus.PENDING_REVIEW,
        WorkOrderStatus.PENDING_REVIEW,
    )
    assert vip.work_orders[0].dispatched_by == "system"

    desk.rules.append(
        RoutingRuleRecord(
            "south-software", category="software", region="south", require_review=True, team_id="software"
        )
    )
    _, ruled = await open_ticket(env, task_queue, category="software", region="south")
    assert (ruled.status, ruled.work_orders[0].team_id) == (TicketStatus.PENDING_REVIEW, "software")
    _, plain = await open_ticket(env, task_queue, category="software", region="north")
    assert (plain.status, plain.work_orders[0].status) == (
        TicketStatus.DISPATCHED,
        WorkOrderStatus.DISPATCHED,
    )


async def test_the_desk_chases_an_open_work_order_and_the_team_is_told_each_time(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id, work_order_id = view.draft.ticket_id, f"{view.draft.ticket_id}-W1"

    first = await chase(handle, work_order_id, "customer called again")
    assert first.work_order.chase_count == 1 and first.work_order.last_chased_at is not None
    assert close_to(first.work_order.last_chased_at, view.draft.created_at)
    await accept(handle, work_order_id)
    results = await asyncio.gather(*(chase(handle, work_order_id, f"chase {i}") for i in range(12)))
    assert sorted(r.work_order.chase_count for r in results) == list(range(2, 14))
    assert desk.work_orders[work_order_id].chase_count == 13
    chased = desk.events(ticket_id, "dispatch.chased")
    assert [e.payload["chase_count"] for e in chased] == list(range(1, 14))
    assert {e.subject for e in chased} == {"helpdesk.dispatch.network.chased"}
    assert chased[0].reason == "customer called again"

    await resolve(handle, work_order_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await chase(handle, work_order_id)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == TRANSITION_NOT_ALLOWED
    assert desk.work_orders[work_order_id].chase_count == 13


async def test_pending_review_and_returned_work_orders_cannot_be_chased(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await give_back(handle, f"{ticket_id}-W1")
    await dispatch_to(handle, "software", needs_review=True)
    for work_order_id in (f"{ticket_id}-W1", f"{ticket_id}-W2"):
        with pytest.raises(WorkflowUpdateFailedError):
            await chase(handle, work_order_id)
    assert desk.events(ticket_id, "dispatch.chased") == []
