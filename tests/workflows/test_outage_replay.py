"""The outage resolution workflow's recorded history replays, and so does a resolution run now.

The history is a resolution's first run: the outage marked, two batches, then continue-as-new.
Record it again after an intended change (before v1.0.0; after it, changes go behind workflow.patched):

    RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_outage_replay.py
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.workflows.outage_fakes import FakeOutageDesk, serving_outages
from workflows.contract import ResolveOutageInput, outage_workflow_id
from workflows.outage import OutageResolutionWorkflow

HISTORY = Path(__file__).parent / "histories" / "outage" / "outage_resolution.json"


@pytest.fixture
async def outages(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[FakeOutageDesk]:
    linked = [f"TK{n:03d}" for n in range(1, 6)]
    async with serving_outages(env.client, FakeOutageDesk(linked=linked), task_queue) as fake:
        yield fake


async def run_first_run(env: WorkflowEnvironment, task_queue: str) -> WorkflowHistory:
    handle = await env.client.start_workflow(
        OutageResolutionWorkflow.run,
        ResolveOutageInput("OUT-1", "fibre spliced", "manager-1", batch_size=2, batches_per_run=2),
        id=outage_workflow_id("OUT-1"),
        task_queue=task_queue,
    )
    await handle.result()
    first = env.client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    return await first.fetch_history()


@pytest.mark.skipif(
    not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to record histories"
)
async def test_record_first_run(env: WorkflowEnvironment, task_queue: str, outages: FakeOutageDesk) -> None:
    history = await run_first_run(env, task_queue)
    HISTORY.parent.mkdir(exist_ok=True)
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


async def test_a_recorded_resolution_replays() -> None:
    history = WorkflowHistory.from_json("outage/recorded", HISTORY.read_text())
    await Replayer(workflows=[OutageResolutionWorkflow]).replay_workflow(history)


async def test_a_resolution_run_now_replays(
    env: WorkflowEnvironment, task_queue: str, outages: FakeOutageDesk
) -> None:
    history = await run_first_run(env, task_queue)
    await Replayer(workflows=[OutageResolutionWorkflow]).replay_workflow(history)
