"""The manager hotline on the ticket workflow (time-skipping server, fakes): cases opened by repeats and
by callers, resolved once, compensated by the hours the workflow's clock counts, and a closed ticket's
workflow that waits for its open case."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.commands import OpenEscalationInput, RecordRepeatInput, RepeatReport, ResolveEscalationInput
from domain.hotline import CompensationRule, EscalationSource, EscalationStatus
from domain.ticket import Reporter, TicketStatus, TicketView
from tests.workflows.driving import Handle, accept, callback, finished, open_ticket, resolve, update
from tests.workflows.fakes import SAVE_ESCALATION, FakeDesk
from workflows.contract import (
    INVALID_ARGUMENT,
    OPEN_ESCALATION,
    RECORD_REPEAT,
    RESOLVE_ESCALATION,
    TRANSITION_NOT_ALLOWED,
    EscalationResult,
)
from workflows.ticket import TicketWorkflow

HOTLINE_HISTORY = Path(__file__).parent / "histories" / "ticket_hotline_path.json"
"""Replayed by tests/workflows/test_replay.py with the others; recorded again with RECORD_HISTORIES=1."""
RULE = CompensationRule(amount_per_hour_cents=500, cap_cents=10_000, version=2)


async def repeat(handle: Handle, n: int) -> TicketView:
    report = RepeatReport(f"req-r{n}", "PHONE", Reporter(name="Li Lei"), "still down", datetime.now(UTC))
    return await update(handle, RECORD_REPEAT, RecordRepeatInput(report, actor="agent-7"), TicketView)


def resolution(escalation_id: str, request_id: str = "req-x1", **more: object) -> ResolveEscalationInput:
    fields: dict[str, object] = {
        "escalation_id": escalation_id,
        "outcome": "EXPLAINED",
        "note": "explained the delay",
        "actor": "manager-1",
        "request_id": request_id,
    }
    return ResolveEscalationInput(**(fields | more))  # type: ignore[arg-type]


async def send_resolution(handle: Handle, request: ResolveEscalationInput) -> EscalationResult:
    return await update(handle, RESOLVE_ESCALATION, request, EscalationResult)


async def refusal(handle: Handle, name: str, arg: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await update(handle, name, arg, EscalationResult)
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def test_the_fourth_repeat_opens_one_case_and_resolving_it_applies_once(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    for n in range(1, 4):
        await repeat(handle, n)
    assert desk.escalations == {}
    for n in range(4, 7):
        await repeat(handle, n)
    [case] = desk.escalations.values()
    assert (case.escalation_id, case.source, case.status) == (
        f"{ticket_id}-E1",
        EscalationSource.REPEATS,
        EscalationStatus.OPEN,
    )
    [opened] = desk.events(ticket_id, "escalation.opened")
    assert opened.subject == "helpdesk.escalation.opened"
    assert len(desk.events(ticket_id, "ticket.escalated")) == 1

    first = await send_resolution(handle, resolution(case.escalation_id))
    saves = desk.calls.count(SAVE_ESCALATION)
    again = await send_resolution(handle, resolution(case.escalation_id))  # a retry of the same request
    assert again.escalation == first.escalation
    assert (first.escalation.status, first.escalation.outcome) == (EscalationStatus.RESOLVED, "EXPLAINED")
    assert desk.calls.count(SAVE_ESCALATION) == saves  # nothing stored again
    assert desk.escalations[case.escalation_id].status == EscalationStatus.RESOLVED
    assert len(desk.events(ticket_id, "escalation.resolved")) == 1
    other = await refusal(handle, RESOLVE_ESCALATION, resolution(case.escalation_id, "req-x2"))
    assert other.type == TRANSITION_NOT_ALLOWED


async def test_a_complaint_is_compensated_by_the_hours_past_the_resolution_deadline(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)  # resolution deadline: 24 h
    complaint = OpenEscalationInput("COMPLAINT", "still down after a day", "agent-7", "req-c1")
    opened = await update(handle, OPEN_ESCALATION, complaint, EscalationResult)
    assert (opened.escalation.source, opened.escalation.status) == ("COMPLAINT", EscalationStatus.OPEN)
    retried = await update(handle, OPEN_ESCALATION, complaint, EscalationResult)
    assert retried.escalation == opened.escalation
    assert len(desk.events(view.draft.ticket_id, "escalation.opened")) == 1

    await env.sleep(timedelta(hours=26, minutes=30))
    compensated = resolution(
        opened.escalation.escalation_id, outcome="COMPENSATED", responsibility="OPS_TEAM", rule=RULE
    )
    case = (await send_resolution(handle, compensated)).escalation
    assert (case.hours_overdue, case.compensation_cents, case.rule_version) == (3, 1500, 2)


async def test_refusals_name_their_fields(env: WorkflowEnvironment, task_queue: str, desk: FakeDesk) -> None:
    handle, _ = await open_ticket(env, task_queue)
    bad_opening = await refusal(handle, OPEN_ESCALATION, OpenEscalationInput("REPEATS", "", "agent-7"))
    assert (bad_opening.type, [d["field"] for d in bad_opening.details]) == (
        INVALID_ARGUMENT,
        ["source", "note"],
    )
    complaint = OpenEscalationInput("COMPLAINT", "rude engineer", "agent-7")
    case = (await update(handle, OPEN_ESCALATION, complaint, EscalationResult)).escalation
    negative = resolution(
        case.escalation_id, outcome="COMPENSATED", responsibility="OPS_TEAM", rule=RULE, compensation_cents=-1
    )
    bad_resolution = await refusal(handle, RESOLVE_ESCALATION, negative)
    assert [d["field"] for d in bad_resolution.details] == ["compensation_cents"]
    assert desk.escalations[case.escalation_id].status == EscalationStatus.OPEN


async def test_a_closed_ticket_waits_for_its_open_case_then_its_workflow_ends(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    [work_order] = view.work_orders
    complaint = OpenEscalationInput("REFUSED_ANSWER", "wants an engineer today", "agent-7")
    case = (await update(handle, OPEN_ESCALATION, complaint, EscalationResult)).escalation
    await accept(handle, work_order.work_order_id)
    await resolve(handle, work_order.work_order_id)
    assert (await callback(handle)).status == TicketStatus.CLOSED
    await env.sleep(timedelta(days=6))  # past the survey's window and the archive's day
    assert (await handle.describe()).close_time is None  # archived, but its case is still open
    await send_resolution(handle, resolution(case.escalation_id))
    assert (await finished(env, handle)).status == TicketStatus.ARCHIVED  # its after-care done too


async def run_hotline_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHistory:
    """Four repeats open a case, an agent opens a complaint, the ticket closes, a manager resolves both."""
    handle, view = await open_ticket(env, task_queue)
    for n in range(1, 5):
        await repeat(handle, n)
    complaint = OpenEscalationInput("COMPLAINT", "rude engineer", "agent-7", "req-c1")
    await update(handle, OPEN_ESCALATION, complaint, EscalationResult)
    work_order_id = f"{view.draft.ticket_id}-W1"
    await accept(handle, work_order_id)
    await env.sleep(timedelta(hours=25, minutes=30))  # 2 started hours past the resolution deadline
    await resolve(handle, work_order_id)
    await callback(handle)
    await send_resolution(handle, resolution(f"{view.draft.ticket_id}-E1"))
    compensated = resolution(
        f"{view.draft.ticket_id}-E2", "req-x2", outcome="COMPENSATED", responsibility="OPS_TEAM", rule=RULE
    )
    assert (await send_resolution(handle, compensated)).escalation.compensation_cents == 1000
    assert (await finished(env, handle)).status == TicketStatus.ARCHIVED
    return await handle.fetch_history()


@pytest.mark.skipif(
    not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to record histories"
)
async def test_record_hotline_path(env: WorkflowEnvironment, task_queue: str, desk: FakeDesk) -> None:
    history = await run_hotline_path(env, task_queue)
    HOTLINE_HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


async def test_the_hotline_path_replays_when_run_now(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    history = await run_hotline_path(env, task_queue)
    await Replayer(workflows=[TicketWorkflow]).replay_workflow(history)
