"""One of everything against two of everything, side by side; then the two-replica desk under kills.

    python -m tests.bench.scale_out [--tickets 1000] [--lifecycles 200] [--concurrency 32] [--rate 10]

Starts a desk with one replica of each service and of the gateway, one workflow worker and one NATS
server, and measures, with ``--concurrency`` callers: CreateTicket (reports accepted a second), the
tickets opened and dispatched by their workflows a second (from the first report until the backlog is
empty), and full lifecycles; each process's share of a core meanwhile. Stops it, and does the same on
a desk with two replicas of everything, two workers and a NATS cluster of three (the stream R3). The
callers reach every replica of a service through one round-robin channel (desk/grpc_channels.py).

Then, on the two-replica desk, the kill round of tests/integration/test_scale_out.py: reports at
``--rate`` a second, each retried with its request id until accepted, the four ops teams reading
their durable consumers, while the NATS node leading the stream, an intake replica and a workflow
worker are SIGKILLed in turn; after the drain, what was lost and what doubled, by the test's own
audit (tests/integration/report_load.py). Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from desk.grpc_channels import aio_channel
from helpdesk.v1 import intake_pb2_grpc
from tests.bench.drive import TEAMS, DeskLoad, Drain, Phase, measured, service_target
from tests.bench.harness import bench_desk, run
from tests.integration.desk_client import auth
from tests.integration.report_load import Audit, Stream, TeamFeeds, audit, drained, kills_under_load
from tests.stack import RunningDesk

WARM_UP = 40  # reports before measuring: each process's first calls load code and fill caches


@dataclass(frozen=True)
class Scenario:
    tickets: int  # CreateTicket calls measured on each desk
    lifecycles: int  # full lifecycles measured on each desk (0: none)
    concurrency: int = 32  # calls in flight
    rate: float = 10.0  # reports a second in the kill round
    kills: bool = True  # the kill round on the two-replica desk


@dataclass(frozen=True)
class Topology:
    name: str
    settings: dict[str, str]


ONE = Topology(
    "one of everything",
    {"HELPDESK_REPLICAS": "1", "HELPDESK_WORKFLOW_WORKERS": "1", "HELPDESK_NATS_CLUSTER": "1"},
)
TWO = Topology(
    "two of everything",
    {"HELPDESK_REPLICAS": "2", "HELPDESK_WORKFLOW_WORKERS": "2", "HELPDESK_NATS_CLUSTER": "3"},
)


@dataclass
class Measured:
    topology: Topology
    creates: Phase
    opened: Drain
    lifecycles: Phase | None


@dataclass
class KillRound:
    accepted: int
    seconds: float
    refusals: dict[str, int]
    killed: list[str]
    found: Audit
    deliveries: dict[str, int] = field(default_factory=dict)  # team → messages its feed received
    redelivered: dict[str, int] = field(default_factory=dict)  # team → of those, skipped as seen


def _arguments() -> Scenario:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale_out", description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000, help="CreateTicket calls (default 1000)")
    parser.add_argument("--lifecycles", type=int, default=200, help="full lifecycles (default 200; 0: none)")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight (default 32)")
    parser.add_argument("--rate", type=float, default=10.0, help="reports a second in the kill round")
    parser.add_argument("--no-kills", action="store_true", help="skip the kill round")
    args = parser.parse_args()
    return Scenario(args.tickets, args.lifecycles, args.concurrency, args.rate, kills=not args.no_kills)


async def measure_topology(topology: Topology, scenario: Scenario) -> tuple[Measured, KillRound | None]:
    async with bench_desk(topology.settings) as (data_dir, endpoints):
        load = DeskLoad(endpoints)
        await load.create_phase(WARM_UP, scenario.concurrency)
        await load.opened(time.time())
        await load.settle()
        since = time.time()
        creates = await measured(data_dir, load.create_phase(scenario.tickets, scenario.concurrency))
        opened = await load.opened(since)
        lifecycles = None
        if scenario.lifecycles:
            await load.settle()
            lifecycles = await measured(
                data_dir, load.lifecycle_phase(scenario.lifecycles, scenario.concurrency)
            )
        killed = None
        if topology is TWO and scenario.kills:
            await load.settle()
            killed = await kill_round(RunningDesk(endpoints, data_dir), scenario.rate)
        return Measured(topology, creates, opened, lifecycles), killed


async def kill_round(desk: RunningDesk, rate: float) -> KillRound:
    """The integration test's run (tests/integration/test_scale_out.py), with its audit."""
    async with (
        aio_channel(service_target(desk.endpoints, "intake"), None) as channel,
        TeamFeeds(desk, TEAMS) as teams,
    ):
        await teams.caught_up(within=120)  # the work orders of the phases before
        teams.count_from_now()
        stream = Stream(
            intake_pb2_grpc.IntakeServiceStub(channel), auth(desk.token("agent")), rate=rate, categories=TEAMS
        )
        started, since = time.perf_counter(), datetime.now(UTC)
        killed = await kills_under_load(desk, stream)
        seconds = time.perf_counter() - started
        await drained(desk.endpoints["postgres"], within=120)
        await teams.caught_up(within=120)
        found = await audit(desk, stream.accepted, since=since, teams=teams)
        return KillRound(
            len(stream.accepted),
            seconds,
            dict(stream.refusals),
            killed,
            found,
            {team: count.deliveries for team, count in teams.counts.items()},
            {team: count.redelivered for team, count in teams.counts.items()},
        )


def render(runs: list[Measured], kills: KillRound | None) -> list[str]:
    """The desks side by side: rates, latencies, each process's share of a core; the kill round."""
    lines = [_row("", [m.topology.name for m in runs])]
    creates = [m.creates for m in runs]
    lines += _phase_rows(f"CreateTicket, {creates[0].count} by {creates[0].name.split(', ')[1]}", creates)
    lines.append(
        _row("opened + dispatched by their workflows", [f"{m.opened.per_second:.1f}/s" for m in runs])
    )
    lifecycles = [m.lifecycles for m in runs if m.lifecycles is not None]
    if len(lifecycles) == len(runs):
        lines += _phase_rows(f"full lifecycles, {lifecycles[0].count}", lifecycles)
    for title, phases in (("CreateTicket", creates), ("the lifecycles", lifecycles)):
        if len(phases) == len(runs):
            lines += _cpu_rows(title, phases)
    return lines + (_kill_lines(kills) if kills is not None else [])


def _row(label: str, cells: list[str]) -> str:
    return f"{label:<44}" + "".join(f"{cell:>22}" for cell in cells)


def _phase_rows(label: str, phases: list[Phase]) -> list[str]:
    return [
        _row(label, [f"{p.per_second:.1f}/s" for p in phases]),
        _row(
            "  p50 / p99",
            [f"{p.percentile(50) * 1000:.0f} / {p.percentile(99) * 1000:.0f} ms" for p in phases],
        ),
    ]


def _cpu_rows(title: str, phases: list[Phase]) -> list[str]:
    """Each process's share of one core during the phase, the busiest first."""
    busiest = {name: max(p.cpu.get(name, 0.0) for p in phases) for p in phases for name in p.cpu}
    names = sorted((name for name, share in busiest.items() if share >= 0.01), key=lambda n: -busiest[n])
    return [
        f"CPU during {title}, share of one core (processes under 1 % in both left out):",
        _row("  all the desk's processes", [f"{sum(p.cpu.values()):.0%}" for p in phases]),
        *(
            _row(f"  {name}", [f"{p.cpu[name]:.0%}" if name in p.cpu else "-" for p in phases])
            for name in names
        ),
    ]


def _kill_lines(kills: KillRound) -> list[str]:
    found = kills.found
    return [
        f"Kill round on the two-replica desk: {kills.accepted} reports accepted in {kills.seconds:.0f} s,"
        f" retried {kills.refusals or 'never'}; killed in turn: {', '.join(kills.killed)}",
        f"  lost = {len(found.lost)}, doubled = {len(found.doubled)};"
        f" {found.work_orders} work orders given once each to their teams' handlers",
        *(f"    {line}" for line in [*found.lost, *found.doubled][:20]),
        "  deliveries per team's feed (redelivered and skipped): "
        + ", ".join(f"{team} {n} ({kills.redelivered[team]})" for team, n in kills.deliveries.items()),
    ]


async def measure(scenario: Scenario) -> list[str]:
    """Both desks, one after the other; the lines to print."""
    runs, kills = [], None
    for topology in (ONE, TWO):
        done, killed = await measure_topology(topology, scenario)
        runs.append(done)
        kills = kills or killed
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    return [f"Scale-out ({machine}; load average {load} at the end):", *render(runs, kills)]


async def main(scenario: Scenario) -> None:
    for line in await measure(scenario):
        print(line)


if __name__ == "__main__":
    run(main(_arguments()))
