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


async def forget_through(*, db: Executor, position: int) -> None:
    """Published up to here (only one relay runs at a time, so nothing earlier is still unsent)."""
    await db.execute("DELETE FROM intake.outbox WHERE position <= $1", position)
