"""Replay the committed histories of the ticket workflow against the current code.

A failure means the code no longer makes the decisions it made when a history was recorded, so running
tickets would break on the next worker deploy. ``histories/ticket_main_path.json`` is a ticket with its
line test (run by intake's starter before the workflow starts) created with update-with-start, routed and
dispatched, accepted, warned at 80 % of its resolution deadline, resolved, called back and closed,
surveyed (satisfied) and archived the next day. The rule for changes (docs/workflow-versions.md): from
v1.0.0 on, a change that alters a running ticket's commands goes behind ``workflow.patched("<id>")``, the
history recorded before it stays here under a name of its own (every ``histories/*.json`` is replayed:
running tickets still follow it), and the main path is recorded again:

    RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_replay.py
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.ticket import TicketStatus
from services.intake.opening.line_test import SimulatedLineTester
from tests.workflows.driving import accept, callback, finished, open_ticket, resolve, submit_survey
from tests.workflows.fakes import FakeDesk
from workflows.ticket import TicketWorkflow

HISTORY = Path(__file__).parent / "histories" / "ticket_main_path.json"


async def run_main_path(env: WorkflowEnvironment, task_queue: str) -> WorkflowHistory:
    number = "02188881111"  # its line tests NORMAL, by intake's starter before the workflow starts
    tested = await SimulatedLineTester().test(number)
    handle, view = await open_ticket(env, task_queue, fault_number=number, line_test=tested)
    work_order_id = f"{view.draft.ticket_id}-W1"
    await env.sleep(timedelta(minutes=30))
    await accept(handle, work_order_id)
    await env.sleep(timedelta(hours=20))  # past the resolution warning at 19.2 h
    await resolve(handle, work_order_id)
    await env.sleep(timedelta(hours=2))
    await callback(handle)
    await env.sleep(timedelta(hours=5))
    await submit_survey(handle, "SATISFIED", request_id="survey-1")
    assert (await finished(env, handle, within=timedelta(days=2))).status == TicketStatus.ARCHIVED
    return await handle.fetch_history()


@pytest.mark.skipif(
    not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to record histories"
)
async def test_record_main_path(env: WorkflowEnvironment, task_queue: str, desk: FakeDesk) -> None:
    history = await run_main_path(env, task_queue)
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


def recorded(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"ticket/{path.stem}", path.read_text())


@pytest.mark.parametrize("path", sorted(HISTORY.parent.glob("*.json")), ids=lambda path: path.stem)
async def test_replay_recorded_history(path: Path) -> None:
    await Replayer(workflows=[TicketWorkflow]).replay_workflow(recorded(path))


async def test_main_path_replays_when_run_now(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    """The same path run against today's code replays too (no nondeterminism inside one version)."""
    history = await run_main_path(env, task_queue)
    await Replayer(workflows=[TicketWorkflow]).replay_workflow(history)
