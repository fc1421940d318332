"""The workload ledger through a crash: the quality process is SIGKILLed while it applies a burst of
events, the desk starts it again, and every item is in the ledger exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import nats

from desk.event_bus import envelope
from desk.events import EventSpec
from tests.stack import RunningDesk

BURST = 2000
MONDAY_MORNING = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _recorded(run: str, n: int) -> EventSpec:
    ticket_id = f"QC{run}{n:05d}"
    return EventSpec(
        event_id=f"{ticket_id}/created",
        type="ticket.created",
        subject="helpdesk.ticket.created",
        ticket_id=ticket_id,
        sequence=1,
        occurred_at=MONDAY_MORNING + timedelta(seconds=n),
        actor=f"crash-agent-{n % 7}",
        payload={"channel": "PHONE"},
    )


async def _items(db: asyncpg.Pool, run: str) -> tuple[int, int]:
    row = await db.fetchrow(
        "SELECT count(*) AS items, count(DISTINCT item_id) AS distinct_items FROM quality.items"
        " WHERE ticket_id LIKE $1",
        f"QC{run}%",
    )
    assert row is not None
    return row["items"], row["distinct_items"]


async def _until_applied(db: asyncpg.Pool, run: str, count: int, *, within: float = 30.0) -> None:
    for _ in range(int(within / 0.02)):
        if (await _items(db, run))[0] >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{(await _items(db, run))[0]} of {count} items in the ledger after {within:.0f} s")


async def test_a_killed_quality_process_loses_no_event_and_counts_none_twice(desk: RunningDesk) -> None:
    run = uuid.uuid4().hex[:6].upper()
    client = await nats.connect(desk.endpoints["nats"])
    db = await asyncpg.create_pool(desk.endpoints["postgres"], min_size=1, max_size=2)
    try:
        js = client.jetstream()
        for n in range(BURST):
            event = _recorded(run, n)
            body = envelope(event, {}).SerializeToString()
            await js.publish(event.subject, body, headers={"Nats-Msg-Id": event.event_id})
        await _until_applied(db, run, 100)
        pid = desk.pid("quality")
        os.kill(pid, signal.SIGKILL)
        applied_before_the_crash = (await _items(db, run))[0]
        assert applied_before_the_crash < BURST, (
            "the burst was applied before the kill: the test proves nothing"
        )
        await desk.restarted("quality", pid, within=30)
        await _until_applied(db, run, BURST, within=60)
        assert await _items(db, run) == (BURST, BURST)
        applied = await db.fetchval(
            "SELECT count(*) FROM quality.applied_events WHERE event_id LIKE $1", f"QC{run}%"
        )
        assert applied == BURST
    finally:
        await db.close()
        await client.close()
