"""Load phases of the benchmark: each returns what it measured."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from temporalio.client import Client

from desk.grpc_channels import aio_channel
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.bench.baseline import BaselineWorkflow
from tests.bench.processes import cpu_seconds
from tests.integration.desk_client import auth, report

TEAMS = ("software", "machine-room", "network", "automation")
SETTLE_SECONDS = 2.0


@dataclass
class Phase:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float] = field(default_factory=dict)  # each desk process's share of a core meanwhile

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @classmethod
    def combined(cls, rounds: list[Phase]) -> Phase:
        """The rounds as one phase: their counts, times and latencies added, CPU shares time-weighted."""
        seconds = sum(r.seconds for r in rounds)
        names = {name for r in rounds for name in r.cpu}
        return cls(
            rounds[0].name,
            sum(r.count for r in rounds),
            seconds,
            [latency for r in rounds for latency in r.latencies],
            {name: sum(r.cpu.get(name, 0.0) * r.seconds for r in rounds) / seconds for name in names},
        )

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


@dataclass
class Rounds:
    """The alternating rounds' phases, in order: a lifecycle, then each baseline."""

    lifecycles: list[Phase] = field(default_factory=list)
    baselines: list[Phase] = field(default_factory=list)  # the bare baseline, on the SDK's defaults
    tuned: list[Phase] = field(default_factory=list)  # the baseline with the desk's worker tuning


@dataclass
class Drain:
    """Accepted tickets opened by their workflows (routed, dispatched), counted from the first report."""

    backlog: int  # still waiting when the reports stopped
    opened: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.opened / self.seconds


async def measured(data_dir: Path, phase: Awaitable[Phase]) -> Phase:
    """Run the phase; note each desk process's share of a core meanwhile."""
    before = cpu_seconds(data_dir)
    done = await phase
    after = cpu_seconds(data_dir)
    done.cpu = {name: (after[name] - before.get(name, 0.0)) / done.seconds for name in after}
    return done


async def _paced(count: int, rate: float, one: Callable[[int], Awaitable[None]], name: str) -> Phase:
    """Open loop: call i starts at i / rate seconds, however long earlier calls take.

    So a slow answer does not slow the arrivals down and hide itself (coordinated omission): the
    latencies are those of callers arriving at this rate.
    """
    latencies: list[float] = []

    async def arrive(i: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        started = time.perf_counter()
        await one(i)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(arrive(i, started + i / rate) for i in range(count)))
    return Phase(name, count, time.perf_counter() - started, latencies)


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


def service_target(endpoints: dict[str, Any], service: str) -> str:
    """The gRPC target of every replica of a service (`helpdesk up --replicas`), called round robin."""
    replicas = endpoints.get("replicas", {}).get(service) or [endpoints["services"][service]]
    return "ipv4:" + ",".join(replicas)


class DeskLoad:
    """The bench's callers: over one channel per service, to all its replicas (desk/grpc_channels.py)."""

    def __init__(self, endpoints: dict[str, Any]) -> None:
        self._endpoints = endpoints
        self._tokens = endpoints["tokens"]

        def channel(service: str) -> grpc.aio.Channel:
            return aio_channel(service_target(endpoints, service), None)

        self._intake = intake_pb2_grpc.IntakeServiceStub(channel("intake"))
        self._dispatch = dispatch_pb2_grpc.DispatchServiceStub(channel("dispatch"))
        self._survey = survey_pb2_grpc.SurveyServiceStub(channel("survey"))
        self._numbers = itertools.count()

    async def create(self, i: int, *, wait_for_routing: bool = False) -> intake_pb2.CreateTicketResponse:
        # Numbered, not random: among thousands of open tickets a random line or phone repeats one
        # now and then, and a repeat answers with another team's ticket.
        n = next(self._numbers)
        request = report(
            category=TEAMS[i % len(TEAMS)],
            fault_number=f"0219{n:07d}",
            reporter=common_pb2.Reporter(name="Bench", phone=f"1390{n:07d}"),
            wait_for_routing=wait_for_routing,
        )
        answer: intake_pb2.CreateTicketResponse = await self._intake.CreateTicket(
            request, metadata=auth(self._tokens["agent"])
        )
        return answer

    async def lifecycle(self, i: int) -> None:
        team = TEAMS[i % len(TEAMS)]
        ops = auth(self._tokens[f"ops_engineer:{team}"])
        created = await self.create(i, wait_for_routing=True)
        work_order = created.ticket.work_orders[0].work_order_id
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
        """As fast as ``concurrency`` callers go, each sending its next report when answered."""

        async def one(i: int) -> None:
            await self.create(i)

        return await _bounded(count, concurrency, one, f"CreateTicket, {concurrency} callers")

    async def paced_create_phase(self, count: int, rate: float) -> Phase:
        """Reports arriving at ``rate`` a second (the target's load)."""

        async def one(i: int) -> None:
            await self.create(i)

        return await _paced(count, rate, one, f"CreateTicket, offered {rate:.0f}/s")

    async def opened(self, since: float) -> Drain:
        """Wait until no accepted ticket is left unopened: how fast the workflows took the backlog."""
        conn = await asyncpg.connect(self._endpoints["postgres"])
        try:
            backlog = left = await conn.fetchval("SELECT count(*) FROM intake.pending_tickets")
            while left:
                await asyncio.sleep(0.2)
                left = await conn.fetchval("SELECT count(*) FROM intake.pending_tickets")
            opened = await conn.fetchval(
                "SELECT count(*) FROM intake.tickets WHERE created_at >= to_timestamp($1)", since
            )
        finally:
            await conn.close()
        return Drain(backlog=backlog, opened=opened, seconds=time.time() - since)

    async def settle(self) -> None:
        """Let the last phase's trailing work finish (events still queued for the relay, Temporal's
        close-out of finished workflows), so that it is not charged to the next phase."""
        conn = await asyncpg.connect(self._endpoints["postgres"])
        try:
            queued = await conn.fetchval("SELECT count(*) FROM intake.outbox")
            while queued:
                await asyncio.sleep(0.1)
                queued = await conn.fetchval("SELECT count(*) FROM intake.outbox")
        finally:
            await conn.close()
        await asyncio.sleep(SETTLE_SECONDS)

    async def lifecycle_phase(self, count: int, concurrency: int) -> Phase:
        return await _bounded(count, concurrency, self.lifecycle, "lifecycle")


async def baseline_phase(client: Client, count: int, concurrency: int, task_queue: str) -> Phase:
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        handle = await client.start_workflow(
            BaselineWorkflow.run,
            f"{run}-{i}",
            id=f"bench/{run}/{i}",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=10),
        )
        await handle.signal(BaselineWorkflow.proceed)
        await handle.result()

    return await _bounded(count, concurrency, one, task_queue)
