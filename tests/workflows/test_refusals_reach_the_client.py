"""The workflow's own refusals come back through the services' ticket client as the desk's errors,
with what they name: the bad field of an InvalidArgument, the id of a work order not found."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from desk.errors import FieldViolation, InvalidArgument, NotFound
from domain.commands import ReviewWorkOrderInput
from tests.workflows.driving import open_ticket
from tests.workflows.fakes import FakeDesk
from workflows.contract import REVIEW_WORK_ORDER, WorkOrderResult
from workflows.ticket_client import TicketWorkflows


async def test_a_review_refused_by_the_workflow_names_its_field_and_its_work_order(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    _, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    tickets = TicketWorkflows(env.client)

    no_reason = ReviewWorkOrderInput(f"{ticket_id}-W1", approve=False, team_id="", reason="", actor="senior")
    with pytest.raises(InvalidArgument) as refused:
        await tickets.update(ticket_id, REVIEW_WORK_ORDER, no_reason, WorkOrderResult)
    assert refused.value.violations == [FieldViolation("reason", "is required to reject a work order")]

    unknown = ReviewWorkOrderInput(f"{ticket_id}-W9", approve=True, team_id="", reason="", actor="senior")
    with pytest.raises(NotFound) as missing:
        await tickets.update(ticket_id, REVIEW_WORK_ORDER, unknown, WorkOrderResult)
    assert (missing.value.kind, missing.value.key) == ("work order", f"{ticket_id}-W9")
