"""The investigation of an unsatisfied survey on the time-skipping server: its deadline (1 working day
on the desk's 5x8 calendar) warned and overdue like any other, and what each finding does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.deadlines import DeadlineKind, DeadlineState, derive
from domain.surveys import SurveyStatus
from domain.ticket import TicketStatus
from domain.work_orders import DESK_TEAM_ID, DispatchKind, WorkOrderStatus
from services.dispatch.contract import ViolationSource
from tests.workflows.driving import (
    Handle,
    accept,
    callback,
    close_to,
    deadline,
    eventually,
    finished,
    investigate,
    open_ticket,
    resolve,
    review,
    sla_events,
    submit_survey,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import INVALID_ARGUMENT


async def unsatisfied(env: WorkflowEnvironment, task_queue: str) -> tuple[Handle, str]:
    handle, view = await open_ticket(env, task_queue)
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    await callback(handle)
    await submit_survey(handle, "UNSATISFIED", request_id="s1", comment="took too long")
    return handle, view.draft.ticket_id


async def test_the_investigation_deadline_warns_then_goes_overdue_against_the_desk(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, ticket_id = await unsatisfied(env, task_queue)
    due = deadline(desk.tickets[ticket_id], DeadlineKind.INVESTIGATION)
    assert (due.calendar, due.time_zone, due.team_id) == ("BUSINESS_5X8", "Asia/Shanghai", DESK_TEAM_ID)
    assert derive(due) == (due.warn_at, due.due_at)
    assert due.due_at - due.started_at >= timedelta(hours=8)  # working time only
    survey = desk.tickets[ticket_id].survey
    assert survey is not None and survey.investigation_due_at == due.due_at

    await env.sleep(due.warn_at - due.started_at + timedelta(minutes=1))
    await eventually(lambda: len(sla_events(desk, ticket_id, DeadlineKind.INVESTIGATION)) == 1)
    await env.sleep(due.due_at - due.warn_at)
    await eventually(lambda: len(sla_events(desk, ticket_id, DeadlineKind.INVESTIGATION)) == 2)

    warning, overdue = sla_events(desk, ticket_id, DeadlineKind.INVESTIGATION)
    assert (warning.type, overdue.type) == ("sla.warning", "sla.overdue")
    assert close_to(warning.occurred_at, due.warn_at) and close_to(overdue.occurred_at, due.due_at)
    [violation] = [v for v in desk.violations.values() if v.deadline_kind == "INVESTIGATION"]
    assert (violation.team_id, violation.source) == (DESK_TEAM_ID, ViolationSource.DEADLINE)
    assert desk.tickets[ticket_id].status == TicketStatus.CLOSED  # still waiting for the finding


async def test_a_service_desk_finding_is_a_violation_against_the_staff_member_then_it_is_archived(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, ticket_id = await unsatisfied(env, task_queue)
    with pytest.raises(WorkflowUpdateFailedError) as empty:
        await investigate(handle, "SERVICE_DESK", finding=" ", staff_id="")
    assert empty.value.cause.type == INVALID_ARGUMENT  # type: ignore[attr-defined]
    fields = [d["field"] for d in empty.value.cause.details]  # type: ignore[attr-defined]
    assert fields == ["finding", "staff_id"]

    found = await investigate(
        handle, "SERVICE_DESK", finding="rude on the phone", staff_id="agent-7", request_id="i1"
    )
    again = await investigate(
        handle, "SERVICE_DESK", finding="rude on the phone", staff_id="agent-7", request_id="i1"
    )

    assert (found.survey.responsibility, found.survey.staff_id) == ("SERVICE_DESK", "agent-7")
    assert deadline(found.ticket, DeadlineKind.INVESTIGATION).state == DeadlineState.MET
    [violation] = desk.violations.values()
    assert (violation.source, violation.agent_id, violation.team_id) == (
        ViolationSource.INVESTIGATION,
        "agent-7",
        DESK_TEAM_ID,
    )
    assert again.survey == found.survey and len(desk.events(ticket_id, "survey.investigated")) == 1
    assert (await finished(env, handle)).status == TicketStatus.ARCHIVED


async def test_a_disputed_not_ours_finding_opens_a_case_for_the_manager_hotline(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, ticket_id = await unsatisfied(env, task_queue)
    await investigate(handle, "NOT_OURS", finding="the customer's own router", disputed=True)
    [disputed] = desk.events(ticket_id, "survey.disputed")
    assert (disputed.reason, disputed.payload["responsibility"]) == ("the customer's own router", "NOT_OURS")
    assert not desk.violations
    [case] = desk.escalations.values()  # the dispute goes to the manager hotline's queue
    assert (case.ticket_id, case.source) == (ticket_id, "DISPUTED_INVESTIGATION")
    [opened] = desk.events(ticket_id, "escalation.opened")
    assert opened.payload["source"] == "DISPUTED_INVESTIGATION"


async def test_an_ops_team_finding_is_a_reviewed_second_dispatch_then_a_new_survey(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, ticket_id = await unsatisfied(env, task_queue)
    reopened = (await investigate(handle, "OPS_TEAM", finding="spliced badly")).ticket
    second = reopened.work_orders[-1]
    assert (reopened.status, second.status, second.dispatch_kind, second.team_id) == (
        TicketStatus.PENDING_REVIEW,
        WorkOrderStatus.PENDING_REVIEW,
        DispatchKind.SECOND_DISPATCH,
        "network",
    )
    await review(handle, second.work_order_id, approve=True, reason="agreed")
    await accept(handle, second.work_order_id)
    await resolve(handle, second.work_order_id)
    closed = await callback(handle)
    assert closed.survey is not None and (closed.survey.round, closed.survey.status) == (2, SurveyStatus.OPEN)
    answered = await submit_survey(handle, "SATISFIED", request_id="s2")
    assert answered.survey.round == 2 and desk.surveys[ticket_id, 1].rating == "UNSATISFIED"
    archived = await finished(env, handle)
    assert (archived.status, archived.second_dispatches) == (TicketStatus.ARCHIVED, 1)
