"""`make bench`: N tickets over gRPC on the embedded stack, against a bare baseline on the same stack.

    python -m tests.bench [--tickets 2000] [--rate 150] [--lifecycles 500] [--concurrency 32] [--rounds 5]
                          [--stats-tickets 1000000] [--deadline-tickets 2000] [--scale-out-tickets 600]

Starts its own desk (`helpdesk up` in a temporary directory) and drives CreateTicket twice: reports
arriving at ``--rate`` a second (open loop: the latency callers see at that load), then as fast as
``--concurrency`` callers go; after each it waits until the workflows have opened every ticket.
Then full lifecycles and the baseline workflow (its worker a process at the desk's workers' nice),
bare and with the desk's worker tuning, in alternating rounds, and prints the numbers with each desk
process's resident memory. Then the statistics scenario (tests/bench/stats_kpis.py): a year of
``--stats-tickets`` tickets' roll-ups written into the desk's stats schema, GetKpis over the year and
a yearly report's totals timed. Then, on a desk of its own, deadline precision
(tests/bench/deadline_precision.py) with ``--deadline-tickets`` open: how late a quarter of them fire
their alarms (its own entry point runs 10,000). Last, the scale-out scenario (tests/bench/scale_out.py):
``--scale-out-tickets`` reports and a fifth as many lifecycles on a desk with one of everything and on
one with two of everything (two replicas, two workers, three NATS nodes), side by side, then the
latter under a NATS node's, an intake replica's and a worker's SIGKILL: lost and doubled counted.
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import Client

from deploy.processes import ChildProcess, ChildSpec
from desk.config import load_settings
from tests.bench.baseline import TASK_QUEUE, TUNED_TASK_QUEUE
from tests.bench.deadline_precision import Scenario as DeadlineScenario
from tests.bench.deadline_precision import measure as measure_deadlines
from tests.bench.drive import DeskLoad, Rounds, baseline_phase, measured
from tests.bench.harness import bench_desk, run
from tests.bench.processes import rss
from tests.bench.report import render
from tests.bench.scale_out import Scenario as ScaleOut
from tests.bench.scale_out import measure as measure_scale_out
from tests.bench.stats_kpis import measure as measure_stats
from tests.stack import PROJECT_ROOT


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000, help="CreateTicket calls (default 2000)")
    parser.add_argument("--rate", type=float, default=150.0, help="reports a second (default 150)")
    parser.add_argument(
        "--lifecycles", type=int, default=500, help="full lifecycles (default 500; 0: creates only)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (default 32)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="lifecycle and baseline rounds, alternating (default 5)"
    )
    parser.add_argument(
        "--stats-tickets",
        type=int,
        default=1_000_000,
        help="tickets in the statistics scenario's year of roll-ups (default 1,000,000; 0: skip it)",
    )
    parser.add_argument(
        "--deadline-tickets",
        type=int,
        default=2000,
        help="open tickets in the deadline-precision scenario, a quarter measured (default 2000; 0: skip it)",
    )
    parser.add_argument(
        "--scale-out-tickets",
        type=int,
        default=600,
        help="reports on a desk of one of everything and on one of two, side by side, then the"
        " second under kills (tests/bench/scale_out.py; default 600; 0: skip it)",
    )
    return parser.parse_args()


@contextlib.asynccontextmanager
async def _baseline_worker(
    endpoints: dict[str, str], data_dir: Path, *, tuned: bool
) -> AsyncIterator[Client]:
    """A baseline worker (tests/bench/baseline_worker.py) for as long as the rounds last."""
    name = "bench-baseline-tuned" if tuned else "bench-baseline"
    worker = ChildProcess(
        ChildSpec(
            name=name,
            argv=[
                sys.executable,
                *("-m", "tests.bench.baseline_worker"),
                *(endpoints["temporal"], endpoints["postgres"], endpoints["nats"]),
                *(["--tuned"] if tuned else []),
            ],
            log_path=data_dir / "logs" / f"{name}.log",
            cwd=PROJECT_ROOT,
            nice=load_settings(os.environ).worker_nice,  # as `helpdesk up` runs the desk's workers
        ),
        data_dir / "run",
    )
    await worker.start()
    try:
        client = await Client.connect(endpoints["temporal"])
        await baseline_phase(client, 1, 1, TUNED_TASK_QUEUE if tuned else TASK_QUEUE)  # once it polls
        yield client
    finally:
        await worker.stop()


async def _lifecycles_and_baseline(
    data_dir: Path, load: DeskLoad, endpoints: dict[str, str], args: argparse.Namespace
) -> Rounds:
    """Lifecycles and baseline workflows in alternating rounds, so all meet the same conditions.

    This machine's speed drifts by a fifth over minutes (a shared host), and Temporal's dev server
    gets slower as its database grows: run one after the other, whichever came second lost. Each
    round starts once the one before has settled (``DeskLoad.settle``).
    """
    rounds = Rounds()
    each = max(1, args.lifecycles // args.rounds)
    async with (
        _baseline_worker(endpoints, data_dir, tuned=False) as client,
        _baseline_worker(endpoints, data_dir, tuned=True),
    ):
        for _ in range(args.rounds):
            await load.settle()
            rounds.lifecycles.append(await measured(data_dir, load.lifecycle_phase(each, args.concurrency)))
            for queue, phases in ((TASK_QUEUE, rounds.baselines), (TUNED_TASK_QUEUE, rounds.tuned)):
                await load.settle()
                phases.append(await baseline_phase(client, each, args.concurrency, queue))
    return rounds


async def main(args: argparse.Namespace) -> None:
    async with bench_desk() as (data_dir, endpoints):
        load = DeskLoad(endpoints)
        print(
            f"desk up; {args.tickets} creates at {args.rate:.0f}/s, {args.tickets} by"
            f" {args.concurrency} callers, {args.lifecycles} lifecycles"
        )
        creates = []
        for paced in (True, False):
            since = time.time()
            create = await measured(
                data_dir,
                load.paced_create_phase(args.tickets, args.rate)
                if paced
                else load.create_phase(args.tickets, args.concurrency),
            )
            creates.append((create, await load.opened(since)))
        rounds = await _lifecycles_and_baseline(data_dir, load, endpoints, args) if args.lifecycles else None
        print(render(creates, rounds, rss(data_dir)))
        if args.stats_tickets:
            for line in await measure_stats(endpoints, tickets=args.stats_tickets, calls=5):
                print(line)
    if args.deadline_tickets:
        scenario = DeadlineScenario(
            args.deadline_tickets, args.deadline_tickets // 4, rate=None, idle_seconds=15.0, sample=100
        )
        for line in await measure_deadlines(scenario):
            print(line)
    if args.scale_out_tickets:
        scale_out = ScaleOut(args.scale_out_tickets, args.scale_out_tickets // 5, args.concurrency)
        for line in await measure_scale_out(scale_out):
            print(line)


if __name__ == "__main__":
    run(main(_arguments()))
