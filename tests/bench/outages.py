"""CreateTicket with many large known outages active, against the same desk with none.

    python -m tests.bench.outages [--outages 35] [--reports 2000] [--concurrency 32]
                                  [--exchanges 1000] [--regions 1000] [--cause 2000]

Starts its own desk (`helpdesk up` in a temporary directory), sends ``--reports`` reports by
``--concurrency`` callers with no outage declared, then declares ``--outages`` outages as large as
the options say and sends as many reports again. Every other outage lists the reports' own exchange
(0219) but a category they never have, so matching a report has candidates to rule out; none
matches. Prints both phases' throughput and latency. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import grpc

from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from tests.bench.drive import DeskLoad, Phase
from tests.bench.harness import bench_desk, run
from tests.integration.desk_client import auth


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.outages", description=__doc__)
    parser.add_argument("--outages", type=int, default=35, help="outages declared (default 35)")
    parser.add_argument("--reports", type=int, default=2000, help="CreateTicket calls per phase (2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (default 32)")
    parser.add_argument("--exchanges", type=int, default=1000, help="exchanges per outage (1000)")
    parser.add_argument("--regions", type=int, default=1000, help="regions (64 characters) per outage (1000)")
    parser.add_argument("--cause", type=int, default=2000, help="characters of each cause (2000)")
    return parser.parse_args()


def large_outage(n: int, args: argparse.Namespace) -> intake_pb2.DeclareOutageRequest:
    exchanges = [f"0755{n:03d}{i:04d}" for i in range(args.exchanges)]
    if n % 2 == 0:
        exchanges[0] = "0219"  # the reports' exchange: a candidate the category rules out
    return intake_pb2.DeclareOutageRequest(
        request_id=f"bench-outage-{n}",
        cause="fibre cut " * (args.cause // 10),
        exchanges=exchanges,
        categories=["power-supply"],
        regions=[f"{n:03d}{i:04d}".ljust(64, "x") for i in range(args.regions)],
    )


async def declare(endpoints: dict[str, Any], args: argparse.Namespace) -> int:
    """Declare the outages; the bytes they take on the wire."""
    async with grpc.aio.insecure_channel(endpoints["services"]["intake"]) as channel:
        intake = intake_pb2_grpc.IntakeServiceStub(channel)
        size = 0
        for n in range(args.outages):
            request = large_outage(n, args)
            await intake.DeclareOutage(request, metadata=auth(endpoints["tokens"]["manager"]))
            size += request.ByteSize()
    return size


def line(phase: Phase) -> str:
    return (
        f"{phase.count} reports in {phase.seconds:.1f} s: {phase.per_second:.0f}/s,"
        f" p50 {phase.percentile(50) * 1000:.0f} ms, p99 {phase.percentile(99) * 1000:.0f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    async with bench_desk() as (_, endpoints):
        load = DeskLoad(endpoints)
        print(f"no outage:      {line(await load.create_phase(args.reports, args.concurrency))}")
        await load.opened(time.time())
        await load.settle()
        size = await declare(endpoints, args)
        phase = await load.create_phase(args.reports, args.concurrency)
        print(f"{args.outages} outages ({size / 2**20:.1f} MiB): {line(phase)}")


if __name__ == "__main__":
    run(main(_arguments()))
