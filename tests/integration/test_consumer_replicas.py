"""Two replicas pulling from one durable consumer apply its events one batch after the other, in stream
order, as one process would (the statistics projection counts in that order)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import nats
import pytest
from nats.js import JetStreamContext

from desk.event_consumer import Delivery, DurableEventConsumer
from desk.events import STREAM
from desk.loops import Readiness
from helpdesk.v1 import events_pb2
from tests.stack import RunningDesk

BATCH = 5
T = TypeVar("T")


@pytest.fixture
async def js(desk: RunningDesk) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(desk.endpoints["nats"])
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


class Replica:
    """One process's consumer loop; its handler may be held inside a batch until released."""

    def __init__(self, js: JetStreamContext, durable: str, subject: str, *, hold: bool) -> None:
        self.applied: list[int] = []
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        if not hold:
            self.release.set()
        consumer = DurableEventConsumer(
            js,
            durable,
            self.handle,
            Readiness(),
            filter_subject=subject,
            batch=BATCH,
            linger=0.2,
            batch_handler=self.handle_batch,
        )
        self.task = asyncio.create_task(consumer.run())

    async def handle_batch(self, deliveries: list[Delivery]) -> None:
        self.holding.set()
        await self.release.wait()
        self.applied += [d.envelope.sequence for d in deliveries]

    async def handle(self, delivery: Delivery) -> None:
        await self.handle_batch([delivery])

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def eventually(read: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 60.0) -> T:
    for _ in range(int(within / 0.05)):
        if done(got := await read()):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within:.0f} s: {got}")


async def publish(js: JetStreamContext, subject: str, count: int) -> None:
    for sequence in range(1, count + 1):
        # A type nothing counts and no ticket: the desk's own consumers pass it by.
        envelope = events_pb2.EventEnvelope(
            event_id=str(uuid.uuid4()), type="test.replicas", sequence=sequence
        )
        await js.publish(subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": envelope.event_id})


async def test_a_second_replica_waits_while_the_first_applies_a_batch(js: JetStreamContext) -> None:
    durable, subject = f"replicas-{uuid.uuid4().hex[:8]}", f"helpdesk.test.{uuid.uuid4().hex}"
    await publish(js, subject, 2 * BATCH)
    first = Replica(js, durable, subject, hold=True)
    second: Replica | None = None
    try:
        await asyncio.wait_for(first.holding.wait(), 60)  # the first batch is out, being applied
        second = Replica(js, durable, subject, hold=False)
        info = await eventually(lambda: js.consumer_info(STREAM, durable), lambda i: i.num_waiting >= 1)
        # The second replica's fetch is in, and given nothing while the first batch is being applied.
        assert (info.num_ack_pending, info.num_pending) == (BATCH, BATCH)
        assert second.applied == []
        first.release.set()
        both = second

        async def applied() -> int:
            return len(first.applied) + len(both.applied)

        await eventually(applied, lambda n: n == 2 * BATCH)
        assert first.applied[:BATCH] == list(range(1, BATCH + 1))
        assert sorted(first.applied + second.applied) == list(range(1, 2 * BATCH + 1))
    finally:
        await first.stop()
        if second is not None:
            await second.stop()
        await js.delete_consumer(STREAM, durable)
