"""The ticket workflow's outbox: events decided and persisted, waiting to be published in order.

One coroutine drains it by calling ``PUBLISH_EVENTS`` as a local activity with a retry policy that
never gives up, so a NATS outage delays events without losing any. Local, because a regular activity
per change was the dev server's largest cost (a backlog of publish tasks capped tickets at ~20/s);
an attempt is kept short so that, while NATS is down, updates wait at most one attempt: between
attempts the retry backoff is a durable timer and the workflow goes on deciding.
Events leave the outbox only once the publish succeeded; a retried publish carries the same event
ids (``Nats-Msg-Id``), which JetStream de-duplicates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from desk.events import EventSpec
    from workflows.contract import PUBLISH_EVENTS, PublishEventsInput

MAX_BATCH = 100
PUBLISH_TIMEOUT = timedelta(seconds=3)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,  # unlimited
)


class Outbox:
    def __init__(self) -> None:
        self._pending: list[EventSpec] = []

    @property
    def drained(self) -> bool:
        return not self._pending

    def add(self, events: list[EventSpec]) -> None:
        self._pending.extend(events)

    async def drain_forever(self) -> NoReturn:
        """Publish pending events in order, a batch at a time; runs until the workflow ends."""
        while True:
            await workflow.wait_condition(lambda: bool(self._pending))
            batch = self._pending[:MAX_BATCH]
            await workflow.execute_local_activity(
                PUBLISH_EVENTS,
                PublishEventsInput(events=batch),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                local_retry_threshold=timedelta(seconds=2),
                summary=f"publish {len(batch)} events",
            )
            del self._pending[: len(batch)]
