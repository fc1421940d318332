"""The outage resolution workflow (workflows/outage.py) on fakes: its batches, cursor and continue-as-new."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.outage_fakes import FakeOutageDesk, serving_outages
from workflows.contract import OutageResolved, ResolveOutageInput, outage_workflow_id
from workflows.outage import OutageResolutionWorkflow

TICKETS = [f"TK{n:03d}" for n in range(1, 8)]


@pytest.fixture
async def outages(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[FakeOutageDesk]:
    async with serving_outages(env.client, FakeOutageDesk(linked=list(TICKETS)), task_queue) as fake:
        yield fake


async def start(
    env: WorkflowEnvironment, task_queue: str, *, batch_size: int, batches_per_run: int = 100
) -> WorkflowHandle[OutageResolutionWorkflow, OutageResolved]:
    return await env.client.start_workflow(
        OutageResolutionWorkflow.run,
        ResolveOutageInput("OUT-1", "fibre spliced", "manager-1", batch_size, batches_per_run),
        id=outage_workflow_id("OUT-1"),
        task_queue=task_queue,
    )


async def test_every_linked_ticket_is_resolved_in_batches_and_a_long_list_continues_as_new(
    env: WorkflowEnvironment, task_queue: str, outages: FakeOutageDesk
) -> None:
    handle = await start(env, task_queue, batch_size=2, batches_per_run=2)
    assert await handle.result() == OutageResolved("OUT-1", len(TICKETS))
    assert [(m.outage_id, m.resolution) for m in outages.marked] == [("OUT-1", "fibre spliced")]  # once
    assert outages.asked_after == ["", "TK002", "TK004", "TK006"]
    assert outages.resolved == {ticket: "manager-1" for ticket in TICKETS}
    first_run = env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    assert (await first_run.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW  # after 2 batches


async def test_a_batch_cut_short_is_tried_again_from_its_own_cursor(
    env: WorkflowEnvironment, task_queue: str, outages: FakeOutageDesk
) -> None:
    outages.cut_short = {"TK003"}
    assert (await (await start(env, task_queue, batch_size=3)).result()).tickets == len(TICKETS)
    assert outages.asked_after == ["", "TK003", "TK003", "TK006"]  # neither skipped nor started over
    assert outages.sent == {t: 2 if t == "TK004" else 1 for t in TICKETS}  # the one sent before the cut
    assert len(outages.marked) == 1 and set(outages.resolved) == set(TICKETS)
