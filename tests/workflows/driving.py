"""Driving the ticket workflow in tests: a draft, its start, its updates, and what to look for.

Policy in these tests (``fakes.default_policy``): response 2 h, resolution 24 h, callback 24 h,
warning at 80 %. Routing: ``network`` goes to team network, then software; ``software`` to software;
anything else to no team (the ticket waits at the desk).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from desk.events import EventSpec
from domain.commands import (
    AcceptWorkOrderInput,
    ChaseWorkOrderInput,
    DispatchTicketInput,
    RecordCallbackInput,
    RecordInvestigationInput,
    ResolveWorkOrderInput,
    ReturnWorkOrderInput,
    ReviewWorkOrderInput,
    SubmitSurveyInput,
)
from domain.deadlines import Deadline, DeadlineKind
from domain.line_tests import LineTestResult
from domain.ticket import Reporter, TicketDraft, TicketView
from tests.workflows.fakes import FakeDesk
from workflows.contract import (
    ACCEPT_WORK_ORDER,
    AWAIT_RECORDED,
    CHASE_WORK_ORDER,
    DISPATCH_TICKET,
    RECORD_CALLBACK,
    RECORD_INVESTIGATION,
    RESOLVE_WORK_ORDER,
    RETURN_WORK_ORDER,
    REVIEW_WORK_ORDER,
    SUBMIT_SURVEY,
    RecordCallbackResult,
    SurveyResult,
    TicketWorkflowInput,
    WorkOrderResult,
    ticket_workflow_id,
)
from workflows.ticket import TicketWorkflow

Handle = WorkflowHandle[TicketWorkflow, TicketView]
Result = TypeVar("Result")


def draft(
    created_at: datetime,
    *,
    category: str = "network",
    expected_by: datetime | None = None,
    customer_tier: str = "STANDARD",
    region: str = "",
    fault_number: str = "",
    outage_id: str = "",
    line_test: LineTestResult | None = None,
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
        customer_tier=customer_tier,
        summary="line down",
        created_at=created_at,
        expected_by=expected_by,
        agent_id="agent-7",
        region=region,
        fault_number=fault_number,
        outage_id=outage_id,
        line_test=line_test,
    )


async def open_ticket(
    env: WorkflowEnvironment,
    task_queue: str,
    *,
    category: str = "network",
    expected_by: datetime | None = None,
    customer_tier: str = "STANDARD",
    region: str = "",
    fault_number: str = "",
    outage_id: str = "",
    line_test: LineTestResult | None = None,
) -> tuple[Handle, TicketView]:
    """Create a ticket the way CreateTicket does: update-with-start, answered once it is recorded."""
    ticket = draft(
        await env.get_current_time(),
        category=category,
        expected_by=expected_by,
        customer_tier=customer_tier,
        region=region,
        fault_number=fault_number,
        outage_id=outage_id,
        line_test=line_test,
    )
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
    handle: Handle,
    *,
    reached: bool = True,
    confirmed: bool | None = None,  # as reached, unless given
    termination_reason: str = "",
    request_id: str = "",
) -> TicketView:
    return (
        await record_callback(
            handle,
            reached=reached,
            confirmed=confirmed,
            termination_reason=termination_reason,
            request_id=request_id,
        )
    ).ticket


async def record_callback(
    handle: Handle,
    *,
    reached: bool = True,
    confirmed: bool | None = None,  # as reached, unless given
    termination_reason: str = "",
    request_id: str = "",
) -> RecordCallbackResult:
    request = RecordCallbackInput(
        reached,
        reached if confirmed is None else confirmed,
        termination_reason,
        note="called back",
        actor="surveyor-1",
        request_id=request_id,
    )
    return await update(handle, RECORD_CALLBACK, request, RecordCallbackResult)


async def dispatch_to(
    handle: Handle, team_id: str, reason: str = "manual", *, needs_review: bool = False
) -> WorkOrderResult:
    request = DispatchTicketInput(team_id, reason=reason, actor="senior-1", needs_review=needs_review)
    return await update(handle, DISPATCH_TICKET, request, WorkOrderResult)


async def review(
    handle: Handle, work_order_id: str, *, approve: bool, team_id: str = "", reason: str = ""
) -> WorkOrderResult:
    request = ReviewWorkOrderInput(work_order_id, approve, team_id, reason, actor="senior-1")
    return await update(handle, REVIEW_WORK_ORDER, request, WorkOrderResult)


async def chase(handle: Handle, work_order_id: str, note: str = "customer waiting") -> WorkOrderResult:
    request = ChaseWorkOrderInput(work_order_id, note, actor="agent-7")
    return await update(handle, CHASE_WORK_ORDER, request, WorkOrderResult)


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


def close_to(actual: datetime, expected: datetime, *, within: timedelta = timedelta(seconds=1)) -> bool:
    """Timers fire at their time on the test server's clock, give or take its bookkeeping (ms)."""
    return abs(actual - expected) < within


async def submit_survey(
    handle: Handle, rating: str = "SATISFIED", *, request_id: str = "", comment: str = "thanks"
) -> SurveyResult:
    request = SubmitSurveyInput(rating, comment, actor="surveyor-1", request_id=request_id)
    return await update(handle, SUBMIT_SURVEY, request, SurveyResult)


async def investigate(
    handle: Handle,
    responsibility: str,
    *,
    finding: str = "looked into it",
    staff_id: str = "",
    disputed: bool = False,
    request_id: str = "",
) -> SurveyResult:
    request = RecordInvestigationInput(
        responsibility,
        finding,
        actor="surveyor-1",
        staff_id=staff_id,
        disputed=disputed,
        request_id=request_id,
    )
    return await update(handle, RECORD_INVESTIGATION, request, SurveyResult)


async def finished(
    env: WorkflowEnvironment, handle: Handle, *, within: timedelta = timedelta(days=6)
) -> TicketView:
    """The workflow's result once ``within`` has passed on the test server's clock (the after-care
    waits days: the survey's window, the archive's next day)."""
    await env.sleep(within)
    return await handle.result()
