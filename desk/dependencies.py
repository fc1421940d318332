"""Whether the backing servers a service needs answer now: its gRPC health follows them.

A process's loops report themselves down when an attempt fails (desk/loops.py), but a server that
hangs (stopped, a full disk, a network partition) may fail nothing for a long time: a query just never
returns. So every service process probes each backing server it needs every few seconds, cheaply and
with a short timeout: PostgreSQL ``SELECT 1`` on a connection of its own (the pool's may all be busy
with requests, which says nothing about the server), NATS a round trip (flush: PING, PONG), Temporal
its frontend's gRPC health check. After :data:`FAILURES_BEFORE_DOWN` misses in a row the server
counts as down in the process's :class:`~desk.loops.Readiness`, so the health service answers
NOT_SERVING; the first answer after brings it back to SERVING. Nothing restarts the process for it:
a restart would mend nothing while the server is away, and it reconnects on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import NoReturn

import asyncpg
from nats.aio.client import Client as NatsClient
from temporalio.client import Client as TemporalClient

from desk.loops import Readiness, describe, reraise_if_cancelled

log = logging.getLogger(__name__)

POSTGRES, TEMPORAL, NATS = "postgres", "temporal", "nats"
BACKING_SERVERS = frozenset({POSTGRES, TEMPORAL, NATS})

CHECK_EVERY_SECONDS = 2.0
CHECK_TIMEOUT_SECONDS = 3.0
FAILURES_BEFORE_DOWN = 2
"""One slow answer (a pause for garbage collection, a burst of load) is not an outage."""

Probe = Callable[[], Awaitable[None]]
"""Returns once the server answered; raises (anything) when it did not."""


class PostgresProbe:
    """``SELECT 1`` on a connection kept for the purpose, opened again after any failure."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._connection: asyncpg.Connection | None = None

    async def __call__(self) -> None:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._url, timeout=CHECK_TIMEOUT_SECONDS)
            await self._connection.fetchval("SELECT 1")
        except BaseException:
            self.close()  # a connection that failed once is not trusted again
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None


def nats_probe(nc: NatsClient) -> Probe:
    async def probe() -> None:
        if not nc.is_connected:
            raise ConnectionError("not connected to NATS (reconnecting)")
        await nc.flush(timeout=int(CHECK_TIMEOUT_SECONDS))  # typed int; the watch bounds it anyway

    return probe


def temporal_probe(client: TemporalClient) -> Probe:
    async def probe() -> None:
        timeout = timedelta(seconds=CHECK_TIMEOUT_SECONDS)
        if not await client.service_client.check_health(timeout=timeout):
            raise ConnectionError("Temporal's frontend answers that it does not serve")

    return probe


async def watch_backing_servers(
    needs: frozenset[str],
    readiness: Readiness,
    *,
    database_url: str,
    temporal: TemporalClient,
    nats: NatsClient,
) -> NoReturn:
    """Probe what the service `needs` (names of :data:`BACKING_SERVERS`) for as long as it runs."""
    postgres = PostgresProbe(database_url)
    probes: dict[str, Probe] = {
        POSTGRES: postgres,
        TEMPORAL: temporal_probe(temporal),
        NATS: nats_probe(nats),
    }
    try:
        await watch({name: probes[name] for name in sorted(needs)}, readiness)
    finally:
        postgres.close()


async def watch(
    probes: Mapping[str, Probe],
    readiness: Readiness,
    *,
    every: float = CHECK_EVERY_SECONDS,
    probe_seconds: float = CHECK_TIMEOUT_SECONDS,
    failures_before_down: int = FAILURES_BEFORE_DOWN,
) -> NoReturn:
    """Run every probe each `every` seconds, all at once; each name is down in `readiness` after
    `failures_before_down` failures in a row, up again after one success."""
    failures = dict.fromkeys(probes, 0)
    while True:
        errors = await asyncio.gather(*(_check(probe, probe_seconds) for probe in probes.values()))
        for name, error in zip(probes, errors, strict=True):
            if error is None:
                failures[name] = 0
                readiness.up(name)
                continue
            failures[name] += 1
            if failures[name] >= failures_before_down:
                readiness.down(name, error)
        await asyncio.sleep(every)


async def _check(probe: Probe, seconds: float) -> str | None:
    """None when the probe passed, else why not."""
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        reraise_if_cancelled()
        return f"no answer within {seconds:g} s"
    except Exception as error:
        reraise_if_cancelled()
        return describe(error)
    return None
