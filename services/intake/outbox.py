"""SQL of ``intake.outbox``: events written with the ticket record, published by the relay in order.

Appending happens in the record's transaction, so an event is queued exactly when the change that
decided it is recorded; the relay (services/intake/relay.py) publishes and then deletes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from opentelemetry import propagate

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json, to_json

NOTIFY_CHANNEL = "intake_outbox"


@dataclass
class Queued:
    position: int
    event: EventSpec
    trace: dict[str, str]


async def append(*, db: Executor, events: list[EventSpec]) -> None:
    """Queue the events with the current trace context; the relay is woken when the record commits."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    trace = json.dumps(carrier)
    await db.executemany(
        "INSERT INTO intake.outbox (event, trace) VALUES ($1::jsonb, $2::jsonb)",
        [(to_json(event), trace) for event in events],
    )
    await db.execute(f"NOTIFY {NOTIFY_CHANNEL}")


async def oldest(*, db: Executor, limit: int) -> list[Queued]:
    rows = await db.fetch(
        "SELECT position, event, trace FROM intake.outbox ORDER BY position LIMIT $1", limit
    )
    return [Queued(r["position"], from_json(r["event"], EventSpec), json.loads(r["trace"])) for r in rows]


async def forget_through(*, db: Executor, position: int) -> None:
    """Published up to here (only one relay runs at a time, so nothing earlier is still unsent)."""
    await db.execute("DELETE FROM intake.outbox WHERE position <= $1", position)
