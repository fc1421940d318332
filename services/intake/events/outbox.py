"""SQL of ``intake.outbox``: events written with the ticket record, published by the relay in order.

Events are queued by the ticket's record (``repository.record_ticket``, in its transaction), so an
event is queued exactly when the change that decided it is recorded; the relay
(services/intake/events/relay.py) publishes and then deletes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import propagate

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json

NOTIFY_CHANNEL = "intake_outbox"  # intake.record_ticket (migrations/006) notifies it by name


@dataclass
class Queued:
    position: int
    stored: str  # the event as JSON: decoded when it is published, so one bad row parks alone
    trace: dict[str, str]

    def event(self) -> EventSpec:
        return from_json(self.stored, EventSpec)


def trace_context() -> str:
    """The current W3C trace context as JSON: queued with the events, so their publish joins the trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier)


async def oldest(*, db: Executor, limit: int) -> list[Queued]:
    rows = await db.fetch(
        "SELECT position, event, trace FROM intake.outbox ORDER BY position LIMIT $1", limit
    )
    return [Queued(r["position"], r["event"], json.loads(r["trace"])) for r in rows]


async def forget(*, db: Executor, positions: list[int]) -> None:
    """Forget the events published, and only those.

    Not "everything up to the last one published": positions are drawn when a record inserts its
    events, not when it commits, so a record still committing can hold a lower position than one the
    relay has just read, and become visible before the relay's delete. Such an event is published by
    the next batch. A ticket's own events stay in order: its next record starts only after this one
    has committed, so it draws higher positions and commits later.
    """
    await db.execute("DELETE FROM intake.outbox WHERE position = ANY($1::bigint[])", positions)


@dataclass
class DeadLetter:
    letter_id: int
    parked_at: datetime
    event_id: str
    type: str
    ticket_id: str
    size: int  # bytes of the stored event
    error: str


async def park(*, db: Executor, position: int, error: str) -> int | None:
    """Move a queued event NATS refused for good to the dead letters; returns its letter id."""
    letter_id: int | None = await db.fetchval(
        "WITH parked AS (DELETE FROM intake.outbox WHERE position = $1 RETURNING position, event, trace)"
        " INSERT INTO intake.dead_letters (position, event, trace, error)"
        " SELECT position, event, trace, $2 FROM parked RETURNING letter_id",
        position,
        error,
    )
    return letter_id


async def dead_letter_count(*, db: Executor) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM intake.dead_letters")
    return count


async def dead_letters(*, db: Executor, limit: int) -> list[DeadLetter]:
    """The parked events, oldest first."""
    rows = await db.fetch(
        "SELECT letter_id, parked_at, event->>'event_id' AS event_id, event->>'type' AS type,"
        " event->>'ticket_id' AS ticket_id, octet_length(event::text) AS size, error"
        " FROM intake.dead_letters ORDER BY letter_id LIMIT $1",
        limit,
    )
    return [DeadLetter(**dict(r)) for r in rows]


async def requeue(*, db: Executor, letter_id: int) -> int | None:
    """Send a parked event back to the outbox, behind what is queued now; returns its new position.

    Its ticket's later events may have been published meanwhile: consumers order by the event's
    per-ticket sequence, which it keeps.
    """
    position: int | None = await db.fetchval(
        "WITH back AS (DELETE FROM intake.dead_letters WHERE letter_id = $1 RETURNING event, trace)"
        " INSERT INTO intake.outbox (event, trace) SELECT event, trace FROM back RETURNING position",
        letter_id,
    )
    if position is not None:
        await db.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    return position
