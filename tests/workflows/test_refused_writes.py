"""Writes the database refuses for good: the change is refused at once and the ticket stays usable.

The fakes refuse a NUL in any text as PostgreSQL does (``fakes.storable``). Every call is bounded in
real time: a change retried for ever would otherwise hang the test instead of failing it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from temporalio.client import WithStartWorkflowOperation, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from desk.errors import InvalidArgument, TransitionNotAllowed
from domain.commands import AddSupplementInput, ResolveWorkOrderInput
from domain.line_tests import LineTestResult
from domain.ticket import TicketStatus, TicketView
from domain.work_orders import WorkOrderStatus
from services.intake.contract import RUN_LINE_TEST
from services.intake.opening.line_test import SimulatedLineTester
from tests.workflows.driving import accept, draft, eventually, open_ticket, update
from tests.workflows.fakes import RECORD_TICKET, FakeDesk
from workflows.contract import (
    ADD_SUPPLEMENT,
    AWAIT_RECORDED,
    INVALID_ARGUMENT,
    RESOLVE_WORK_ORDER,
    TicketWorkflowInput,
    WorkOrderResult,
    ticket_workflow_id,
)
from workflows.ticket import TicketWorkflow
from workflows.ticket_client import TicketWorkflows

T = TypeVar("T")
AT_ONCE = 10.0  # seconds: a refused change answers in well under one; a retried one never does


async def at_once(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, AT_ONCE)


def refusal(error: WorkflowUpdateFailedError | WorkflowFailureError) -> ApplicationError:
    assert isinstance(error.cause, ApplicationError), error.cause
    return error.cause


async def test_a_supplement_the_database_refuses_is_refused_and_the_next_is_taken_at_once(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    timeline_before = list(desk.events(ticket_id))

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        poisoned = AddSupplementInput("the fax line\x00 too", "agent-7")
        await at_once(update(handle, ADD_SUPPLEMENT, poisoned, TicketView))
    cause = refusal(refused.value)
    assert cause.type == INVALID_ARGUMENT
    assert cause.message == 'the change could not be stored: invalid byte sequence for encoding "UTF8": 0x00'
    assert desk.events(ticket_id) == timeline_before  # nothing of the refused change was kept

    taken = await at_once(
        update(handle, ADD_SUPPLEMENT, AddSupplementInput("the fax line too", "agent-7"), TicketView)
    )
    assert taken.supplements == 1  # the refused one never counted
    supplemented = desk.events(ticket_id, "ticket.supplemented")
    assert [e.reason for e in supplemented] == ["the fax line too"]
    assert supplemented[0].sequence == timeline_before[-1].sequence + 1  # no event number was spent


async def test_a_resolution_whose_work_order_is_refused_leaves_it_accepted(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    work_order_id = f"{view.draft.ticket_id}-W1"
    await accept(handle, work_order_id)
    poisoned = ResolveWorkOrderInput(work_order_id, "fibre\x00cut", "spliced", "eng-1", "ops-1")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await at_once(update(handle, RESOLVE_WORK_ORDER, poisoned, WorkOrderResult))
    assert refusal(refused.value).type == INVALID_ARGUMENT
    assert desk.work_orders[work_order_id].status == WorkOrderStatus.ACCEPTED
    assert desk.tickets[view.draft.ticket_id].status == TicketStatus.IN_PROGRESS

    fixed = dataclasses.replace(poisoned, cause="fibre cut")
    resolved = await at_once(update(handle, RESOLVE_WORK_ORDER, fixed, WorkOrderResult))
    assert (resolved.work_order.status, resolved.ticket.status) == (
        WorkOrderStatus.RESOLVED,
        TicketStatus.RESOLVED,
    )


async def test_the_services_client_says_invalid_argument_without_the_sdks_words(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, view = await open_ticket(env, task_queue)
    tickets = TicketWorkflows(env.client)
    with pytest.raises(InvalidArgument) as refused:
        poisoned = AddSupplementInput("\x00", "agent-7")
        await at_once(tickets.update(view.draft.ticket_id, ADD_SUPPLEMENT, poisoned, TicketView))
    [violation] = refused.value.violations
    assert violation.field == "request"
    assert violation.description.startswith("the change could not be stored: invalid byte sequence")
    assert "Activity" not in str(refused.value) and "Error" not in str(refused.value)


async def test_a_ticket_whose_opening_is_refused_fails_once_with_the_reason(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    """Its draft cannot be stored: the opener learns why, the workflow fails, nothing loops."""
    unstorable = dataclasses.replace(draft(await env.get_current_time()), summary="line\x00 down")
    start = WithStartWorkflowOperation(
        TicketWorkflow.run,
        TicketWorkflowInput(unstorable),
        id=ticket_workflow_id(unstorable.ticket_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await at_once(
            env.client.execute_update_with_start_workflow(
                AWAIT_RECORDED, start_workflow_operation=start, result_type=TicketView
            )
        )
    assert refusal(refused.value).type == INVALID_ARGUMENT
    handle = await start.workflow_handle()
    with pytest.raises(WorkflowFailureError) as failed:
        await at_once(handle.result())
    assert "could not be stored" in refusal(failed.value).message
    assert unstorable.ticket_id not in desk.tickets

    with pytest.raises(TransitionNotAllowed, match="cannot be opened again"):  # the starter's next try
        await at_once(TicketWorkflows(env.client).start(unstorable))


class GarbledTester(SimulatedLineTester):
    """A test head whose answer carries a NUL: an adapter's text the database cannot store."""

    async def test(self, fault_number: str) -> LineTestResult:
        return dataclasses.replace(await super().test(fault_number), detail="open\x00circuit")


async def test_a_line_test_the_database_refuses_is_left_out_and_the_ticket_goes_on(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    desk.line_tester = GarbledTester()
    handle, view = await open_ticket(env, task_queue, fault_number="02188889999")
    ticket_id = view.draft.ticket_id
    await eventually(lambda: RUN_LINE_TEST in desk.calls and desk.calls.count(RECORD_TICKET) == 2)

    supplement = AddSupplementInput("still dead", "agent-7")
    taken = await at_once(update(handle, ADD_SUPPLEMENT, supplement, TicketView))
    assert (taken.supplements, taken.line_test) == (1, None)
    assert desk.events(ticket_id, "ticket.line_tested") == []
