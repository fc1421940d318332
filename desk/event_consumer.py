"""Reading the domain events from JetStream: one event at a time, acked once handled.

Two layers, for two kinds of reader:

- :class:`EventFeed` pulls from a pull subscription, decodes each message as a
  ``helpdesk.v1.EventEnvelope``, hands it to an async handler and acks it only after the handler
  returned. A handler that raised gets the event again later (a nak with a delay that grows with the
  deliveries, so a handler failing for a while is not hammered); a message that is not an envelope is
  terminated (logged, and never delivered again). An ops team's feed (desk/team_feed.py) is one.
- :class:`DurableEventConsumer` is how a service builds its own state from the events (the quality
  ledger; the statistics service): a durable consumer of its own on the stream ``HELPDESK`` (deliver
  all, explicit ack, 30 s ack wait, no delivery limit), run as a process loop
  (:func:`desk.loops.keep_running`). NATS or PostgreSQL lost → the loop reports itself down in the
  process's :class:`~desk.loops.Readiness`, pauses with back-off and binds again; what was not acked
  comes again. A handler's other errors are the event's: it is redelivered, the others flow on.
  With a ``batch_handler`` each fetch (up to ``batch`` events) is handed over at once, for a reader
  that applies many events in one transaction (the statistics); a batch that fails is handled again
  one event at a time, so one bad event does not hold the others back.

Delivery is at least once: an event comes again after a nak, a lost ack, a crash, or when it was
published twice under different ``Nats-Msg-Id``s (a replayed stream). The handler makes its effect
idempotent, best by recording the envelope's ``event_id`` in the same transaction as the effect.

::

    async def apply(delivery: Delivery) -> None:
        async with pool.acquire() as conn, conn.transaction():
            ...  # INSERT … applied_events (event_id) ON CONFLICT DO NOTHING, then the effect

    consumer = DurableEventConsumer(runtime.js, "stats", apply, runtime.readiness)
    ServiceParts(..., background=[consumer.run])
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn, Protocol

import nats.errors
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from desk import metrics
from desk.event_bus import INHERIT_REPLICAS
from desk.events import STREAM
from desk.loops import Backoff, Readiness, connection_lost, describe, keep_running
from helpdesk.v1 import events_pb2

log = logging.getLogger(__name__)

ACK_WAIT_SECONDS = 30.0
"""How long JetStream waits for an ack before it delivers again; Delivery.still_working restarts it."""

MOST_RETRY_DELAY = 60.0
"""The longest pause before a failed event comes again."""


@dataclass(frozen=True)
class Delivery:
    """One delivered event: the decoded envelope, its subject, and how often it was delivered."""

    envelope: events_pb2.EventEnvelope
    subject: str
    delivered: int  # 1 the first time; more after a nak, an ack wait that ran out, or a lost ack
    _msg: Msg

    @property
    def event_id(self) -> str:
        return str(self.envelope.event_id)

    @property
    def type(self) -> str:
        """e.g. ticket.created, dispatch.created, review.approved, survey.submitted."""
        return str(self.envelope.type)

    async def still_working(self) -> None:
        """Restart the ack wait (30 s) for a handler that takes longer; may be called repeatedly."""
        await self._msg.in_progress()


Handler = Callable[[Delivery], Awaitable[None]]


class Fetching(Protocol):
    """What a feed pulls from: a JetStream pull subscription, or :class:`desk.team_feed.LiveSubscription`."""

    # nats-py's signature, timeout included
    async def fetch(self, batch: int = 1, timeout: float | None = 5) -> list[Msg]: ...  # noqa: ASYNC109


BatchHandler = Callable[[list[Delivery]], Awaitable[None]]
"""Handles a fetched batch at once (one transaction for many events); raising naks the batch."""


def retry_delay_after(delivered: int, *, first: float, most: float) -> float:
    """The pause before a failed event's next delivery: `first`, doubling per delivery, up to `most`."""
    return float(min(first * 2.0 ** max(delivered - 1, 0), most))


class EventFeed:
    """Pulls events, hands each to ``handler``, acks after it returned, naks with a delay if it raised.

    ``handled``, ``failures`` (handler errors, each answered with a nak) and ``terminated`` (messages
    that were no envelope) count what happened. Subclasses change what handling is by overriding
    :meth:`handle`. ``acks=False`` is for messages nobody acks (a live view of new events, from a core
    subscription): a failed or undecodable one is only logged and counted.
    """

    def __init__(
        self,
        subscription: Fetching,
        handler: Handler,
        *,
        retry_delay: float = 1.0,
        most_retry_delay: float = MOST_RETRY_DELAY,
        batch_handler: BatchHandler | None = None,
        acks: bool = True,
    ) -> None:
        self._subscription = subscription
        self._acks = acks
        self._handler = handler
        self._batch_handler = batch_handler
        self._retry_delay = retry_delay
        self._most_retry_delay = max(most_retry_delay, retry_delay)
        self.handled = 0
        self.failures = 0
        self.terminated = 0
        self.last_failure: Exception | None = None  # the latest handler error; cleared by a success

    async def poll(self, *, batch: int = 10, linger: float = 1.0) -> int:
        """One fetch: up to ``batch`` messages, waiting up to ``linger`` s for the first. Returns how many."""
        try:
            messages = await self._subscription.fetch(batch, timeout=linger)
        except TimeoutError:  # nats-py raises its own TimeoutError, or asyncio's from fetch's second wait
            return 0
        if self._batch_handler is not None and len(messages) > 1:
            await self._process_batch(messages, self._batch_handler)
            return len(messages)
        for msg in messages:
            await self._process(msg)
        return len(messages)

    async def run(self, *, batch: int = 10, linger: float = 5.0) -> NoReturn:
        """Poll until cancelled. While NATS is unreachable the client reconnects, and this waits for it."""
        while True:
            try:
                await self.poll(batch=batch, linger=linger)
            except nats.errors.Error as error:  # what was not acked comes again
                log.warning("fetching failed (%s); trying again in 1 s", error)
                await asyncio.sleep(1.0)

    async def handle(self, delivery: Delivery) -> None:
        """Handle one event; returning acks it, raising naks it."""
        await self._handler(delivery)
        self.handled += 1

    async def _process_batch(self, messages: list[Msg], batch_handler: BatchHandler) -> None:
        """Hand the whole fetch to the batch handler and ack it; if that raised, each event on its own
        (so one event that cannot be handled is redelivered alone, the others flow on)."""
        deliveries = []
        for msg in messages:
            envelope = _envelope(msg)
            if envelope is None:
                log.error("%s: not an EventEnvelope, terminated (it is not delivered again)", msg.subject)
                self.terminated += 1
                if self._acks:
                    await msg.term()
                continue
            deliveries.append(Delivery(envelope, msg.subject, _delivered(msg), msg))
        try:
            await batch_handler(deliveries)
        except Exception as error:
            log.warning("a batch of %d events failed (%s); one at a time", len(deliveries), describe(error))
            for delivery in deliveries:
                await self._process(delivery._msg)
            return
        self.handled += len(deliveries)
        self.last_failure = None
        for delivery in deliveries:
            if self._acks:
                await delivery._msg.ack()

    async def _process(self, msg: Msg) -> None:
        envelope = _envelope(msg)
        if envelope is None:
            log.error("%s: not an EventEnvelope, terminated (it is not delivered again)", msg.subject)
            self.terminated += 1
            if self._acks:
                await msg.term()
            return
        delivery = Delivery(envelope, msg.subject, _delivered(msg), msg)
        try:
            await self.handle(delivery)
        except Exception as error:
            self.failures += 1
            self.last_failure = error
            delay = retry_delay_after(
                delivery.delivered, first=self._retry_delay, most=self._most_retry_delay
            )
            log.warning(
                "%s %s: handler failed (%s), %s",
                delivery.type, delivery.event_id, describe(error),
                f"redelivered in {delay:.1f} s" if self._acks else "not delivered again",
                exc_info=not connection_lost(error),  # an outage needs no stack; a defect does
            )  # fmt: skip
            if self._acks:
                await msg.nak(delay=delay)
            return
        self.last_failure = None
        if self._acks:
            await msg.ack()


def _delivered(msg: Msg) -> int:
    """How often JetStream delivered it; 1 for a message of a core subscription (no JetStream metadata)."""
    try:
        return msg.metadata.num_delivered
    except nats.errors.NotJSMessageError:
        return 1


def decode_envelope(msg: Msg) -> events_pb2.EventEnvelope | None:
    """The message's envelope, or None when it is none (for readers of the stream of their own)."""
    return _envelope(msg)


def _envelope(msg: Msg) -> events_pb2.EventEnvelope | None:
    """The message's envelope, or None when it is none (undecodable, or without a type)."""
    try:
        envelope = events_pb2.EventEnvelope.FromString(msg.data)
    except DecodeError:
        return None
    if not envelope.type:  # protobuf decodes many byte strings (an empty one too) as an empty message
        return None
    if not envelope.event_id:  # the publisher's Nats-Msg-Id is the event id
        envelope.event_id = (msg.headers or {}).get("Nats-Msg-Id", "")
    return envelope


def durable_config(durable: str, filter_subject: str, *, batch: int) -> ConsumerConfig:
    """A service's own consumer: every event from the stream's start, each acked once handled.

    At most one fetch's events are out unacked (``max_ack_pending``): a replica's fetch waits while
    another replica's batch is being applied, so replicas pulling from one durable apply batches one
    after the other, in stream order (the statistics projection counts in that order), as one process
    does. Only a replica's death reorders: its batch comes again after the ack wait, behind nothing.
    """
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_SECONDS,
        max_deliver=-1,
        max_ack_pending=batch,
        num_replicas=INHERIT_REPLICAS,
    )


class DurableEventConsumer:
    """A service's durable consumer, run as a process loop that outlives NATS and PostgreSQL outages.

    The consumer is created (or its settings updated) each time the loop binds, so a consumer that
    was deleted is created again and reads the stream from its start: the handler's idempotency
    keeps that harmless. ``needs`` checks what the handler needs (``SELECT 1`` on its database) after
    each binding: until it answers, the loop stays down rather than taking events it cannot apply.
    """

    def __init__(
        self,
        js: JetStreamContext,
        durable: str,
        handler: Handler,
        readiness: Readiness,
        *,
        filter_subject: str = "helpdesk.>",
        loop_name: str = "",
        retry_delay: float = 1.0,
        batch: int = 50,
        linger: float = 5.0,
        needs: Callable[[], Awaitable[object]] | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self._js = js
        self._batch_handler = batch_handler
        self._needs = needs
        self._config = durable_config(durable, filter_subject, batch=batch)
        self._handler = handler
        self._readiness = readiness
        self.loop_name = loop_name or f"{durable} event consumer"
        self._retry_delay = retry_delay
        self._batch = batch
        self._linger = linger
        self.feed: EventFeed | None = None  # the current binding's, for its counts
        self._created = asyncio.Event()  # the durable consumer exists (added once at least)

    @property
    def durable(self) -> str:
        return str(self._config.durable_name)

    async def run(self) -> NoReturn:
        """Consume until cancelled; beside it, keep the consumer's gauges current (desk/metrics.py)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._watch_gauges())
            await keep_running(self.loop_name, self._consume, self._readiness, backoff=Backoff(most=10.0))

    async def _watch_gauges(self) -> None:
        # From the consumer's first creation on: a refresh before it found nothing to export, and the
        # next one is seconds away, while the process already answers as ready.
        await self._created.wait()
        await metrics.watch_consumers(self._js, lambda name: name == self.durable)()

    async def _consume(self, working: Callable[[], None]) -> None:
        try:
            await self._js.add_consumer(STREAM, self._config)
            self._created.set()
            subscription = await self._js.pull_subscribe_bind(durable=self.durable, stream=STREAM)
        except nats.errors.Error as error:
            raise _unreachable(error) from error
        feed = EventFeed(
            subscription, self._handler, retry_delay=self._retry_delay, batch_handler=self._batch_handler
        )
        self.feed = feed
        try:
            if self._needs is not None:
                await self._needs()  # the handler's database answers: only then is the loop working
            working()
            while True:
                try:
                    await feed.poll(batch=self._batch, linger=self._linger)
                except nats.errors.Error as error:  # a lost or deleted consumer: bind again
                    raise _unreachable(error) from error
                if feed.last_failure is not None and connection_lost(feed.last_failure):
                    raise feed.last_failure  # PostgreSQL (or NATS) is away: down, back-off, bind again
        finally:
            await _unsubscribe(subscription)


def _unreachable(error: nats.errors.Error) -> ConnectionError:
    """A NATS error as what it means to the loop: the consumer cannot be read now."""
    return ConnectionError(f"NATS: {describe(error)}")


async def _unsubscribe(subscription: JetStreamContext.PullSubscription) -> None:
    try:
        async with asyncio.timeout(5.0):
            await subscription.unsubscribe()
    except Exception as error:  # the connection is gone: nothing to unsubscribe from
        log.debug("unsubscribing failed: %s", describe(error))
