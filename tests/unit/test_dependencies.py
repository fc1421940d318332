"""The backing-server watch: a server counts as down after misses in a row, up again at its first answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from desk.dependencies import watch
from desk.loops import Readiness

EVERY = 0.001
PROBE_SECONDS = 0.05


class Server:
    """A probe that answers each round as the test tells it: "up", "refusing" or "hanging"."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[str] = asyncio.Queue()
        self.probed = 0
        self._probing = asyncio.Condition()

    async def __call__(self) -> None:
        async with self._probing:
            self.probed += 1
            self._probing.notify_all()
        answer = await self.answers.get()
        if answer == "refusing":
            raise ConnectionRefusedError(111, "Connection refused")
        if answer == "hanging":
            await asyncio.Event().wait()

    async def probed_more_than(self, count: int) -> None:
        """Until the watch has begun its probe number ``count + 1``."""
        async with self._probing:
            await self._probing.wait_for(lambda: self.probed > count)


class Watch:
    """The watch over some servers, driven one round at a time (no timing: each round's answers are
    handed over, then the test waits until the watch has begun the next round, so it acted on them)."""

    def __init__(self, servers: dict[str, Server], readiness: Readiness) -> None:
        self.servers = servers
        self.readiness = readiness

    async def round(self, **answers: str) -> None:
        started = {name: server.probed for name, server in self.servers.items()}
        for name, server in self.servers.items():
            server.answers.put_nowait(answers.get(name, "up"))
        async with asyncio.timeout(5):
            for name, server in self.servers.items():
                await server.probed_more_than(started[name])


@contextlib.asynccontextmanager
async def watching(readiness: Readiness, *names: str) -> AsyncIterator[Watch]:
    servers = {name: Server() for name in names}
    task = asyncio.create_task(watch(servers, readiness, every=EVERY, probe_seconds=PROBE_SECONDS))
    try:
        async with asyncio.timeout(5):  # the first round's probes have begun
            for server in servers.values():
                await server.probed_more_than(0)
        yield Watch(servers, readiness)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_server_is_down_after_two_misses_in_a_row_and_up_at_its_first_answer() -> None:
    readiness = Readiness()
    async with watching(readiness, "postgres", "nats") as servers:
        await servers.round()
        assert readiness.serving

        await servers.round(postgres="refusing")
        assert readiness.serving, "one miss is not an outage"
        await servers.round(postgres="refusing")
        assert not readiness.serving
        assert readiness.down_loops == {"postgres": "ConnectionRefusedError: [Errno 111] Connection refused"}

        await servers.round(nats="hanging")  # answers nothing: the probe's own timeout decides
        assert readiness.down_loops == {}, "postgres is up at its first answer; nats missed once"
        await servers.round(nats="hanging")
        assert readiness.down_loops == {"nats": f"no answer within {PROBE_SECONDS:g} s"}

        await servers.round()
        assert readiness.serving


@pytest.mark.parametrize("rounds", [1, 3])
async def test_the_watch_leaves_other_reasons_to_be_down_alone(rounds: int) -> None:
    readiness = Readiness()
    readiness.down("event relay", "connection is closed")
    async with watching(readiness, "postgres") as servers:
        for _ in range(rounds):
            await servers.round()
        assert readiness.down_loops == {"event relay": "connection is closed"}
