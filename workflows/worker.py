"""The workflow worker's composition root: ticket workflows and the event-publishing activity.

It runs no SQL: workflows reach each service's schema through that service's activities, on the
service's own task queue. It does publish events, because the workflow decides them and their order.
"""

from __future__ import annotations

import logging

from desk.config import Settings
from desk.event_bus import EventPublisher, PublishActivities
from desk.process import close_runtime, make_worker, open_runtime
from workflows.contract import TASK_QUEUE
from workflows.ticket import TicketWorkflow

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    runtime = await open_runtime(settings, "worker")
    try:
        publishing = PublishActivities(EventPublisher(runtime.js))
        worker = make_worker(
            runtime, TASK_QUEUE, workflows=[TicketWorkflow], activities=[publishing.publish_events]
        )
        log.info("workflow worker polling %s", TASK_QUEUE)
        await worker.run()
    finally:
        await close_runtime(runtime)
