"""A service's outbox: events written with the change that decided them, published by a relay in order.

Each service that publishes events keeps two tables in its own schema, ``<schema>.outbox`` and
``<schema>.dead_letters`` (intake: migrations 005 and 007; knowledge: its 001), and one
:class:`Outbox` names them. Events are queued in the transaction of the change that decided them, so
an event is queued exactly when that change is recorded; the relay (:mod:`desk.outbox_relay`)
publishes and then deletes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import propagate

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json, to_json

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass
class Queued:
    position: int
    stored: str  # the event as JSON: decoded when it is published, so one bad row parks alone
    trace: dict[str, str]

    def event(self) -> EventSpec:
        return from_json(self.stored, EventSpec)


@dataclass
class DeadLetter:
    letter_id: int
    parked_at: datetime
    event_id: str
    type: str
    ticket_id: str
    size: int  # bytes of the stored event
    error: str


def trace_context() -> str:
    """The current W3C trace context as JSON: queued with the events, so their publish joins the trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier)


@dataclass(frozen=True)
class Outbox:
    """The outbox and dead letters of one schema, and the relay lock and channel that go with them."""

    schema: str
    relay_lock: int
    """An advisory lock number: one relay at a time per outbox, among all processes of a desk."""

    def __post_init__(self) -> None:
        if not _SCHEMA_NAME.fullmatch(self.schema):
            raise ValueError(f"not a plain schema name: {self.schema!r}")

    @property
    def notify_channel(self) -> str:
        """Notified when events are queued; the relay listens to it (intake.record_ticket names it too)."""
        return f"{self.schema}_outbox"

    async def enqueue(self, *, db: Executor, events: Sequence[EventSpec], trace: str) -> None:
        """Queue events in the caller's transaction, in order; the relay is woken when it commits."""
        if not events:
            return
        await db.execute(
            f"INSERT INTO {self.schema}.outbox (event, trace)"
            " SELECT e, $2::jsonb FROM unnest($1::jsonb[]) WITH ORDINALITY AS t(e, n) ORDER BY n",
            [to_json(event) for event in events],
            trace,
        )
        await db.execute("SELECT pg_notify($1, '')", self.notify_channel)

    async def oldest(self, *, db: Executor, limit: int) -> list[Queued]:
        rows = await db.fetch(
            f"SELECT position, event, trace FROM {self.schema}.outbox ORDER BY position LIMIT $1", limit
        )
        return [Queued(r["position"], r["event"], json.loads(r["trace"])) for r in rows]

    async def forget(self, *, db: Executor, positions: list[int]) -> None:
        """Forget the events published, and only those.

        Not "everything up to the last one published": positions are drawn when a change inserts its
        events, not when it commits, so a change still committing can hold a lower position than one
        the relay has just read, and become visible before the relay's delete. Such an event is
        published by the next batch. One ticket's (or entry's) events stay in order: its next change
        starts only after this one has committed, so it draws higher positions and commits later.
        """
        await db.execute(f"DELETE FROM {self.schema}.outbox WHERE position = ANY($1::bigint[])", positions)

    async def park(self, *, db: Executor, position: int, error: str) -> int | None:
        """Move a queued event NATS refused for good to the dead letters; returns its letter id."""
        letter_id: int | None = await db.fetchval(
            f"WITH parked AS (DELETE FROM {self.schema}.outbox WHERE position = $1"
            " RETURNING position, event, trace)"
            f" INSERT INTO {self.schema}.dead_letters (position, event, trace, error)"
            " SELECT position, event, trace, $2 FROM parked RETURNING letter_id",
            position,
            error,
        )
        return letter_id

    async def unpublished(self, *, db: Executor) -> tuple[int, datetime | None]:
        """How many events wait to be published, and the time of the oldest event (its occurred_at:
        the outbox keeps no time of its own; an event is queued when its change is recorded)."""
        row = await db.fetchrow(
            "SELECT count(*) AS n, min((event->>'occurred_at')::timestamptz) AS oldest"
            f" FROM {self.schema}.outbox"
        )
        assert row is not None
        return row["n"], row["oldest"]

    async def dead_letter_count(self, *, db: Executor) -> int:
        count: int = await db.fetchval(f"SELECT count(*) FROM {self.schema}.dead_letters")
        return count

    async def dead_letters(self, *, db: Executor, limit: int) -> list[DeadLetter]:
        """The parked events, oldest first."""
        rows = await db.fetch(
            "SELECT letter_id, parked_at, event->>'event_id' AS event_id, event->>'type' AS type,"
            " event->>'ticket_id' AS ticket_id, octet_length(event::text) AS size, error"
            f" FROM {self.schema}.dead_letters ORDER BY letter_id LIMIT $1",
            limit,
        )
        return [DeadLetter(**dict(r)) for r in rows]

    async def requeue(self, *, db: Executor, letter_id: int) -> int | None:
        """Send a parked event back to the outbox, behind what is queued now; returns its new position.

        Its ticket's later events may have been published meanwhile: consumers order by the event's
        sequence, which it keeps.
        """
        position: int | None = await db.fetchval(
            f"WITH back AS (DELETE FROM {self.schema}.dead_letters WHERE letter_id = $1"
            " RETURNING event, trace)"
            f" INSERT INTO {self.schema}.outbox (event, trace)"
            " SELECT event, trace FROM back RETURNING position",
            letter_id,
        )
        if position is not None:
            await db.execute("SELECT pg_notify($1, '')", self.notify_channel)
        return position
