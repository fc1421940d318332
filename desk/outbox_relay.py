"""The outbox relay: publishes the events a service queued in its outbox (:mod:`desk.outbox`) to NATS.

A service records each change's events with the change in one transaction (its outbox: intake's
ticket records, the knowledge base's entries); this relay publishes them in the order they were
queued and then forgets exactly those (a change that commits late, with an earlier position, goes in
the next batch: ``Outbox.forget``). One relay per outbox runs at a time among a desk's processes (an
advisory lock held by its own connection), so the stream keeps each ticket's order. It wakes on the
NOTIFY a change's commit sends, and polls every second anyway.

Failures, by what fixes them:
- NATS down or slow: the events wait, in order, and the relay retries with back-off; RPCs keep
  answering. A publish repeated after a crash carries the same ``Nats-Msg-Id`` (the event id), which
  JetStream drops.
- An event NATS refuses for good (over its maximum payload; an event that cannot be encoded): it is
  parked in ``<schema>.dead_letters`` with its error, logged once, and the events behind it flow on.
  For intake, `helpdesk events dead-letters` lists them and `helpdesk events retry ID` queues one again.
- PostgreSQL lost: the relay connects again with back-off (:func:`desk.loops.keep_running`) and
  the service answers NOT_SERVING meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

import asyncpg
import nats.errors
import nats.js.errors
from google.protobuf.message import EncodeError
from opentelemetry import context, propagate

from desk import metrics
from desk.event_bus import EventPublisher
from desk.loops import Backoff, Readiness, describe, keep_running
from desk.outbox import Outbox, Queued

log = logging.getLogger(__name__)

BATCH = 200
POLL_EVERY = 1.0
MAX_BACKOFF = 10.0
CLOSE_WAIT = 5.0

REFUSED_FOR_GOOD: tuple[type[Exception], ...] = (
    nats.errors.MaxPayloadError,  # the client checks the server's max_payload before sending
    nats.errors.BadSubjectError,  # a subject NATS does not take (a team id with a space, say)
    nats.errors.BadHeaderError,
    nats.js.errors.BadRequestError,  # the stream refused it (its max_msg_size, say)
    EncodeError,
    ValueError,  # an event the relay cannot decode or encode: retrying gives the same answer
    TypeError,
)
"""Publish errors no retry can fix: the event is parked so that those behind it are not held back."""

NOT_PUBLISHED_YET: tuple[type[Exception], ...] = (nats.errors.Error, OSError)  # TimeoutError is an OSError
"""NATS unreachable, restarting or slow: the event and those behind it wait and are retried, in order."""


@dataclass
class _Batch:
    queued: int
    blocked_by: Exception | None = None  # a transient error stopped the batch there


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        publisher: EventPublisher,
        readiness: Readiness,
        outbox: Outbox,
        *,
        loop_name: str,
    ) -> None:
        self._database_url = database_url
        self._publisher = publisher
        self._readiness = readiness
        self._outbox = outbox
        self._loop_name = loop_name
        self._blocked_since: float | None = None
        self._measured_at = 0.0  # when the outbox's gauges were last refreshed (monotonic)

    async def run(self) -> NoReturn:
        """Relay until cancelled; a lost database connection is opened again."""
        await keep_running(self._loop_name, self._relay, self._readiness, backoff=Backoff(most=MAX_BACKOFF))

    async def _relay(self, working: Callable[[], None]) -> None:
        conn = await asyncpg.connect(self._database_url, timeout=10)
        try:
            working()  # connected: waiting for the lock while another process relays is working too
            await conn.execute("SELECT pg_advisory_lock($1)", self._outbox.relay_lock)
            try:
                wake = asyncio.Event()
                await conn.add_listener(self._outbox.notify_channel, lambda *_: wake.set())
                await self._relay_on(conn, wake)
            finally:
                self._unmeasured()
        finally:
            await _close(conn)

    async def _relay_on(self, conn: asyncpg.Connection, wake: asyncio.Event) -> None:
        pauses = Backoff(most=MAX_BACKOFF)
        while True:
            wake.clear()
            await self._measure(conn)
            batch = await self._publish_batch(conn)
            if batch.blocked_by is not None:
                self._blocked(batch.blocked_by)
                await asyncio.sleep(pauses.next())
                continue
            self._flowing()
            pauses.reset()
            if batch.queued < BATCH:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_EVERY):
                        await wake.wait()

    async def _measure(self, conn: asyncpg.Connection) -> None:
        """Refresh the outbox's gauges (desk/metrics.py) every few seconds: the relay holding the
        outbox's lock reports it, so one process among the desk's does."""
        if time.monotonic() - self._measured_at < metrics.REFRESH_SECONDS:
            return
        self._measured_at = time.monotonic()
        count, oldest = await self._outbox.unpublished(db=conn)
        metrics.OUTBOX_EVENTS.labels(self._outbox.schema).set(count)
        metrics.set_age(metrics.OUTBOX_AGE.labels(self._outbox.schema), oldest, datetime.now(UTC))

    def _unmeasured(self) -> None:
        """Stop exporting the outbox's gauges once this relay no longer holds the lock (its connection
        lost, the process stopping): the relay that takes over reports them, and a last value left here
        would hold the alerts, which take the max across processes (deploy/prometheus/alerts.yml)."""
        self._measured_at = 0.0  # the next holding measures at once
        metrics.forget(self._outbox.schema, metrics.OUTBOX_EVENTS, metrics.OUTBOX_AGE)

    async def _publish_batch(self, conn: asyncpg.Connection) -> _Batch:
        """Publish the oldest queued events in order; forget those sent, even if a later one fails."""
        queued = await self._outbox.oldest(db=conn, limit=BATCH)
        sent: list[int] = []
        try:
            for item in queued:
                try:
                    await self._publish(item)
                except REFUSED_FOR_GOOD as error:
                    await self._park(conn, item, error)
                    continue
                except NOT_PUBLISHED_YET as error:
                    return _Batch(len(queued), blocked_by=error)
                sent.append(item.position)
        finally:
            if sent:
                await self._outbox.forget(db=conn, positions=sent)
        return _Batch(len(queued))

    async def _publish(self, item: Queued) -> None:
        token = context.attach(propagate.extract(item.trace))  # the publish joins the change's trace
        try:
            await self._publisher.publish(item.event())
        finally:
            context.detach(token)

    async def _park(self, conn: asyncpg.Connection, item: Queued, error: Exception) -> None:
        letter_id = await self._outbox.park(db=conn, position=item.position, error=describe(error))
        parked = await self._outbox.dead_letter_count(db=conn)
        log.error(
            "event at %s.outbox position %d refused by NATS for good (%s): parked as dead letter %s"
            " (%d parked in all in %s.dead_letters)",
            self._outbox.schema, item.position, describe(error), letter_id, parked, self._outbox.schema,
        )  # fmt: skip

    def _blocked(self, error: Exception) -> None:
        """Say once per outage that events wait, not at every retry."""
        if self._blocked_since is None:
            self._blocked_since = time.monotonic()
            schema = self._outbox.schema
            log.warning("%s events not published yet (%s); retrying with back-off", schema, describe(error))

    def _flowing(self) -> None:
        if self._blocked_since is not None:
            waited = time.monotonic() - self._blocked_since
            self._blocked_since = None
            log.info("%s events are published again, after %.0f s", self._outbox.schema, waited)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely if the server answers, else drop the socket (a dead server never answers)."""
    try:
        async with asyncio.timeout(CLOSE_WAIT):
            await conn.close()
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:
        conn.terminate()
