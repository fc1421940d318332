"""CreateTicket by different numbers of callers, in alternating rounds, with every process's CPU.

    python -m tests.bench.callers [--callers 32,50] [--rounds 2] [--reports 3000]

Starts its own desk (`helpdesk up` in a temporary directory) and, for each round, sends
``--reports`` reports with each number of callers in turn (each caller sends its next report when
answered), waiting after each until the workflows have opened them all. Prints throughput, latency
and each process's share of a core, this load generator's included, so a rise in latency can be
told apart from a lack of CPU. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import time

from tests.bench.drive import DeskLoad, Phase, measured
from tests.bench.harness import bench_desk, run


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.callers", description=__doc__)
    parser.add_argument("--callers", default="32,50", help="numbers of callers, comma-separated (32,50)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over all numbers (default 2)")
    parser.add_argument("--reports", type=int, default=3000, help="CreateTicket calls per phase (3000)")
    return parser.parse_args()


def _line(callers: int, phase: Phase, own: float) -> str:
    """One phase: throughput, latency, and the cores each process took (≥ 0.02), this one's as well."""
    ms = {p: phase.percentile(p) * 1000 for p in (50, 90, 99)}
    shares = ", ".join(f"{name} {share:.2f}" for name, share in sorted(phase.cpu.items()) if share >= 0.02)
    in_all = sum(phase.cpu.values()) + own
    return (
        f"{callers} callers: {phase.per_second:.0f}/s, p50 {ms[50]:.0f} ms, p90 {ms[90]:.0f} ms,"
        f" p99 {ms[99]:.0f} ms; cores: {shares}, load generator {own:.2f}, in all {in_all:.2f}"
    )


async def main(args: argparse.Namespace) -> None:
    callers = [int(n) for n in args.callers.split(",")]
    async with bench_desk() as (data_dir, endpoints):
        load = DeskLoad(endpoints)
        await load.create_phase(500, callers[0])  # warm-up: connections and caches
        await load.opened(time.time())
        for _ in range(args.rounds):
            for count in callers:
                await load.settle()
                since, own_before = time.time(), sum(os.times()[:2])
                phase = await measured(data_dir, load.create_phase(args.reports, count))
                own = (sum(os.times()[:2]) - own_before) / phase.seconds
                await load.opened(since)
                print(_line(count, phase, own), flush=True)


if __name__ == "__main__":
    run(main(_arguments()))
