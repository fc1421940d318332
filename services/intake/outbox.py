"""SQL of ``intake.outbox``: events written with the ticket record, published by the relay in order.

Events are queued by the ticket's record (``repository.record_ticket``, in its transaction), so an
event is queued exactly when the change that decided it is recorded; the relay
(services/intake/relay.py) publishes and then deletes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from opentelemetry import propagate

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json

NOTIFY_CHANNEL = "intake_outbox"  # intake.record_ticket (migrations/006) notifies it by name


@dataclass
class Queued:
    position: int
    event: EventSpec
    trace: dict[str, str]


def trace_context() -> str:
    """The current W3C trace context as JSON: queued with the events, so their publish joins the trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier)


async def oldest(*, db: Executor, limit: int) -> list[Queued]:
    rows = await db.fetch(
        "SELECT position, event, trace FROM intake.outbox ORDER BY position LIMIT $1", limit
    )
    return [Queued(r["position"], from_json(r["event"], EventSpec), json.loads(r["trace"])) for r in rows]


async def forget(*, db: Executor, positions: list[int]) -> None:
    """Forget the events published, and only those.

    Not "everything up to the last one published": positions are drawn when a record inserts its
    events, not when it commits, so a record still committing can hold a lower position than one the
    relay has just read, and become visible before the relay's delete. Such an event is published by
    the next batch. A ticket's own events stay in order: its next record starts only after this one
    has committed, so it draws higher positions and commits later.
    """
    await db.execute("DELETE FROM intake.outbox WHERE position = ANY($1::bigint[])", positions)
