"""Intake's event relay: publishes the events ticket workflows recorded (``intake.outbox``) to NATS.

The workflow records each change's events with the ticket in one transaction (the outbox); this
relay publishes them in the order they were queued and then forgets exactly those (a record that
commits late, with an earlier position, goes in the next batch: ``outbox.forget``). One relay runs at
a time among intake processes (an advisory lock held by its own connection), so the stream keeps
each ticket's order. It wakes on the NOTIFY a record's commit sends, and polls every second anyway.
While NATS is down the events wait, in order, and RPCs keep answering; a publish repeated after a
crash carries the same ``Nats-Msg-Id`` (the event id), which JetStream drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
import nats.errors
from opentelemetry import context, propagate

from desk.event_bus import EventPublisher
from services.intake import outbox

log = logging.getLogger(__name__)

RELAY_LOCK = 0x6865_6C72  # a fixed advisory lock number, shared by every intake process of a desk
BATCH = 200
POLL_EVERY = 1.0
MAX_BACKOFF = 10.0


class EventRelay:
    def __init__(self, database_url: str, publisher: EventPublisher) -> None:
        self._database_url = database_url
        self._publisher = publisher

    async def run(self) -> None:
        """Relay until cancelled; a lost database connection is opened again."""
        while True:
            try:
                await self._relay()
            except (asyncpg.PostgresError, OSError) as error:
                log.warning("event relay lost its database connection (%s); reconnecting", error)
                await asyncio.sleep(POLL_EVERY)

    async def _relay(self) -> None:
        conn = await asyncpg.connect(self._database_url)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", RELAY_LOCK)  # waits while another relays
            wake = asyncio.Event()
            await conn.add_listener(outbox.NOTIFY_CHANNEL, lambda *_: wake.set())
            backoff = 0.0
            while True:
                wake.clear()
                try:
                    sent = await self._publish_batch(conn)
                except (nats.errors.Error, TimeoutError, OSError) as error:
                    backoff = min(max(2 * backoff, 0.5), MAX_BACKOFF)
                    log.warning("events not published yet (%s); retrying in %.1f s", error, backoff)
                    await asyncio.sleep(backoff)
                    continue
                backoff = 0.0
                if sent < BATCH:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), POLL_EVERY)
        finally:
            await conn.close()

    async def _publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish the oldest queued events in order; forget those sent, even if a later one fails."""
        queued = await outbox.oldest(db=conn, limit=BATCH)
        sent: list[int] = []
        try:
            for item in queued:
                token = context.attach(propagate.extract(item.trace))  # the publish joins the change's trace
                try:
                    await self._publisher.publish(item.event)
                finally:
                    context.detach(token)
                sent.append(item.position)
        finally:
            if sent:
                await outbox.forget(db=conn, positions=sent)
        return len(queued)
