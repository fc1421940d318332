"""Two replicas' outbox relays (desk/outbox_relay.py) on one outbox, as `helpdesk up --replicas 2` runs them.

One holds the outbox's advisory lock and publishes; the other waits inside ``pg_advisory_lock``. When
the holder's process is killed mid-batch, some of its events on the stream but none forgotten, the
waiter takes over: every queued event reaches the stream once (JetStream drops the repeats by their
``Nats-Msg-Id``), in the order queued. A relay that loses the lock stops exporting the outbox's
gauges, so only the holder's values count in the alerts' max across processes.

Each test has a database of its own (``scratch``: advisory locks are per database, so the desk's own
relays are not in the way) and a stream of its own on the desk's NATS (the desk's consumers never see
these events).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from prometheus_client import REGISTRY

from desk import metrics
from desk.db import Executor
from desk.event_bus import DUPLICATE_WINDOW_SECONDS, EventPublisher
from desk.events import EventSpec
from desk.loops import Readiness
from desk.outbox_relay import POLL_EVERY, OutboxRelay
from helpdesk.v1 import events_pb2
from services.intake.events.outbox import INTAKE_OUTBOX
from tests.integration.relay_holder import HOLDING
from tests.stack import PROJECT_ROOT, RunningDesk

TICKETS = 3
EVENTS_EACH = 4
PUBLISHED_BEFORE_THE_CRASH = 5
TAKEOVER_WITHIN = 15.0  # seconds; the takeover itself is immediate, the rest is a loaded machine's slack


@dataclass
class OwnStream:
    js: JetStreamContext
    name: str
    subject: str

    async def messages(self) -> list[tuple[str, events_pb2.EventEnvelope]]:
        """Every message on the stream, in stream order: its Nats-Msg-Id and its envelope."""
        count = (await self.js.stream_info(self.name)).state.messages
        found = []
        for seq in range(1, count + 1):
            msg = await self.js.get_msg(self.name, seq)
            found.append(
                (
                    (msg.headers or {}).get("Nats-Msg-Id", ""),
                    events_pb2.EventEnvelope.FromString(msg.data or b""),
                )
            )
        return found


@pytest.fixture
async def stream(desk: RunningDesk) -> AsyncIterator[OwnStream]:
    """A stream of the test's own on the desk's NATS, de-duplicating by Nats-Msg-Id as the desk's does."""
    run = uuid.uuid4().hex[:8]
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    name, subject = f"RELAYTEST_{run}", f"relaytest.{run}"
    await js.add_stream(
        StreamConfig(name=name, subjects=[f"{subject}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS)
    )
    try:
        yield OwnStream(js, name, subject)
    finally:
        await js.delete_stream(name)
        await nc.close()


def database_url(desk: RunningDesk, database: str, application_name: str) -> str:
    """The scratch database's URL, naming the connection so that pg_stat_activity tells relays apart."""
    server = desk.endpoints["postgres"].rsplit("/", 1)[0]
    return f"{server}/{database}?application_name={application_name}"


def queued_events(subject: str) -> list[EventSpec]:
    """A few tickets' events, interleaved as concurrent tickets' changes queue them."""
    run = uuid.uuid4().hex[:8]
    return [
        EventSpec(
            event_id=str(uuid.uuid4()),
            type="ticket.supplemented",
            subject=f"{subject}.ticket.supplemented",
            ticket_id=f"TK-{run}-{ticket}",
            sequence=sequence,
            occurred_at=datetime.now(UTC),
            actor="test",
            payload={"text": f"supplement {sequence}"},
        )
        for sequence in range(1, EVENTS_EACH + 1)
        for ticket in range(TICKETS)
    ]


async def waiting_for_the_lock(conn: Executor, application_name: str) -> asyncpg.Record:
    """The relay's backend once it waits for the outbox's advisory lock (when it started that wait)."""
    for _ in range(200):
        row = await conn.fetchrow(
            "SELECT pid, query_start FROM pg_stat_activity"
            " WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            application_name,
        )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"{application_name} is not waiting for the outbox's lock")


async def until(conn: Executor, query: str, expected: object, *, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while (found := await conn.fetchval(query)) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{query!r} gave {found!r}, not {expected!r}, after {within:.0f} s")
        await asyncio.sleep(0.1)


async def stop(task: asyncio.Task[object]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_killed_relay_s_queued_events_reach_the_stream_once_in_order_through_the_waiting_one(
    desk: RunningDesk, scratch: asyncpg.Pool, stream: OwnStream
) -> None:
    database = await scratch.fetchval("SELECT current_database()")
    events = queued_events(stream.subject)
    async with scratch.acquire() as conn, conn.transaction():
        await INTAKE_OUTBOX.enqueue(db=conn, events=events, trace="{}")

    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.relay_holder",
        database_url(desk, database, "relay-holder"), desk.endpoints["nats"], str(PUBLISHED_BEFORE_THE_CRASH),
        cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    waiter_nc = await nats.connect(desk.endpoints["nats"])
    waiter = OutboxRelay(
        database_url(desk, database, "relay-waiter"),
        EventPublisher(waiter_nc.jetstream()),
        Readiness(),
        INTAKE_OUTBOX,
        loop_name="waiting relay",
    )
    waiting: asyncio.Task[object] | None = None
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), timeout=60)
        assert line.decode().strip() == HOLDING
        waiting = asyncio.create_task(waiter.run())
        monitor = await scratch.acquire()
        try:
            before = await waiting_for_the_lock(monitor, "relay-waiter")
            await asyncio.sleep(3 * POLL_EVERY)  # a relay polling for the lock would start a new query
            after = await waiting_for_the_lock(monitor, "relay-waiter")
            assert (after["pid"], after["query_start"]) == (before["pid"], before["query_start"])
            assert len(await stream.messages()) == PUBLISHED_BEFORE_THE_CRASH  # the holder's only
            assert await monitor.fetchval("SELECT count(*) FROM intake.outbox") == len(
                events
            )  # none forgotten

            os.kill(holder.pid, signal.SIGKILL)
            await holder.wait()
            await until(monitor, "SELECT count(*) FROM intake.outbox", 0, within=TAKEOVER_WITHIN)
        finally:
            await scratch.release(monitor)

        published = await stream.messages()
        assert [msg_id for msg_id, _ in published] == [event.event_id for event in events]  # once, in order
        assert [envelope.event_id for _, envelope in published] == [event.event_id for event in events]
        for ticket_id in {event.ticket_id for event in events}:
            sequences = [envelope.sequence for _, envelope in published if envelope.ticket_id == ticket_id]
            assert sequences == list(range(1, EVENTS_EACH + 1))
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        if waiting is not None:
            await stop(waiting)
        await waiter_nc.close()


def outbox_gauge() -> float | None:
    return REGISTRY.get_sample_value("helpdesk_outbox_unpublished_events", {"outbox": INTAKE_OUTBOX.schema})


async def until_exported() -> float | None:
    for _ in range(200):
        if (value := outbox_gauge()) is not None:
            return value
        await asyncio.sleep(0.1)
    return None


async def test_a_relay_that_loses_the_lock_stops_exporting_the_outbox_s_gauges(
    desk: RunningDesk, scratch: asyncpg.Pool
) -> None:
    database = await scratch.fetchval("SELECT current_database()")
    metrics.forget(INTAKE_OUTBOX.schema, metrics.OUTBOX_EVENTS, metrics.OUTBOX_AGE)
    exported_when_down: list[float | None] = []

    def report(loop: str, up: bool) -> None:
        if not up:  # told once the relay's connection was lost and it let go of the outbox
            exported_when_down.append(outbox_gauge())

    relay_nc = await nats.connect(desk.endpoints["nats"])
    relay = OutboxRelay(
        database_url(desk, database, "relay-losing"),
        EventPublisher(relay_nc.jetstream()),
        Readiness(report),
        INTAKE_OUTBOX,
        loop_name="losing relay",
    )
    other = await asyncpg.connect(database_url(desk, database, "relay-other"))
    running = asyncio.create_task(relay.run())
    try:
        async with scratch.acquire() as monitor:
            assert await until_exported() == 0  # the holder measures its outbox at once

            # Another replica waits for the lock, and the holder's connection dies: the other one has it.
            taking = asyncio.create_task(
                other.execute("SELECT pg_advisory_lock($1)", INTAKE_OUTBOX.relay_lock)
            )
            await waiting_for_the_lock(monitor, "relay-other")
            holder_pid = await monitor.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'relay-losing'"
            )
            assert await monitor.fetchval("SELECT pg_terminate_backend($1)", holder_pid)
            await taking

            await waiting_for_the_lock(monitor, "relay-losing")  # connected again, waiting its turn
        assert exported_when_down and set(exported_when_down) == {None}
        assert outbox_gauge() is None
        assert REGISTRY.get_sample_value("helpdesk_outbox_oldest_age_seconds", {"outbox": "intake"}) is None

        await other.execute("SELECT pg_advisory_unlock($1)", INTAKE_OUTBOX.relay_lock)
        assert await until_exported() == 0  # the lock is the relay's again: it measures again
    finally:
        await stop(running)
        await other.close()
        await relay_nc.close()
    assert outbox_gauge() is None  # stopped: nothing left behind
