"""``helpdesk stats rebuild``: the read model made again from the stream, into fresh tables, then swapped.

The stream ``HELPDESK`` keeps every event (desk/event_bus.py ``ensure_stream``: no age, count or size
limit), so it is the source the read model can always be made again from. The rebuild:

1. creates ``stats.rebuild_<table>`` like each read-model table (empty);
2. reads the stream from its first event up to the last one there now, through an ephemeral consumer
   of its own (the live consumer ``stats`` is left alone and keeps applying meanwhile), and applies it
   with the live code (services/stats/repository.py) in the same batches;
3. in one transaction: locks the live tables (the live consumer waits), applies what was published
   since step 2, and swaps: the live tables dropped, the fresh ones renamed in their place. The live
   consumer's waiting batch then finds its events applied (or applies them to the new tables): an
   event counts once either way.

Counting is a pure function of the events in stream order, so the rebuilt roll-ups equal the live
ones row for row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import tzinfo

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from desk.event_consumer import decode_envelope
from desk.events import STREAM, STREAM_SUBJECTS
from helpdesk.v1 import events_pb2
from services.stats import repository
from services.stats.read_model import BATCH
from services.stats.repository import READ_MODEL_TABLES, Tables

log = logging.getLogger(__name__)

FRESH = Tables("rebuild_")


@dataclass(frozen=True)
class Rebuilt:
    events: int  # read from the stream
    applied: int  # new to the fresh tables (a replayed duplicate is read but not applied)
    last_sequence: int
    seconds: float


async def rebuild(conn: asyncpg.Connection, js: JetStreamContext, zone: tzinfo) -> Rebuilt:
    """Make the read model again from the stream and swap it in; what it read and applied."""
    began = time.perf_counter()
    await fresh_tables(conn)
    first_part = await _last_sequence(js)
    read, applied = await _apply_range(conn, js, zone, after=0, until=first_part, each_in_transaction=True)
    async with conn.transaction():
        live = ", ".join(f"stats.{t}" for t in READ_MODEL_TABLES)
        await conn.execute(f"LOCK TABLE {live} IN EXCLUSIVE MODE")
        last = await _last_sequence(js)
        tail_read, tail_applied = await _apply_range(conn, js, zone, after=first_part, until=last)
        await _swap(conn)
    read, applied = read + tail_read, applied + tail_applied
    seconds = time.perf_counter() - began
    log.info("stats read model rebuilt: %d events read, %d applied, in %.1f s", read, applied, seconds)
    return Rebuilt(read, applied, last, seconds)


async def _apply_range(
    conn: asyncpg.Connection,
    js: JetStreamContext,
    zone: tzinfo,
    *,
    after: int,
    until: int,
    each_in_transaction: bool = False,
) -> tuple[int, int]:
    """Apply the stream's events (after, until] to the fresh tables; how many were read and applied."""
    read = applied = 0
    async for batch in _stream(js, after=after, until=until):
        if each_in_transaction:
            async with conn.transaction():
                applied += await repository.apply_events(conn, batch, zone, FRESH)
        else:
            applied += await repository.apply_events(conn, batch, zone, FRESH)
        read += len(batch)
    return read, applied


async def fresh_tables(conn: asyncpg.Connection | PoolConnectionProxy) -> None:
    """Empty ``stats.rebuild_<table>``s, each like its live table."""
    async with conn.transaction():
        for table in READ_MODEL_TABLES:
            await conn.execute(f"DROP TABLE IF EXISTS {getattr(FRESH, table)}")
            await conn.execute(f"CREATE TABLE {getattr(FRESH, table)} (LIKE stats.{table} INCLUDING ALL)")


async def _swap(conn: asyncpg.Connection) -> None:
    """The fresh tables take the live ones' names (and their primary keys' names)."""
    for table in READ_MODEL_TABLES:
        await conn.execute(f"DROP TABLE stats.{table}")
        await conn.execute(f"ALTER TABLE {getattr(FRESH, table)} RENAME TO {table}")
        index = await conn.fetchval(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = $1::regclass AND x.indisprimary",
            f"stats.{table}",
        )
        if index and index != f"{table}_pkey":
            await conn.execute(f'ALTER INDEX stats."{index}" RENAME TO {table}_pkey')


async def _last_sequence(js: JetStreamContext) -> int:
    info = await js.stream_info(STREAM)
    return int(info.state.last_seq)


async def _stream(
    js: JetStreamContext, *, after: int, until: int
) -> AsyncIterator[list[events_pb2.EventEnvelope]]:
    """The stream's events after sequence ``after`` up to ``until``, in batches."""
    if until <= after:
        return
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after + 1,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
        max_ack_pending=-1,
    )
    subscription = await js.pull_subscribe(STREAM_SUBJECTS[0], stream=STREAM, config=config)
    try:
        position = after
        while position < until:
            try:
                messages = await subscription.fetch(BATCH, timeout=5.0)
            except TimeoutError:  # nats-py's own, or asyncio's from fetch's second wait
                break  # nothing more (messages after `after` were deleted): what there was is all
            batch = []
            for msg in messages:
                position = msg.metadata.sequence.stream
                envelope = decode_envelope(msg)
                if position <= until and envelope is not None:
                    batch.append(envelope)
            yield batch
    finally:
        await subscription.unsubscribe()
