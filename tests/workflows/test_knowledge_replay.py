"""The knowledge case workflow's recorded history replays, and so does a case run now.

The history is a case whose entry was never written: proposed on a Friday afternoon, warned and
overdue on Monday, the violation recorded. Record it again after an intended change (from v1.0.0 on,
a change to its commands goes behind workflow.patched and the old history is kept):

    RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_knowledge_replay.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.knowledge.contract import KnowledgeCaseInput, case_workflow_id
from tests.workflows.clock import server_starting_at
from tests.workflows.knowledge_fakes import FakeKnowledgeDesk, serving_cases
from tests.workflows.test_knowledge_case import FRIDAY_AFTERNOON
from workflows.knowledge import KnowledgeCaseWorkflow

HISTORIES = Path(__file__).parent / "histories" / "knowledge"
HISTORY = HISTORIES / "knowledge_case_overdue.json"
"""Today's; one recorded before a patch stays beside it under a name of its own, and is replayed too."""


async def run_overdue_case(tmp_path: Path, task_queue: str) -> WorkflowHistory:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server_starting_at(FRIDAY_AFTERNOON, tmp_path))
    )
    try:
        async with serving_cases(env.client, FakeKnowledgeDesk(), task_queue):
            handle = await env.client.start_workflow(
                KnowledgeCaseWorkflow.run,
                KnowledgeCaseInput("T-HARD-1", FRIDAY_AFTERNOON, "senior-1"),
                id=case_workflow_id("T-HARD-1"),
                task_queue=task_queue,
            )
            await handle.result()
            return await handle.fetch_history()
    finally:
        await env.shutdown()


@pytest.mark.skipif(
    not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to record histories"
)
async def test_record_an_overdue_case(tmp_path: Path, task_queue: str) -> None:
    history = await run_overdue_case(tmp_path, task_queue)
    HISTORY.parent.mkdir(exist_ok=True)
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


@pytest.mark.parametrize("name", sorted(path.stem for path in HISTORIES.glob("*.json")))
async def test_every_recorded_case_replays(name: str) -> None:
    recorded = (HISTORIES / f"{name}.json").read_text()
    history = WorkflowHistory.from_json(f"knowledge/{name}", recorded)
    await Replayer(workflows=[KnowledgeCaseWorkflow]).replay_workflow(history)


async def test_a_case_run_now_replays(tmp_path: Path, task_queue: str) -> None:
    history = await run_overdue_case(tmp_path, task_queue)
    await Replayer(workflows=[KnowledgeCaseWorkflow]).replay_workflow(history)
