"""A replica's outbox relay caught mid-batch, for tests/integration/test_relay_takeover.py to kill.

Run as ``python -m tests.integration.relay_holder DATABASE_URL NATS_URL PUBLISHED``: the real relay
(:class:`desk.outbox_relay.OutboxRelay`) takes intake's outbox lock and publishes the first PUBLISHED
events of its batch to NATS for real, then its next publish never returns. It prints ``holding`` then,
so the test knows the lock is held and those events are on the stream but still in the outbox (a relay
forgets a batch's events only after publishing them), which is the state a crash leaves behind.
"""

from __future__ import annotations

import asyncio
import os
import sys

from desk.event_bus import EventPublisher, connect
from desk.events import EventSpec
from desk.loops import Readiness
from desk.outbox_relay import OutboxRelay
from services.intake.events.outbox import INTAKE_OUTBOX

HOLDING = "holding"


class PublishesThenHangs(EventPublisher):
    """Publishes ``count`` events, then hangs in the next publish, as a relay whose process froze."""

    def __init__(self, publisher: EventPublisher, count: int) -> None:
        self._publisher = publisher
        self._left = count

    async def publish(self, event: EventSpec) -> None:
        if self._left == 0:
            print(HOLDING, flush=True)
            await asyncio.Event().wait()
        await self._publisher.publish(event)
        self._left -= 1


async def hold(database_url: str, nats_url: str, published: int) -> None:
    nc = await connect(nats_url)
    publisher = PublishesThenHangs(EventPublisher(nc.jetstream()), published)
    relay = OutboxRelay(database_url, publisher, Readiness(), INTAKE_OUTBOX, loop_name="held relay")
    await relay.run()


if __name__ == "__main__":
    database_url, nats_url, published = sys.argv[1:]
    try:
        asyncio.run(hold(database_url, nats_url, int(published)))
    finally:
        sys.stdout.flush()
        os._exit(1)  # killed by the test; reaching here means the relay itself stopped
