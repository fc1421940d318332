"""The baseline's worker as a process of its own, started by the benchmark at the desk's workers' nice.

    python -m tests.bench.baseline_worker <temporal address> <postgres url> <nats url> [--tuned]

So the baseline meets the CPU priorities the desk's lifecycle meets (its workers run behind the
services and Temporal): run inside the benchmark's own process, at nice 0, it would be favoured.
Bare, it runs on the SDK's defaults; ``--tuned`` gives it what the desk's workflow workers have
beyond them (workflows outside the sandbox, the desk's garbage collection settings) and serves
``TUNED_TASK_QUEUE``. Runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner  # the SDK's default

from desk import db, event_bus
from desk.process import tune_garbage_collection
from tests.bench.baseline import (
    SCHEMA_SQL,
    TASK_QUEUE,
    TUNED_TASK_QUEUE,
    BaselineActivities,
    BaselineWorkflow,
)


async def serve(temporal: str, postgres: str, nats_url: str, *, tuned: bool) -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    pool = await db.create_pool(postgres)
    nc = await event_bus.connect(nats_url)
    try:
        await pool.execute(SCHEMA_SQL)
        activities = BaselineActivities(pool, event_bus.EventPublisher(nc.jetstream()))
        async with Worker(
            await Client.connect(temporal),
            task_queue=TUNED_TASK_QUEUE if tuned else TASK_QUEUE,
            workflows=[BaselineWorkflow],
            activities=[activities.persist_and_publish],
            graceful_shutdown_timeout=timedelta(seconds=5),
            workflow_runner=UnsandboxedWorkflowRunner() if tuned else SandboxedWorkflowRunner(),
        ):
            await stop.wait()
    finally:
        await nc.close()
        await pool.close()


if __name__ == "__main__":
    TUNED = "--tuned" in sys.argv[4:]
    if TUNED:
        tune_garbage_collection()
    asyncio.run(serve(*sys.argv[1:4], tuned=TUNED))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # temporalio can abort at interpreter exit (PyGILState_Release)
