"""Repeats, supplements, first-contact resolution, cancellation, outages and the line test, on fakes.

Routing and policy as in ``tests.workflows.driving``: network tickets go to team network.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.commands import (
    AddSupplementInput,
    CancelTicketInput,
    RecordRepeatInput,
    RepeatReport,
    ResolveAtFirstContactInput,
    ResolveByOutageInput,
)
from domain.deadlines import DeadlineKind, DeadlineState
from domain.line_tests import LineTestOutcome
from domain.ticket import Reporter, TicketStatus, TicketView
from domain.work_orders import WorkOrderStatus
from services.intake import contract as intake
from services.intake.opening.line_test import SimulatedLineTester
from tests.workflows.driving import Handle, accept, callback, deadline, eventually, open_ticket, update
from tests.workflows.fakes import RECORD_TICKET, FakeDesk
from workflows.contract import (
    ADD_SUPPLEMENT,
    CANCEL_TICKET,
    RECORD_REPEAT,
    RESOLVE_AT_FIRST_CONTACT,
    RESOLVE_BY_OUTAGE,
    TRANSITION_NOT_ALLOWED,
)


async def repeat(handle: Handle, n: int) -> TicketView:
    report = RepeatReport(
        f"req-r{n}", "PHONE", Reporter(name="Li Lei"), "still no dial tone", datetime.now(UTC)
    )
    return await update(handle, RECORD_REPEAT, RecordRepeatInput(report, actor="agent-7"), TicketView)


async def test_repeats_count_and_the_fourth_escalates_once(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    for n in range(1, 4):
        assert ((await repeat(handle, n)).repeat_count, desk.tickets[ticket_id].escalated) == (n, False)
    fourth = await repeat(handle, 4)
    fifth = await repeat(handle, 5)
    assert (fourth.escalated, fifth.repeat_count) == (True, 5)
    assert [e.payload["repeat_count"] for e in desk.events(ticket_id, "ticket.repeated")] == [1, 2, 3, 4, 5]
    [escalated] = desk.events(ticket_id, "ticket.escalated")
    assert (escalated.subject, escalated.payload["to"]) == ("helpdesk.ticket.escalated", "manager_hotline")


async def test_a_repeat_on_an_overdue_ticket_escalates_at_once(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await env.sleep(timedelta(hours=2, minutes=1))  # the response deadline (2 h) is missed
    await eventually(lambda: bool(desk.events(view.draft.ticket_id, "sla.overdue")))
    assert (await repeat(handle, 1)).escalated


async def test_a_supplement_is_kept_and_the_team_holding_the_ticket_is_told(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    seen = await update(
        handle, ADD_SUPPLEMENT, AddSupplementInput("also the fax line", "agent-7"), TicketView
    )
    assert seen.supplements == 1
    [told] = desk.events(ticket_id, "dispatch.supplemented")
    assert (told.subject, told.reason) == ("helpdesk.dispatch.network.supplemented", "also the fax line")
    assert [e.reason for e in desk.events(ticket_id, "ticket.supplemented")] == ["also the fax line"]


async def test_resolved_at_first_contact_withdraws_the_work_order_and_awaits_its_callback(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    request = ResolveAtFirstContactInput("reset the modem with the customer", "agent-7")
    resolved = await update(handle, RESOLVE_AT_FIRST_CONTACT, request, TicketView)
    assert (resolved.status, resolved.resolved_at_first_contact) == (TicketStatus.RESOLVED, True)
    assert desk.work_orders[f"{ticket_id}-W1"].status == WorkOrderStatus.CANCELLED
    assert deadline(resolved, DeadlineKind.RESPONSE).state == DeadlineState.CANCELLED
    assert deadline(resolved, DeadlineKind.RESOLUTION).state == DeadlineState.MET
    assert deadline(resolved, DeadlineKind.CALLBACK).state == DeadlineState.PENDING
    assert [e.subject for e in desk.events(ticket_id, "dispatch.cancelled")] == [
        "helpdesk.dispatch.network.cancelled"
    ]
    assert (await callback(handle)).status == TicketStatus.CLOSED


async def test_a_ticket_a_team_has_taken_up_is_not_resolved_at_first_contact(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await accept(handle, f"{view.draft.ticket_id}-W1")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, RESOLVE_AT_FIRST_CONTACT, ResolveAtFirstContactInput("x", "a"), TicketView)
    assert (
        isinstance(refused.value.cause, ApplicationError)
        and refused.value.cause.type == TRANSITION_NOT_ALLOWED
    )


async def test_a_cancelled_ticket_stops_its_work_and_its_clocks_and_ends(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    await accept(handle, f"{ticket_id}-W1")
    cancelled = await update(
        handle, CANCEL_TICKET, CancelTicketInput("customer fixed it", "agent-7"), TicketView
    )
    assert (cancelled.status, cancelled.cancel_reason) == (TicketStatus.CANCELLED, "customer fixed it")
    assert {d.state for d in cancelled.deadlines} == {DeadlineState.MET, DeadlineState.CANCELLED}
    assert desk.work_orders[f"{ticket_id}-W1"].status == WorkOrderStatus.CANCELLED
    assert (await handle.result()).status == TicketStatus.CANCELLED
    await env.sleep(timedelta(days=3))
    assert not [e for e in desk.events(ticket_id) if e.type.startswith("sla.")]


async def test_a_ticket_of_a_known_outage_waits_for_its_repair_then_goes_to_callback(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue, outage_id="OUT-7")
    assert (view.status, view.work_orders, view.deadlines) == (TicketStatus.OPEN, [], [])
    assert desk.routings == []
    resolved = await update(
        handle, RESOLVE_BY_OUTAGE, ResolveByOutageInput("OUT-7", "cable repaired", "system"), TicketView
    )
    assert resolved.status == TicketStatus.RESOLVED
    assert [d.kind for d in resolved.deadlines] == [DeadlineKind.CALLBACK]
    [event] = desk.events(view.draft.ticket_id, "ticket.resolved")
    assert event.payload == {"outage_id": "OUT-7"}


async def test_a_fault_with_a_number_is_line_tested_once_recorded(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, view = await open_ticket(env, task_queue, fault_number="02188889999")  # simulator: open circuit
    ticket_id = view.draft.ticket_id
    await eventually(lambda: bool(desk.events(ticket_id, "ticket.line_tested")))
    tested = desk.tickets[ticket_id].line_test
    assert tested is not None and (tested.result, tested.fault_code) == (
        LineTestOutcome.ABNORMAL,
        "OPEN_CIRCUIT",
    )


async def test_a_line_test_the_draft_brings_is_recorded_with_the_opening(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    """Intake's starter tests the line before the workflow starts: nothing is tested or recorded twice."""
    tested = await SimulatedLineTester().test("02188889999")
    _, view = await open_ticket(env, task_queue, fault_number="02188889999", line_test=tested)
    assert view.line_test == tested  # in the record the answer waited for: the opening's
    assert desk.calls.count(RECORD_TICKET) == 1 and intake.RUN_LINE_TEST not in desk.calls
    [event] = desk.events(view.draft.ticket_id, "ticket.line_tested")
    assert event.payload["fault_code"] == "OPEN_CIRCUIT"
