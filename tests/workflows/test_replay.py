"""Replay the committed history of the ticket workflow's main path against the current code.

A failure means the code no longer makes the decisions it made when the history was recorded, so
running tickets would break on the next worker deploy: put the change behind
``workflow.patched("<change-id>")`` instead. The history (``histories/ticket_main_path.json``) is a
ticket created with update-with-start, dispatched, accepted, warned at 80 % of its resolution
deadline, resolved, called back and closed; since the line-test patch, with its line test
(``histories/ticket_main_path_v1.json`` is the same path recorded before it), and since
``events-via-intake-outbox`` with its events left to intake's relay (``ticket_main_path_v2.json``:
recorded before, when the workflow published them itself), and since ``policy-with-route`` with the
route and its SLA policy from one dispatch activity (``ticket_main_path_v3.json``: two before), and
since ``line-test-in-opening`` with the line test intake ran before the start recorded with the
opening (``ticket_main_path_v4.json``: tested and recorded by the workflow after the opening), and
since ``one-persist-per-change`` with each change's writes in one local activity
(``ticket_main_path_v5.json``: a work order's or callback's save before the ticket's record), and
since ``one-marker-per-ticket`` with one patch marker standing for all (``ticket_main_path_v6.json``:
one marker per patch).
``histories/ticket_return_routed_on.json`` was recorded by the code before ``return-goes-to-desk``
(a return then routed the ticket on to the next team): it proves the patch keeps such tickets
replaying. Every ``histories/*.json`` is replayed, so after an
intended (patched) change keep the old history under a new name (running tickets still follow it)
and record the main path again:

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
from tests.workflows.driving import accept, callback, open_ticket, resolve
from tests.workflows.fakes import FakeDesk
from workflows import ticket_patches as patches
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
    assert (await handle.result()).status == TicketStatus.CLOSED
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
    # Each patch marker also costs Temporal a search attribute upsert: a new ticket records the newest
    # chained patch only, which stands for every patch before it.
    assert patch_markers(history) == [patches.CHAINED[-1]]


def patch_markers(history: WorkflowHistory) -> list[str]:
    markers = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    return [
        json.loads(m.details["patch-data"].payloads[0].data)["id"]
        for m in markers
        if m.marker_name == "core_patch"
    ]
