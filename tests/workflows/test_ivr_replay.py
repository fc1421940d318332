"""The IVR call workflow's recorded histories replay, and so does a call run now (no nondeterminism).

``histories/ivr/ivr_main_path.json`` is a caller's fault report, from the number to the end of the call
(``run_main_path`` below). After
a change kept behind ``workflow.patched`` (docs/workflow-versions.md), the history recorded before it
stays beside it under a name of its own, and the main path is recorded again:

    RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_ivr_replay.py
"""

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


def recorded(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"ivr/{path.stem}", path.read_text())


@pytest.mark.parametrize("path", sorted(HISTORY.parent.glob("*.json")), ids=lambda path: path.stem)
async def test_a_recorded_call_replays(path: Path) -> None:
    await Replayer(workflows=[IvrCallWorkflow]).replay_workflow(recorded(path))


async def test_a_call_run_now_replays(env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    await Replayer(workflows=[IvrCallWorkflow]).replay_workflow(await run_main_path(env, ivr, calls))
