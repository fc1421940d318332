"""A ticket's history written under the old payload key replays after the key is rotated (issue 16.7).

The ticket's main path runs on the time-skipping server with the desk's encrypted converter under key
A; the ring is then rotated to B (A retired) and the history replays against today's code with the
rotated ring: running tickets survive a rotation and a worker restart. Without A in the ring the same
history does not replay, so the replay above really opened A's ciphertext.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from desk.payload_codec import KEY_ID_METADATA, KeyRing, encrypted_converter, key_id
from tests.workflows.conftest import server_path
from tests.workflows.fakes import FakeDesk, serving
from tests.workflows.test_replay import run_main_path
from workflows.ticket import TicketWorkflow

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


@pytest.fixture
async def env_under_key_a() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server_path(), data_converter=encrypted_converter(KEY_A)
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


async def history_under_key_a(env: WorkflowEnvironment, task_queue: str) -> WorkflowHistory:
    fake = FakeDesk(teams_by_category={"network": ["network", "software"], "software": ["software"]})
    async with serving(env.client, fake, task_queue):
        return await run_main_path(env, task_queue)


def key_ids_in(history: WorkflowHistory) -> set[str]:
    """Every payload's key id, found anywhere in the history as Temporal stores it."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            metadata = node.get("metadata")
            if isinstance(metadata, dict) and KEY_ID_METADATA in metadata:
                found.add(metadata[KEY_ID_METADATA])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(history.to_json_dict())
    return found


async def test_a_history_written_under_the_old_key_replays_after_rotation(
    env_under_key_a: WorkflowEnvironment, task_queue: str
) -> None:
    history = await history_under_key_a(env_under_key_a, task_queue)
    stored = json.dumps(history.to_json_dict())
    assert "02188881111" not in stored  # the fault number is personal data: encrypted in the history
    assert key_ids_in(history) == {base64.b64encode(key_id(KEY_A).encode()).decode()}  # JSON: base64

    rotated = KeyRing(current=KEY_A).rotated(KEY_B)
    assert rotated.current_id == key_id(KEY_B)
    await Replayer(workflows=[TicketWorkflow], data_converter=encrypted_converter(rotated)).replay_workflow(
        history
    )

    without_a = Replayer(workflows=[TicketWorkflow], data_converter=encrypted_converter(KEY_B))
    result = await without_a.replay_workflow(history, raise_on_replay_failure=False)
    # The failure's message is encrypted too (desk/payload_codec.py); its type is not.
    assert 'r#type: "PayloadKeyError"' in str(result.replay_failure)
