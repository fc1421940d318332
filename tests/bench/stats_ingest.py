"""How fast the statistics read model applies events:
``python -m tests.bench.stats_ingest DATABASE_URL [--nats-url NATS_URL]``.

Makes synthetic tickets with a whole life each (created, acknowledged, dispatched, warned, accepted,
resolved twice over, called back, surveyed, archived: 10 events), applies them in the consumer's
batches (services/stats/read_model.BATCH) through services/stats/repository.apply_events, one
transaction per batch as the consumer does, and prints events per second; with a NATS server of its
own, also the whole path: published on the stream, read by the durable consumer ``stats``. The
database must have the stats schema (services/stats/migrations); its tables are emptied first. Not a
timed test: a figure for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import nats.js.errors

from desk import db
from desk.event_bus import connect, ensure_stream, envelope
from desk.events import STREAM, EventSpec
from desk.loops import Readiness
from helpdesk.v1 import events_pb2
from services.stats import repository
from services.stats.read_model import BATCH, CONSUMER, ReadModel, read_model_consumer
from services.stats.repository import READ_MODEL_TABLES

T = TypeVar("T")
CHANNELS = ("PHONE", "IVR", "EMAIL", "WEB", "IM")
KINDS = ("FAULT", "SERVICE_REQUEST", "CONSULTATION", "COMPLAINT")
TEAMS = ("network", "software", "machine-room", "automation")
RATINGS = ("VERY_SATISFIED", "SATISFIED", "NEUTRAL", "UNSATISFIED")


def ticket_events(n: int, start: datetime, rng: random.Random) -> Iterator[events_pb2.EventEnvelope]:
    """One synthetic ticket's life, in order."""
    ticket_id = f"BENCH{n:09d}"
    at = start + timedelta(seconds=rng.randrange(0, 365 * 86400))
    team, wo = rng.choice(TEAMS), f"{ticket_id}-W1"
    channel = rng.choice(CHANNELS)
    created: dict[str, Any] = {
        "channel": channel,
        "kind": rng.choice(KINDS),
        "category": "broadband",
        "priority": "P3",
        "customer_tier": "VIP" if rng.random() < 0.1 else "STANDARD",
        "handling": "AUTOMATIC" if channel == "IVR" else "MANUAL",
        "record_fields_expected": ["reporter.name", "reporter.phone", "category", "summary", "region"],
        "record_fields_filled": ["reporter.name", "reporter.phone", "category", "summary"],
    }
    order = {"team_id": team, "work_order_id": wo, "dispatch_kind": "INITIAL", "dispatched_by": "amy"}
    steps: list[tuple[str, dict[str, Any], int]] = [
        ("ticket.created", created, 0),
        ("ticket.acknowledged", created, 0),
        ("dispatch.created", order, 60),
        ("sla.warning", {"team_id": team, "work_order_id": wo, "deadline": "RESPONSE"}, 1800),
        ("dispatch.accepted", order | {"engineer": "Wang"}, 2400),
        ("dispatch.resolved", order, rng.randrange(3600, 4 * 86400)),
        ("ticket.resolved", order, 1),
        ("survey.callback_recorded", {"reached": True, "outcome": "confirmed"}, 3600),
        ("survey.submitted", {"round": 1, "rating": rng.choice(RATINGS)}, 600),
        ("ticket.archived", {}, 86400),
    ]
    for sequence, (type_, payload, after) in enumerate(steps, 1):
        at += timedelta(seconds=after)
        spec = EventSpec(
            f"{ticket_id}/{sequence}", type_, f"helpdesk.{type_}", ticket_id, sequence, at, "amy", "", payload
        )
        yield envelope(spec, {})


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def interleaved(tickets: int, rng: random.Random) -> list[events_pb2.EventEnvelope]:
    """Tickets' events mixed as a stream mixes them: a few hundred tickets open at once."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lives = [list(ticket_events(n, start, rng)) for n in range(tickets)]
    stream: list[events_pb2.EventEnvelope] = []
    for window in chunks(lives, 200):
        for step in range(10):
            stream.extend(life[step] for life in window)
    return stream


async def measure_through_nats(database_url: str, nats_url: str, tickets: int) -> float:
    """The whole path: the events published on the stream, then read by the durable consumer ``stats``
    as the stats process runs it (fetches of 500, a transaction each, acks) until it caught up."""
    events = interleaved(tickets, random.Random(15))
    nc = await connect(nats_url)
    js = nc.jetstream()
    pool = await db.create_pool(database_url)
    try:
        await pool.execute(f"TRUNCATE {', '.join(f'stats.{t}' for t in READ_MODEL_TABLES)}")
        await ensure_stream(js, replicas=1)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_consumer(STREAM, CONSUMER)
        await js.purge_stream(STREAM)
        run = uuid.uuid4().hex  # message ids of this run's own: the stream's duplicate window remembers
        for chunk in chunks(events, 1000):
            acks = [
                js.publish(
                    f"helpdesk.{e.type}",
                    e.SerializeToString(),
                    headers={"Nats-Msg-Id": f"{run}/{e.event_id}"},
                )
                for e in chunk
            ]
            await asyncio.gather(*acks)
        consumer = read_model_consumer(js, ReadModel(pool, ZoneInfo("Asia/Shanghai")), Readiness())
        began = time.perf_counter()
        task = asyncio.create_task(consumer.run())
        while True:
            await asyncio.sleep(0.05)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                info = await js.consumer_info(STREAM, CONSUMER)
                if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0:
                    break
        elapsed = time.perf_counter() - began
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        applied = await pool.fetchval("SELECT count(*) FROM stats.applied_events")
    finally:
        await pool.close()
        await nc.close()
    rate = len(events) / elapsed
    print(f"through NATS: {applied} of {len(events)} events applied in {elapsed:.2f} s: {rate:,.0f} events/s")
    return rate


async def measure(database_url: str, tickets: int) -> float:
    events = interleaved(tickets, random.Random(15))
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "TRUNCATE stats.applied_events, stats.tickets, stats.daily, stats.daily_durations,"
            " stats.daily_agents"
        )
        zone = ZoneInfo("Asia/Shanghai")
        began = time.perf_counter()
        for batch in chunks(events, BATCH):
            async with conn.transaction():
                await repository.apply_events(conn, batch, zone)
        elapsed = time.perf_counter() - began
    finally:
        await conn.close()
    rate = len(events) / elapsed
    print(f"{len(events)} events of {tickets} tickets in {elapsed:.2f} s: {rate:,.0f} events/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument(
        "--nats-url", default="", help="a NATS server of its own: the stream HELPDESK is purged and refilled"
    )
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.database_url, arguments.tickets))
    if arguments.nats_url:
        asyncio.run(measure_through_nats(arguments.database_url, arguments.nats_url, arguments.tickets))


if __name__ == "__main__":
    main()
