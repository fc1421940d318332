"""The ticket workflow's outbox: events decided and persisted, waiting to be published in order.

One coroutine drains it by calling ``PUBLISH_EVENTS``: first once as a local activity (the fast path:
a regular activity per change was the dev server's largest cost, a backlog of publish tasks capped
tickets at ~20/s), and if that attempt fails, as a regular activity whose retries never give up. So a
NATS outage holds the workflow for one short attempt at most, then delays events without blocking
updates or losing any.
Events leave the outbox only once the publish succeeded; a retried publish carries the same event
ids (``Nats-Msg-Id``), which JetStream de-duplicates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from desk.event_bus import PUBLISH_EVENTS, PublishEventsInput
    from desk.events import EventSpec

MAX_BATCH = 100
FAST_ATTEMPT_TIMEOUT = timedelta(seconds=2)
PUBLISH_TIMEOUT = timedelta(seconds=30)
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
            await _publish(PublishEventsInput(events=batch))
            del self._pending[: len(batch)]


async def _publish(batch: PublishEventsInput) -> None:
    try:
        await workflow.execute_local_activity(
            PUBLISH_EVENTS,
            batch,
            start_to_close_timeout=FAST_ATTEMPT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
            summary=f"publish {len(batch.events)} events",
        )
    except (ActivityError, ApplicationError, ActivityTimeout):
        # A failed local attempt surfaces as its own error (not wrapped); fall back to retrying for good.
        await workflow.execute_activity(
            PUBLISH_EVENTS,
            batch,
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
            summary=f"publish {len(batch.events)} events (retrying)",
        )
