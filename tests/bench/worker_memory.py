"""A workflow worker's memory per cached ticket (docs/performance.md). Not a test.

    python -m tests.bench.worker_memory [--tickets 4000] [--step 1000] [--cache 100000] [--workers 1]
                                        [--supplements 200]

Starts its own desk (`helpdesk up` in a temporary directory) with ``--workers`` workflow workers,
each caching up to ``--cache`` workflows, then opens tickets in steps of ``--step``. An opened
ticket stays open, its workflow waiting on its deadlines, so it stays in the cache of the worker
that ran it last. After each step, once the backlog has drained and the desk has settled, prints
each worker's resident memory (VmRSS). Then what an update costs on a ticket whose workflow is cached
and on one whose workflow is not (replayed from its history first): AddSupplement, one call at a
time, to the newest ``--supplements`` tickets, then to the oldest (evicted when the cache holds
fewer than all); the median latency and the workers' CPU per call.
"""

from __future__ import annotations

import argparse
import statistics
import time

import asyncpg
import psutil

from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from tests.bench.drive import DeskLoad
from tests.bench.harness import bench_desk, run
from tests.integration.desk_client import auth
from tests.stack import RunningDesk


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.worker_memory", description=__doc__)
    parser.add_argument("--tickets", type=int, default=4000, help="tickets opened in all (default 4000)")
    parser.add_argument("--step", type=int, default=1000, help="tickets between readings (default 1000)")
    parser.add_argument("--cache", type=int, default=100_000, help="max cached workflows (default 100000)")
    parser.add_argument("--workers", type=int, default=1, help="workflow workers (default 1)")
    parser.add_argument("--supplements", type=int, default=200, help="updates per group (default 200)")
    return parser.parse_args()


def _workers(desk: RunningDesk, workers: int) -> list[psutil.Process]:
    names = ["worker", *(f"worker-{n}" for n in range(2, workers + 1))]
    return [psutil.Process(desk.pid(name)) for name in names]


def _worker_rss(desk: RunningDesk, workers: int) -> list[float]:
    return [worker.memory_info().rss / 2**20 for worker in _workers(desk, workers)]


async def _tickets(desk: RunningDesk, count: int, *, newest: bool) -> list[str]:
    order = "DESC" if newest else "ASC"
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        rows = await conn.fetch(
            f"SELECT ticket_id FROM intake.tickets ORDER BY created_at {order} LIMIT $1", count
        )
    finally:
        await conn.close()
    return [row["ticket_id"] for row in rows]


async def _supplement_each(desk: RunningDesk, tickets: list[str], workers: int) -> tuple[float, float]:
    """Median latency of AddSupplement, one call at a time, and the workers' CPU per call, in ms."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    processes = _workers(desk, workers)
    cpu = sum(sum(p.cpu_times()[:2]) for p in processes)
    latencies = []
    for ticket_id in tickets:
        started = time.perf_counter()
        request = intake_pb2.AddSupplementRequest(ticket_id=ticket_id, text="more detail")
        await intake.AddSupplement(request, metadata=auth(desk.token("agent")))
        latencies.append(time.perf_counter() - started)
    cpu = sum(sum(p.cpu_times()[:2]) for p in processes) - cpu
    return statistics.median(latencies) * 1000, cpu / len(tickets) * 1000


async def _open_in_steps(desk: RunningDesk, args: argparse.Namespace) -> None:
    load = DeskLoad(desk.endpoints)
    await load.settle()
    print(f"cache {args.cache} per worker, {args.workers} worker(s); RSS in MiB")
    print(f"{0:>7} tickets  {' '.join(f'{rss:7.1f}' for rss in _worker_rss(desk, args.workers))}")
    for opened in range(args.step, args.tickets + 1, args.step):
        since = time.time()
        await load.create_phase(args.step, 32)
        await load.opened(since)
        await load.settle()
        rss = _worker_rss(desk, args.workers)
        print(f"{opened:>7} tickets  {' '.join(f'{mib:7.1f}' for mib in rss)}", flush=True)


async def _update_cached_then_evicted(desk: RunningDesk, args: argparse.Namespace) -> None:
    for newest in (True, False):  # the newest first: the oldest, loaded after them, evict others
        tickets = await _tickets(desk, args.supplements, newest=newest)
        latency, cpu = await _supplement_each(desk, tickets, args.workers)
        group = f"the {'newest' if newest else 'oldest'} {len(tickets)}"
        print(f"AddSupplement on {group}: p50 {latency:.1f} ms, workers' CPU {cpu:.1f} ms a call")


async def main(args: argparse.Namespace) -> None:
    settings = {
        "HELPDESK_MAX_CACHED_WORKFLOWS": str(args.cache),
        "HELPDESK_WORKFLOW_WORKERS": str(args.workers),
    }
    async with bench_desk(settings) as (data_dir, endpoints):
        desk = RunningDesk(endpoints, data_dir)
        await _open_in_steps(desk, args)
        await _update_cached_then_evicted(desk, args)
        await desk.close()


if __name__ == "__main__":
    run(main(_arguments()))
