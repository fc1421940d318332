"""The statistics read model's loop: every event of the stream, through the durable consumer ``stats``.

The consumer (:class:`desk.event_consumer.DurableEventConsumer`) hands each fetch (up to
``BATCH`` events) to :meth:`ReadModel.apply_batch`, which applies it in one transaction
(:func:`services.stats.repository.apply_events`): the ids checked and recorded in one statement, the
tickets' facts and the roll-ups written once per row. A batch that fails is applied again one event
at a time. Delivery is at least once and applying is idempotent on the event id, so a redelivery, a
replay under other ``Nats-Msg-Id``s and a consumer re-created to read the stream from its start all
count once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

import asyncpg
from nats.js import JetStreamContext

from desk.event_consumer import Delivery, DurableEventConsumer
from desk.loops import Readiness
from helpdesk.v1 import events_pb2
from services.stats import repository
from services.stats.repository import LIVE, Tables

CONSUMER = "stats"
BATCH = 500
"""Events per fetch and transaction: large enough for the ingest target (5,000 events/s)."""


class ReadModel:
    def __init__(self, pool: asyncpg.Pool, zone: tzinfo, tables: Tables = LIVE) -> None:
        self._pool = pool
        self._zone = zone  # the desk's: a counter's day is the desk-local day
        self._tables = tables

    async def apply(self, envelopes: Sequence[events_pb2.EventEnvelope]) -> int:
        """Apply events (in stream order) once each, in one transaction; how many were new."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await repository.apply_events(conn, envelopes, self._zone, self._tables)

    async def apply_batch(self, deliveries: list[Delivery]) -> None:
        await self.apply([d.envelope for d in deliveries])

    async def handle(self, delivery: Delivery) -> None:
        await self.apply([delivery.envelope])

    async def reachable(self) -> None:
        """Raises while the database is away: the loop is down meanwhile."""
        await self._pool.fetchval("SELECT 1")


def read_model_consumer(js: JetStreamContext, model: ReadModel, readiness: Readiness) -> DurableEventConsumer:
    """The read model's loop: every event (``helpdesk.>``) from the stream's start, through ``stats``."""
    return DurableEventConsumer(
        js,
        CONSUMER,
        model.handle,
        readiness,
        loop_name="stats read model",
        needs=model.reachable,
        batch=BATCH,
        linger=1.0,
        batch_handler=model.apply_batch,
    )
