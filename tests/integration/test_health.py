"""Health that means something, on the real desk: a backing server out of reach turns the services that
need it NOT_SERVING and the gateway's /readyz 503, and both come back when it does.

The server is stopped with SIGSTOP (with its children: PostgreSQL's backends too), so it stays
out of reach without dying: `helpdesk up` restarts a server that exits, which would end the outage
at once. A desk of its own: the session's desk is shared by tests that would not survive this.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.stack import RunningDesk, running_desk

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
NOTICED_WITHIN = 30.0  # probes every 2 s, 3 s timeout, down after two misses: about 10 s


@pytest.fixture(scope="module")
async def own_desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningDesk]:
    async with running_desk(tmp_path_factory.mktemp("health")) as desk:
        yield desk


@contextmanager
def stopped(desk: RunningDesk, server: str) -> Iterator[None]:
    """The server and its children frozen: PostgreSQL's backends each have a session of their own, so
    they are found by parent, not by process group; the stopped postmaster forks no new one."""
    server_pid = desk.pid(server)
    family = [server_pid, *_children(server_pid)]
    for pid in family:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(family):
            os.kill(pid, signal.SIGCONT)


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


async def _status(desk: RunningDesk, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(desk.channel(service))
    answer = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    return int(answer.status)


async def _until(desk: RunningDesk, service: str, wanted: int) -> None:
    for _ in range(int(NOTICED_WITHIN / 0.5)):
        if await _status(desk, service) == wanted:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"{service} does not answer {health_pb2.HealthCheckResponse.ServingStatus.Name(wanted)}"
    )


async def _readyz(desk: RunningDesk) -> httpx.Response:
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=10) as http:
        return await http.get("/readyz")


async def test_a_stopped_postgres_turns_the_services_not_serving_and_back(own_desk: RunningDesk) -> None:
    desk = own_desk
    assert (await _readyz(desk)).status_code == 200
    pids = {name: desk.pid(name) for name in ("intake", "http")}
    with stopped(desk, "postgres"):
        await _until(desk, "intake", NOT_SERVING)
        not_ready = await _readyz(desk)
        assert not_ready.status_code == 503
        assert "intake" in not_ready.json()["down"]
        assert not_ready.json()["services"]["intake"] == "NOT_SERVING"
        async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200  # alive: nothing to restart
    await _until(desk, "intake", SERVING)
    for _ in range(int(NOTICED_WITHIN / 0.5)):
        if (ready := await _readyz(desk)).status_code == 200:
            break
        await asyncio.sleep(0.5)
    assert ready.status_code == 200, ready.text
    assert {name: desk.pid(name) for name in pids} == pids  # nobody was restarted for it


async def test_a_stopped_temporal_turns_dispatch_not_serving_while_intake_keeps_accepting(
    own_desk: RunningDesk,
) -> None:
    desk = own_desk
    with stopped(desk, "temporal"):
        await _until(desk, "dispatch", NOT_SERVING)
        assert await _status(desk, "intake") == SERVING  # reports wait in its backlog meanwhile
    await _until(desk, "dispatch", SERVING)
