"""The stats read model's writes: a batch of events applied once, in one transaction.

:func:`apply_events` records the batch's event ids in ``applied_events`` (one statement; those already
there are skipped: a redelivery, or the same event under another ``Nats-Msg-Id``), loads the facts of
the batch's tickets (locked), projects the new events in order (services/stats/projection.py) and
writes the facts and the summed counter changes back. :class:`Tables` names the tables written, so
``helpdesk stats rebuild`` fills fresh ones with the same code (services/stats/rebuild.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import tzinfo
from typing import Any

from desk.db import Executor
from helpdesk.v1 import events_pb2
from services.stats.projection import Changes, TicketFacts, project, ticket_of
from services.stats.rollups import AGENT_COUNTERS, DAILY_COUNTERS, DAILY_KEY

READ_MODEL_TABLES = ("applied_events", "tickets", "daily", "daily_durations", "daily_agents")
_FACT_COLUMNS = tuple(f.name for f in fields(TicketFacts))
_DURATION_KEY = ("day", "team_id", "channel", "kind", "customer_tier", "measure", "bucket")


@dataclass(frozen=True)
class Tables:
    """The read model's tables: ``stats.<name>``, or with a prefix (``rebuild_``) for a rebuild."""

    prefix: str = ""

    def __getattr__(self, name: str) -> str:
        if name in READ_MODEL_TABLES:
            return f"stats.{self.prefix}{name}"
        raise AttributeError(name)


LIVE = Tables()


async def apply_events(
    db: Executor, envelopes: Sequence[events_pb2.EventEnvelope], zone: tzinfo, tables: Tables = LIVE
) -> int:
    """Apply the events not applied before, in the given (stream) order; how many were new.

    Call it inside a transaction: the ids, the facts and the counters commit together or not at all.
    """
    ids = [str(e.event_id) for e in envelopes]
    fresh = {
        row["event_id"]
        for row in await db.fetch(
            f"INSERT INTO {tables.applied_events} (event_id) SELECT unnest($1::text[])"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            ids,
        )
    }
    new_events = []
    for envelope in envelopes:
        if envelope.event_id in fresh:
            fresh.discard(envelope.event_id)  # the same id twice in one batch: the first counts
            new_events.append(envelope)
    if not new_events:
        return 0
    ticket_ids = {ticket_of(e) for e in new_events} - {""}
    facts = await load_facts(db, sorted(ticket_ids), tables)
    changes = Changes()
    touched: set[str] = set()
    for envelope in new_events:
        ticket_id = ticket_of(envelope)
        after = project(envelope, facts.get(ticket_id), zone, changes)
        if after is not None:
            facts[ticket_id] = after
            touched.add(ticket_id)
    await save_facts(db, [facts[t] for t in sorted(touched)], tables)
    await add_counters(db, changes, tables)
    return len(new_events)


async def load_facts(
    db: Executor, ticket_ids: Sequence[str], tables: Tables = LIVE
) -> dict[str, TicketFacts]:
    rows = await db.fetch(
        f"SELECT {', '.join(_FACT_COLUMNS)} FROM {tables.tickets} WHERE ticket_id = ANY($1::text[])"
        " ORDER BY ticket_id FOR UPDATE",
        list(ticket_ids),
    )
    return {row["ticket_id"]: _facts(row) for row in rows}


def _facts(row: Any) -> TicketFacts:
    values = dict(row)
    values["deadlines"] = json.loads(values["deadlines"])
    return TicketFacts(**values)


async def save_facts(db: Executor, facts: Iterable[TicketFacts], tables: Tables = LIVE) -> None:
    rows = [(*_values(f, _FACT_COLUMNS[:-1]), json.dumps(f.deadlines, sort_keys=True)) for f in facts]
    if not rows:
        return
    columns = ", ".join(_FACT_COLUMNS)
    values = ", ".join(f"${i}" for i in range(1, len(_FACT_COLUMNS))) + f", ${len(_FACT_COLUMNS)}::jsonb"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _FACT_COLUMNS[1:])
    await db.executemany(
        f"INSERT INTO {tables.tickets} ({columns}) VALUES ({values})"
        f" ON CONFLICT (ticket_id) DO UPDATE SET {updates}",
        rows,
    )


def _upsert_adding(table: str, key: Sequence[str], counters: Sequence[str]) -> str:
    columns = (*key, *counters)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    adds = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in counters)
    return (
        f"INSERT INTO {table} AS t ({', '.join(columns)}) VALUES ({placeholders})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {adds}"
    )


async def add_counters(db: Executor, changes: Changes, tables: Tables = LIVE) -> None:
    """Add the summed changes to the roll-ups, in key order (two batches never wait on each other in a
    cycle)."""
    daily = [
        (*_values(key, DAILY_KEY), *(_number(counter, values.get(counter, 0)) for counter in DAILY_COUNTERS))
        for key, values in changes.nonzero_daily().items()
    ]
    if daily:
        await db.executemany(_upsert_adding(tables.daily, DAILY_KEY, DAILY_COUNTERS), daily)
    await _drop_emptied(db, changes, tables)
    durations = [
        (*_values(key, _DURATION_KEY), count) for key, count in sorted(changes.durations.items()) if count
    ]
    if durations:
        await db.executemany(_upsert_adding(tables.daily_durations, _DURATION_KEY, ("count",)), durations)
    agents = [
        (day, agent_id, *(values.get(c, 0) for c in AGENT_COUNTERS))
        for (day, agent_id), values in sorted(changes.agents.items())
    ]
    if agents:
        await db.executemany(_upsert_adding(tables.daily_agents, ("day", "agent_id"), AGENT_COUNTERS), agents)


async def _drop_emptied(db: Executor, changes: Changes, tables: Tables) -> None:
    """A row a ticket moved out of may be all zeros now: drop it, so the roll-ups hold the same rows
    however the events were batched (a rebuild equals the live model row for row)."""
    decreased = [
        _values(key, DAILY_KEY)
        for key, values in changes.nonzero_daily().items()
        if any(v < 0 for v in values.values())
    ]
    if not decreased:
        return
    key = " AND ".join(f"{c} = ${i}" for i, c in enumerate(DAILY_KEY, 1))
    empty = " AND ".join(f"{c} = 0" for c in DAILY_COUNTERS)
    await db.executemany(f"DELETE FROM {tables.daily} WHERE {key} AND {empty}", decreased)


def _values(record: object, names: Sequence[str]) -> tuple[Any, ...]:
    """The fields' values, as they are (dataclasses.astuple deep-copies: too slow per row)."""
    return tuple(getattr(record, name) for name in names)


def _number(counter: str, value: float) -> float | int:
    return float(value) if counter.endswith("_seconds_sum") else int(value)
