"""The workload ledger: each person's handled items per day and post, built from the domain events.

The quality process reads every event through its own durable consumer ``quality``
(:class:`desk.event_consumer.DurableEventConsumer`). An event that is an item of someone's work
(:func:`services.quality.workload.ledger_item`) is applied in one transaction: its id into
``quality.applied_events`` (an id there already means applied: nothing more happens), and the item
into ``quality.items``. So a redelivered event, one published again under another ``Nats-Msg-Id``,
and a consumer re-created to read the stream from its start all count once. The other events (most:
deadlines, the teams' steps, the desk's own) touch no table: the ledger costs the database one
transaction per item, not per event.

An event that comes late, for a day already sampled, is recorded like any other: its position lies
after the run's ``ledger_position``, so the run does not change.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

import asyncpg
from nats.js import JetStreamContext

from desk.event_consumer import Delivery, DurableEventConsumer
from desk.loops import Readiness
from helpdesk.v1 import events_pb2
from services.quality import repository
from services.quality.staff import StaffRoles
from services.quality.workload import ledger_item, worker

log = logging.getLogger(__name__)

CONSUMER = "quality"


class WorkloadLedger:
    def __init__(self, pool: asyncpg.Pool, zone: tzinfo, *, staff: StaffRoles | None = None) -> None:
        self._pool = pool
        self._zone = zone  # the desk's: an item's day is its local day
        self._staff = staff or StaffRoles(pool)

    async def apply(self, envelope: events_pb2.EventEnvelope) -> int | None:
        """Apply one event once; the position of the item it added, or None (no item, or applied before)."""
        person = worker(envelope)
        roles = await self._staff.roles_of(person) if person else None
        item = ledger_item(envelope, zone=self._zone, roles=roles)
        if item is None:
            return None  # no one's work: nothing to apply, nothing to remember
        async with self._pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                "INSERT INTO quality.applied_events (event_id) VALUES ($1)"
                " ON CONFLICT DO NOTHING RETURNING true",
                envelope.event_id,
            )
            if not first_time:
                return None
            position = await repository.record_item(db=conn, item=item)
        if position is not None:
            log.debug(
                "%s: %s %s of %s on %s", envelope.event_id, item.post, item.kind, item.staff_id, item.day
            )
        return position

    async def handle(self, delivery: Delivery) -> None:
        await self.apply(delivery.envelope)

    async def reachable(self) -> None:
        """Raises while the database is away: the ledger's loop is down meanwhile."""
        await self._pool.fetchval("SELECT 1")


def ledger_consumer(
    js: JetStreamContext, ledger: WorkloadLedger, readiness: Readiness
) -> DurableEventConsumer:
    """The ledger's loop: every event of the stream (``helpdesk.>``), from its start, through ``quality``."""
    return DurableEventConsumer(
        js, CONSUMER, ledger.handle, readiness, loop_name="quality workload ledger", needs=ledger.reachable
    )
