"""The IVR call workflow's recorded history replays, and so does a call run now (no nondeterminism)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.intake.ivr.calls import IvrCalls
from tests.workflows.ivr_calling import Caller, accepted
from tests.workflows.ivr_fakes import FakeIvrDesk
from workflows.contract import ivr_workflow_id
from workflows.ivr import IvrCallWorkflow

HISTORY = Path(__file__).parent / "histories" / "ivr" / "ivr_main_path.json"


async def run_main_path(env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls) -> WorkflowHistory:
    caller = Caller(calls)
    await accepted(caller)
    await caller.press("1")
    await caller.press("rec-1#")
    await caller.press("1")
    await caller.press("2")
    await caller.result(env)
    return await env.client.get_workflow_handle(ivr_workflow_id(caller.call_id)).fetch_history()


@pytest.mark.skipif(
    not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to record histories"
)
async def test_record_main_path(env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    history = await run_main_path(env, ivr, calls)
    HISTORY.parent.mkdir(exist_ok=True)
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


async def test_a_recorded_call_replays() -> None:
    """Calls last minutes, but a worker deploy may still meet one: changes go behind workflow.patched."""
    history = WorkflowHistory.from_json("ivr/recorded", HISTORY.read_text())
    await Replayer(workflows=[IvrCallWorkflow]).replay_workflow(history)


async def test_a_call_run_now_replays(env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    await Replayer(workflows=[IvrCallWorkflow]).replay_workflow(await run_main_path(env, ivr, calls))
