"""Deadline precision at scale: many open tickets on live deadline timers, and how late their alarms fire.

    python -m tests.bench.deadline_precision [--open 10000] [--measured 1000] [--rate R] [--idle 30]
                                             [--sample 200]

Starts its own desk (`helpdesk up` in a temporary directory) and opens ``--open`` tickets in all. The
first ones (all but ``--measured``) are opened as fast as 16 callers go, on the default policy: their
deadlines are hours away, so they stay open with their timers pending all run, and how fast the
workflows opened them is the desk's opening rate today. Then priority P3 gets a short SLA policy: a
work order's response deadline warns W seconds after its dispatch and is overdue 2W after (its
resolution deadline a day away stays pending). The ``--measured`` tickets' reports arrive at
``--rate`` a second (default: four fifths of that opening rate; CreateTicket answers on acceptance,
the workflows open the tickets behind it). W is long enough for every ticket to be open, the desk
settled and an idle window measured before the first warning is due; the warnings then come due
spread as the openings were, and the overdues a W later. So the figure is how precisely timers fire
with that many open, at a rate the desk keeps up with, not how fast it works through a burst of
timers all due at once. ``--measured`` as large as ``--open`` (less 100 to learn the rate on) puts
every ticket on the short policy; the run then takes about 3.5 times as long as opening them.

Prints: the Temporal server's memory (and its SQLite files) per open ticket, the desk's CPU over
``--idle`` seconds with every ticket open and its timer pending, the lateness of every measured
``sla.warning`` and ``sla.overdue`` read from the stream (event time minus due time, and stream time
minus due time: p50, p99, max), and for ``--sample`` alarms of each kind where their lateness went
(their workflows' histories: the timer, Temporal's timer queue, the wait for a worker, the worker's
step, the outbox relay). Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import grpc
import nats
from google.protobuf import duration_pb2
from nats.aio.msg import Msg
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from desk.config import load_settings
from desk.events import STREAM
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, events_pb2
from tests.bench.drive import DeskLoad, Drain, Phase
from tests.bench.harness import bench_desk, run
from tests.bench.lateness import (
    Alarm,
    TimerStages,
    alarm_from_event,
    evenly_spaced,
    lateness_lines,
    stage_lines,
    timer_stages,
)
from tests.bench.processes import cpu_seconds, rss
from tests.integration.desk_client import auth
from workflows.contract import ticket_workflow_id

DAY = 86_400
SETTLE_ALLOWANCE = 30.0
"""Seconds between the last opening and the idle window: the desk settling, the memory readings."""
OPENING_LAG = 1.2
"""The openings may end this many times the reports' ramp after the first report (the workflows open
the backlog a little behind the arrivals) and still be done before the first warning."""
BACKGROUND_CALLERS = 16
MIN_BACKGROUND = 100
PACE_SHARE = 0.8
"""The measured reports' default rate as a share of the background's opening rate: the desk keeps up
with room to spare."""
STRAGGLER_WAIT = 60.0
"""How long past the last alarm's due time the bench waits for alarms still missing."""


@dataclass(frozen=True)
class Scenario:
    tickets: int  # open in all
    measured: int  # of them, on the short policy: their alarms are measured
    rate: float | None  # the measured tickets' reports a second; None: a share of the opening rate
    idle_seconds: float
    sample: int  # alarms of each kind whose workflow histories are read

    @property
    def background(self) -> int:
        """Tickets opened first on the default policy: all but the measured, at least enough to learn
        the desk's opening rate on."""
        return max(MIN_BACKGROUND, self.tickets - self.measured)

    def plan(self, opening_rate: float) -> Plan:
        """The measured tickets' plan, once the background has shown how fast the desk opens tickets."""
        measured = self.tickets - self.background
        return Plan(measured, self.rate or PACE_SHARE * opening_rate, self.idle_seconds)


@dataclass(frozen=True)
class Plan:
    tickets: int  # the measured tickets, on the short policy
    rate: float  # their reports a second
    idle_seconds: float

    @property
    def ramp_seconds(self) -> float:
        return self.tickets / self.rate

    @property
    def warn_after(self) -> int:
        """Seconds from a work order's dispatch to its response warning: the ramp (with the openings'
        lag), the desk settling and the idle window all fit before the first one is due."""
        return math.ceil(self.ramp_seconds * OPENING_LAG + SETTLE_ALLOWANCE + self.idle_seconds)

    @property
    def due_after(self) -> int:
        """The response target: the warning at 50 %, so the first overdue is due a whole W after the
        first warning, when the last warning (a ramp after the first) is done."""
        return 2 * self.warn_after


@dataclass
class AlarmFeed:
    """Every sla.* event on the stream since the bench began, read by an ordered consumer."""

    alarms: list[Alarm] = field(default_factory=list)
    others: Counter[str] = field(default_factory=Counter)  # not a measured ticket's response alarm
    background: set[str] = field(default_factory=set)  # tickets on the default policy: not measured
    last_seen: float = field(default_factory=time.time)

    async def on_message(self, msg: Msg) -> None:
        envelope = events_pb2.EventEnvelope()
        envelope.ParseFromString(msg.data)
        alarm = alarm_from_event(envelope, msg.metadata.timestamp.astimezone(UTC))
        if alarm is not None and alarm.deadline == "RESPONSE" and alarm.ticket_id not in self.background:
            self.alarms.append(alarm)
        else:
            self.others[f"{envelope.type} {alarm.deadline if alarm else ''}".strip()] += 1
        self.last_seen = time.time()

    def count(self, kind: str) -> int:
        return sum(1 for alarm in self.alarms if alarm.alarm == kind)


@dataclass
class Readings:
    """What the scenario measured, for the report."""

    plan: Plan | None = None
    background: Drain | None = None
    create: Phase | None = None
    drain: Drain | None = None
    rss_before: dict[str, float] = field(default_factory=dict)
    rss_open: dict[str, float] = field(default_factory=dict)
    temporal_db_before: float = 0.0  # MiB
    temporal_db_open: float = 0.0
    idle_seconds: float = 0.0
    idle_cpu: dict[str, float] = field(default_factory=dict)  # each process's share of a core
    fired_before_all_open: int = 0
    loads: dict[str, list[float]] = field(default_factory=dict)  # 1-minute load averages, by phase
    stages: dict[str, list[TimerStages]] = field(default_factory=dict)

    def note_load(self, phase: str) -> None:
        self.loads.setdefault(phase, []).append(os.getloadavg()[0])


async def _set_short_policy(endpoints: dict[str, Any], plan: Plan) -> None:
    async with grpc.aio.insecure_channel(endpoints["services"]["dispatch"]) as channel:
        dispatch = dispatch_pb2_grpc.DispatchServiceStub(channel)
        policy = common_pb2.SlaPolicy(
            priority=common_pb2.PRIORITY_P3,
            response_target=duration_pb2.Duration(seconds=plan.due_after),
            resolution_target=duration_pb2.Duration(seconds=DAY),
            callback_target=duration_pb2.Duration(seconds=DAY),
            warning_percent=50,
        )
        request = dispatch_pb2.SetSlaPolicyRequest(policy=policy)
        await dispatch.SetSlaPolicy(request, metadata=auth(endpoints["tokens"]["manager"]))


def _temporal_db_mib(data_dir: Path) -> float:
    """The embedded Temporal's SQLite database with its write-ahead log."""
    files = [data_dir / "temporal.db", data_dir / "temporal.db-wal"]
    return sum(f.stat().st_size for f in files if f.exists()) / 2**20


async def _open_background(load: DeskLoad, count: int, feed: AlarmFeed) -> Drain:
    """Open ``count`` tickets as fast as the callers go; how fast the workflows opened them."""
    numbers = iter(range(count))
    since = time.time()

    async def caller() -> None:
        for i in numbers:
            feed.background.add((await load.create(i)).ticket.ticket_id)

    await asyncio.gather(*(caller() for _ in range(BACKGROUND_CALLERS)))
    return await load.opened(since)


async def _open_tickets(data_dir: Path, load: DeskLoad, readings: Readings, feed: AlarmFeed) -> float:
    """Send the measured reports, wait until all are open and the desk has settled; when the first was
    sent."""
    assert readings.plan is not None
    first = time.time()
    readings.create = await load.paced_create_phase(readings.plan.tickets, readings.plan.rate)
    readings.drain = await load.opened(first)
    readings.fired_before_all_open = len(feed.alarms)
    await load.settle()
    readings.rss_open = rss(data_dir)
    readings.temporal_db_open = _temporal_db_mib(data_dir)
    return first


async def _idle_window(data_dir: Path, readings: Readings, plan: Plan, first_report: float) -> None:
    """The desk's CPU with every ticket open and its timer pending, ended before the first warning."""
    until = min(time.time() + plan.idle_seconds, first_report + plan.warn_after - 3)
    if until - time.time() < 5:
        return  # the openings ran into the warnings: no idle window left
    before, started = cpu_seconds(data_dir), time.perf_counter()
    await asyncio.sleep(until - time.time())
    after, readings.idle_seconds = cpu_seconds(data_dir), time.perf_counter() - started
    readings.idle_cpu = {
        name: (after[name] - before.get(name, 0.0)) / readings.idle_seconds for name in after
    }
    readings.note_load("idle")


async def _every_alarm(feed: AlarmFeed, readings: Readings, plan: Plan, opened_at: float) -> None:
    """Until each ticket has warned and gone overdue, or nothing came for a while after all were due."""
    expected = readings.drain.opened if readings.drain else plan.tickets
    give_up_at = opened_at + plan.due_after + STRAGGLER_WAIT
    while feed.count("warning") < expected or feed.count("overdue") < expected:
        if time.time() > give_up_at and time.time() - feed.last_seen > STRAGGLER_WAIT:
            return
        readings.note_load("firing")
        await asyncio.sleep(1.0)


async def _stages(temporal: str, alarms: list[Alarm], sample: int) -> dict[str, list[TimerStages]]:
    """Where the lateness of ``sample`` alarms of each kind went, spread over the run, from their
    workflows' histories (read after the run: reading them costs the desk nothing it is measured on)."""
    client = await Client.connect(temporal)
    histories: dict[str, list[HistoryEvent]] = {}
    limit = asyncio.Semaphore(8)

    async def history(ticket_id: str) -> None:
        async with limit:
            fetched = await client.get_workflow_handle(ticket_workflow_id(ticket_id)).fetch_history()
            histories[ticket_id] = list(fetched.events)

    picked = {
        kind: evenly_spaced(sorted((a for a in alarms if a.alarm == kind), key=lambda a: a.due), sample)
        for kind in ("warning", "overdue")
    }
    await asyncio.gather(*(history(t) for t in {a.ticket_id for chosen in picked.values() for a in chosen}))
    found: dict[str, list[TimerStages]] = {}
    for kind, chosen in picked.items():
        stages = (timer_stages(histories[a.ticket_id], a) for a in chosen)
        found[kind] = [s for s in stages if s is not None]
    return found


async def measure(scenario: Scenario) -> list[str]:
    """Run the scenario on a desk of its own; the report's lines."""
    settings = {"HELPDESK_MAX_BACKLOG": str(max(5000, scenario.tickets))}  # the ramp may outrun the openings
    async with bench_desk(settings) as (data_dir, endpoints):
        readings, feed = Readings(), AlarmFeed()
        nc = await nats.connect(endpoints["nats"])
        try:
            await nc.jetstream().subscribe(
                "helpdesk.sla.>", stream=STREAM, ordered_consumer=True, cb=feed.on_message
            )
            await _run(data_dir, endpoints, scenario, readings, feed)
        finally:
            await nc.close()
        readings.stages = await _stages(endpoints["temporal"], feed.alarms, scenario.sample)
        return _report(readings, feed)


async def _run(
    data_dir: Path, endpoints: dict[str, Any], scenario: Scenario, readings: Readings, feed: AlarmFeed
) -> None:
    load = DeskLoad(endpoints)
    await load.settle()
    readings.rss_before = rss(data_dir)
    readings.temporal_db_before = _temporal_db_mib(data_dir)
    readings.note_load("start")
    _progress(f"desk up; opening {scenario.background} tickets on the default policy")
    readings.background = await _open_background(load, scenario.background, feed)
    plan = readings.plan = scenario.plan(readings.background.per_second)
    await _set_short_policy(endpoints, plan)
    _progress(
        f"opened {readings.background.per_second:.1f}/s; {plan.tickets} on the short policy at"
        f" {plan.rate:.1f} reports/s,"
        f" warning {plan.warn_after} s and overdue {plan.due_after} s after dispatch"
    )
    first = await _open_tickets(data_dir, load, readings, feed)
    opened_at = time.time()
    _progress(f"all open {opened_at - first:.0f} s after the first report; idle window, then the alarms")
    await _idle_window(data_dir, readings, plan, first)
    await _every_alarm(feed, readings, plan, opened_at)
    _progress(f"{len(feed.alarms)} alarms read; reading histories")


def _progress(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _report(readings: Readings, feed: AlarmFeed) -> list[str]:
    plan, background = readings.plan, readings.background
    assert plan is not None and background is not None
    settings = load_settings(os.environ)  # the bench's desk inherits the niceness settings
    lines = [
        f"Deadline precision (workers at nice {settings.worker_nice}, Temporal at nice"
        f" {settings.temporal_nice}): {background.opened} tickets on the default policy opened at"
        f" {background.per_second:.1f}/s, then {plan.tickets} measured at {plan.rate:.1f} reports/s; each"
        f" one's response deadline warns {plan.warn_after} s and is overdue {plan.due_after} s after its"
        " dispatch"
    ]
    if readings.create and readings.drain:
        lines += [
            f"  reports: {readings.create.count} in {readings.create.seconds:.1f} s,"
            f" p99 {readings.create.percentile(99) * 1000:.0f} ms; all {readings.drain.opened} opened"
            f" {readings.drain.seconds:.1f} s after the first ({readings.drain.per_second:.1f}/s)"
        ]
    lines += _memory_lines(readings)
    lines += _idle_lines(readings)
    if readings.fired_before_all_open:
        lines.append(f"  NOTE: {readings.fired_before_all_open} alarms fired before the last ticket was open")
    lines += lateness_lines(feed.alarms)
    missing = (
        {kind: readings.drain.opened - feed.count(kind) for kind in ("warning", "overdue")}
        if readings.drain
        else {}
    )
    if any(missing.values()):
        lines.append(f"  MISSING: {missing} (no event within {STRAGGLER_WAIT:.0f} s of the last due time)")
    if feed.others:
        lines.append(f"  other sla events: {dict(feed.others)}")
    for kind, stages in readings.stages.items():
        lines.append(
            f"  sla.{kind}: where the lateness went, {len(stages)} alarms' histories (p50 p99 max, s):"
        )
        lines += stage_lines(stages)
    loads = ", ".join(f"{phase} {min(v):.1f} to {max(v):.1f}" for phase, v in readings.loads.items())
    lines.append(f"  load average (1 min; 2 cores): {loads}")
    return lines


def _memory_lines(readings: Readings) -> list[str]:
    opened = sum(d.opened for d in (readings.background, readings.drain) if d is not None)
    lines = []
    for name in ("temporal", "workflow worker"):
        before, after = readings.rss_before.get(name, 0.0), readings.rss_open.get(name, 0.0)
        lines.append(
            f"  {name} RSS {before:.1f} → {after:.1f} MiB with {opened} open:"
            f" {(after - before) * 1024 / opened:.1f} KiB per open ticket"
        )
    db_before, db_open = readings.temporal_db_before, readings.temporal_db_open
    lines.append(
        f"  temporal's SQLite files {db_before:.1f} → {db_open:.1f} MiB:"
        f" {(db_open - db_before) * 1024 / opened:.1f} KiB per open ticket"
    )
    return lines


def _idle_lines(readings: Readings) -> list[str]:
    if not readings.idle_seconds:
        return ["  idle: not measured (the openings ran into the first warnings)"]
    busiest = sorted(readings.idle_cpu.items(), key=lambda item: -item[1])
    shares = ", ".join(f"{name} {share:.1%}" for name, share in busiest[:6])
    total = sum(readings.idle_cpu.values())
    return [
        f"  idle {readings.idle_seconds:.0f} s with every ticket open, timers pending: the desk's CPU"
        f" {total:.1%} of one core ({shares})"
    ]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.deadline_precision", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000, help="tickets open in all (default 10,000)")
    parser.add_argument(
        "--measured", type=int, default=1000, help="of them, on the short policy and measured (default 1000)"
    )
    parser.add_argument(
        "--rate", type=float, help="measured reports a second (default: 4/5 of the desk's opening rate)"
    )
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle window (default 30)")
    parser.add_argument("--sample", type=int, default=200, help="histories read per alarm kind (default 200)")
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    scenario = Scenario(args.open, args.measured, args.rate, idle_seconds=args.idle, sample=args.sample)
    for line in await measure(scenario):
        print(line, flush=True)


if __name__ == "__main__":
    run(main(_arguments()))
