"""The benchmark's bare baseline: the least a durable ticket lifecycle can do on the same stack.

persist + publish, wait for a signal, persist + publish, done. The desk's lifecycle is measured
against this, so the ratio shows what the desk's own logic costs on top of Temporal, SQL and NATS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

# The activities share this module with the workflow, and the sandbox re-imports a workflow's module:
# asyncpg (a C extension) re-imported inside it crashes the process, so it is passed through.
with workflow.unsafe.imports_passed_through():
    import asyncpg

    from desk.event_bus import EventPublisher
    from desk.events import EventSpec

TASK_QUEUE = "bench-baseline"
TUNED_TASK_QUEUE = "bench-baseline-tuned"
"""Served by a baseline worker with the desk's own worker tuning: no sandbox, the desk's GC settings."""
SCHEMA_SQL = (
    "CREATE TABLE IF NOT EXISTS public.bench_baseline"
    " (id text NOT NULL, step int NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (id, step))"
)


@dataclass
class StepInput:
    event: EventSpec


class BaselineActivities:
    def __init__(self, pool: asyncpg.Pool, publisher: EventPublisher) -> None:
        self._pool = pool
        self._publisher = publisher

    @activity.defn(name="bench.persist_and_publish")
    async def persist_and_publish(self, step: StepInput) -> None:
        await self._pool.execute(
            "INSERT INTO public.bench_baseline (id, step, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            step.event.ticket_id,
            step.event.sequence,
            step.event.occurred_at,
        )
        await self._publisher.publish(step.event)


@workflow.defn(name="BenchBaseline")
class BaselineWorkflow:
    def __init__(self) -> None:
        self._signalled = False

    @workflow.signal
    def proceed(self) -> None:
        self._signalled = True

    @workflow.run
    async def run(self, key: str) -> None:
        await self._step(key, 1)
        await workflow.wait_condition(lambda: self._signalled)
        await self._step(key, 2)

    async def _step(self, key: str, sequence: int) -> None:
        event = EventSpec(
            event_id=str(workflow.uuid4()),
            type="bench.step",
            subject="helpdesk.bench.step",
            ticket_id=key,
            sequence=sequence,
            occurred_at=workflow.now(),
            actor="bench",
        )
        await workflow.execute_activity(
            "bench.persist_and_publish", StepInput(event), start_to_close_timeout=timedelta(seconds=30)
        )
