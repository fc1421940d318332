"""Long-running loops: they outlive lost connections, die on defects, and stop when told to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from grpc_health.v1 import health, health_pb2
from temporalio.service import RPCError, RPCStatusCode

from desk.loops import Backoff, Readiness, connection_lost, keep_running, reraise_if_cancelled
from desk.process import follow_readiness

QUICK = Backoff(first=0.001, most=0.001)


async def test_a_loop_that_loses_its_connection_is_down_meanwhile_and_runs_again() -> None:
    readiness = Readiness()
    attempts: list[bool] = []
    running = asyncio.Event()
    seen_down: list[dict[str, str]] = []

    async def body(working: Callable[[], None]) -> None:
        attempts.append(True)
        if len(attempts) == 1:
            working()
            raise asyncpg.InterfaceError("connection is closed")  # what killed intake's relay
        if len(attempts) == 2:
            seen_down.append(readiness.down_loops)
            raise ConnectionRefusedError(111, "Connect call failed")
        working()
        running.set()
        await asyncio.Event().wait()

    loop = asyncio.create_task(keep_running("relay", body, readiness, backoff=QUICK))
    await asyncio.wait_for(running.wait(), 5)
    assert seen_down == [{"relay": "InterfaceError: connection is closed"}]
    assert readiness.serving and len(attempts) == 3
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_a_defect_in_a_loop_ends_it_so_that_its_process_is_restarted() -> None:
    async def body(working: Callable[[], None]) -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        await keep_running("poller", body, Readiness(), backoff=QUICK)


async def test_a_cancellation_that_surfaces_as_another_error_still_stops_the_loop() -> None:
    """A client library may report its call's cancellation as its own "cancelled" status."""
    started = asyncio.Event()

    async def body(working: Callable[[], None]) -> None:
        working()
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RPCError("cancelled", RPCStatusCode.CANCELLED, b"") from None

    loop = asyncio.create_task(keep_running("opener", body, Readiness(), backoff=QUICK))
    await started.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, 5)


async def test_reraise_if_cancelled_is_quiet_in_a_task_nobody_cancels() -> None:
    reraise_if_cancelled()


def test_connection_errors_are_told_from_defects() -> None:
    assert connection_lost(asyncpg.InterfaceError("connection is closed"))
    assert connection_lost(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert connection_lost(
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    )
    assert connection_lost(ConnectionRefusedError(111, "refused"))
    assert connection_lost(RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""))
    assert not connection_lost(RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""))
    assert not connection_lost(asyncpg.UniqueViolationError("duplicate key"))
    assert not connection_lost(KeyError("x"))


async def test_the_health_service_answers_not_serving_while_a_loop_is_down() -> None:
    readiness = Readiness()
    service = health.aio.HealthServicer()
    follower = asyncio.create_task(follow_readiness(readiness, service, ["", "helpdesk.v1.IntakeService"]))

    async def status(name: str) -> int:
        await asyncio.sleep(0.05)  # the follower applies the change
        answer = await service.Check(health_pb2.HealthCheckRequest(service=name), None)
        return int(answer.status)

    readiness.down("relay", "connection is closed")
    assert await status("") == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await status("helpdesk.v1.IntakeService") == health_pb2.HealthCheckResponse.NOT_SERVING
    readiness.up("relay")
    assert await status("") == health_pb2.HealthCheckResponse.SERVING
    follower.cancel()


def test_back_off_doubles_up_to_its_ceiling_with_jitter_and_starts_over_when_reset() -> None:
    pauses = Backoff(first=1.0, most=4.0)
    for base in (1.0, 2.0, 4.0, 4.0):
        assert 0.5 * base <= pauses.next() <= 1.5 * base
    pauses.reset()
    assert 0.5 <= pauses.next() <= 1.5
