"""The backing-server watch: a server counts as down after misses in a row, up again at its first answer."""

from __future__ import annotations

import asyncio
import contextlib

from desk.dependencies import watch
from desk.loops import Readiness

EVERY = 0.01


class Server:
    """A probe whose server answers, refuses or hangs, as the test says."""

    def __init__(self) -> None:
        self.state = "up"
        self.probed = 0

    async def __call__(self) -> None:
        self.probed += 1
        if self.state == "refusing":
            raise ConnectionRefusedError(111, "Connection refused")
        if self.state == "hanging":
            await asyncio.Event().wait()


async def _rounds(server: Server, count: int) -> None:
    """Until the watch has probed `count` more times and acted on the answers."""
    target = server.probed + count
    for _ in range(1000):
        if server.probed >= target:
            break
        await asyncio.sleep(EVERY / 2)
    await asyncio.sleep(EVERY / 2)


async def test_a_server_is_down_after_two_misses_in_a_row_and_up_at_its_first_answer() -> None:
    readiness, postgres, nats = Readiness(), Server(), Server()
    watching = asyncio.create_task(
        watch({"postgres": postgres, "nats": nats}, readiness, every=EVERY, probe_seconds=0.05)
    )
    try:
        await _rounds(postgres, 2)
        assert readiness.serving

        postgres.state = "refusing"
        await _rounds(postgres, 1)
        assert readiness.serving, "one miss is not an outage"
        await _rounds(postgres, 1)
        assert not readiness.serving
        assert readiness.down_loops == {"postgres": "ConnectionRefusedError: [Errno 111] Connection refused"}

        postgres.state = "up"
        nats.state = "hanging"  # answers nothing: the probe's own timeout decides
        await _rounds(postgres, 3)
        assert readiness.down_loops == {"nats": "no answer within 0.05 s"}

        nats.state = "up"
        await _rounds(nats, 1)
        assert readiness.serving
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def test_the_watch_leaves_other_reasons_to_be_down_alone() -> None:
    readiness, postgres = Readiness(), Server()
    readiness.down("event relay", "connection is closed")
    watching = asyncio.create_task(watch({"postgres": postgres}, readiness, every=EVERY))
    try:
        await _rounds(postgres, 2)
        assert readiness.down_loops == {"event relay": "connection is closed"}
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
