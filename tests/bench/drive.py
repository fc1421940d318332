"""Load phases of the benchmark: each returns what it measured."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
from temporalio.client import Client

from helpdesk.v1 import dispatch_pb2, dispatch_pb2_grpc, intake_pb2_grpc, survey_pb2, survey_pb2_grpc
from tests.bench.baseline import TASK_QUEUE as BASELINE_QUEUE
from tests.bench.baseline import BaselineWorkflow
from tests.integration.desk_client import auth, report

TEAMS = ("software", "machine-room", "network", "automation")


@dataclass
class Phase:
    name: str
    count: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def _bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[None]], name: str) -> Phase:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Phase(name, count, time.perf_counter() - started, latencies)


class DeskLoad:
    def __init__(self, endpoints: dict[str, Any]) -> None:
        self._endpoints = endpoints
        self._tokens = endpoints["tokens"]
        channel = grpc.aio.insecure_channel
        self._intake = intake_pb2_grpc.IntakeServiceStub(channel(endpoints["services"]["intake"]))
        self._dispatch = dispatch_pb2_grpc.DispatchServiceStub(channel(endpoints["services"]["dispatch"]))
        self._survey = survey_pb2_grpc.SurveyServiceStub(channel(endpoints["services"]["survey"]))

    async def create(self, i: int) -> str:
        team = TEAMS[i % len(TEAMS)]
        answer = await self._intake.CreateTicket(report(category=team), metadata=auth(self._tokens["agent"]))
        work_order_id: str = answer.ticket.work_orders[0].work_order_id
        return work_order_id

    async def lifecycle(self, i: int) -> None:
        team = TEAMS[i % len(TEAMS)]
        ops = auth(self._tokens[f"ops_engineer:{team}"])
        work_order = await self.create(i)
        await self._dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order, engineer="bench"), metadata=ops
        )
        await self._dispatch.ResolveWorkOrder(
            dispatch_pb2.ResolveWorkOrderRequest(
                work_order_id=work_order, cause="c", action="a", engineer="bench"
            ),
            metadata=ops,
        )
        await self._survey.RecordCallback(
            survey_pb2.RecordCallbackRequest(
                ticket_id=work_order.rsplit("-W", 1)[0], reached=True, confirmed_resolved=True
            ),
            metadata=auth(self._tokens["surveyor"]),
        )

    async def create_phase(self, count: int, concurrency: int) -> Phase:
        async def one(i: int) -> None:
            await self.create(i)

        return await _bounded(count, concurrency, one, "CreateTicket")

    async def lifecycle_phase(self, count: int, concurrency: int) -> Phase:
        return await _bounded(count, concurrency, self.lifecycle, "lifecycle")


async def baseline_phase(client: Client, count: int, concurrency: int) -> Phase:
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        handle = await client.start_workflow(
            BaselineWorkflow.run,
            f"{run}-{i}",
            id=f"bench/{run}/{i}",
            task_queue=BASELINE_QUEUE,
            execution_timeout=timedelta(minutes=10),
        )
        await handle.signal(BaselineWorkflow.proceed)
        await handle.result()

    return await _bounded(count, concurrency, one, "baseline")
