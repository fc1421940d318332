"""GetKpis and a yearly report's totals over a year of 1,000,000 tickets' roll-ups (issue 15, item 6).

    python -m tests.bench.stats_kpis [--tickets 1000000] [--calls 5]

Starts its own desk (`helpdesk up` in a temporary directory) unless handed one (``make bench`` runs it
on its desk after the other phases), writes a year of per-day roll-ups straight into that desk's
``stats`` schema (not through the event stream: the projection's ingest rate is measured on its own),
spread over teams, channels, kinds, tiers, handling, stages, days and agents the way a desk's year
looks, then times, best and median of ``--calls``: GetKpis over the whole year over gRPC (as a
statistician calls it), the same with a filter, and the read API's period totals of that year (what a
yearly report sums). Targets: KPIs under 1 s, a yearly report under 5 s. Not a test: nothing here
passes or fails.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import grpc

from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats import rollups
from services.stats.rollups import DAILY_KEY, bucket_of
from tests.bench.harness import bench_desk, run
from tests.integration.desk_client import auth

YEAR = 2025  # a whole past year of the desk's days, far from any test's own
ZONE = ZoneInfo("Asia/Shanghai")  # the desk's default time zone (HELPDESK_TIME_ZONE)

# How a desk's reports spread (shares of the year's tickets).
CHANNELS = {"PHONE": 45, "IVR": 20, "WEB": 12, "EMAIL": 8, "IM": 8, "API": 5, "FAX": 2}
KINDS = {"FAULT": 60, "SERVICE_REQUEST": 15, "CONSULTATION": 15, "COMPLAINT": 5, "CHANGE_REQUEST": 5}
TIERS = {"STANDARD": 90, "VIP": 10}
TEAMS = {"network": 40, "software": 25, "machine-room": 15, "automation": 10, "": 10}  # '': none
STAGES = {"JUNIOR_AGENT": 55, "SENIOR_AGENT": 15, "OPS_TEAM": 25, "MANAGER_HOTLINE": 5}
RATINGS = {"VERY_SATISFIED": 45, "SATISFIED": 35, "NEUTRAL": 12, "UNSATISFIED": 8}
AGENTS = [f"agent-{n:03d}" for n in range(60)]

Key = tuple[date, str, str, str, str, str, str]  # day, team, channel, kind, tier, handling, stage


@dataclass
class Year:
    """The roll-up rows of a synthetic year: the day rows, the durations' buckets, the agents' rows."""

    daily: dict[Key, Counter[str]]
    durations: Counter[tuple[date, str, str, str, str, str, int]]
    agents: Counter[tuple[date, str, str]]
    tickets: int
    times: dict[str, list[float]]  # every time to respond and to resolve: the exact p90 to compare

    def exact_p90(self, measure: str) -> float:
        times = sorted(self.times[measure])
        return times[max(0, math.ceil(0.9 * len(times)) - 1)] if times else 0.0


def _pick(table: dict[str, int], k: int, rng: random.Random) -> list[str]:
    return rng.choices(list(table), weights=list(table.values()), k=k)


def _day_weights(year: int) -> list[tuple[date, float]]:
    """Weekdays busier than weekends, winter and summer storms busier than spring."""
    first = date(year, 1, 1)
    days = [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]
    return [
        (d, (0.6 if d.weekday() >= 5 else 1.0) * (1.2 if d.month in (1, 7, 8, 12) else 1.0)) for d in days
    ]


def synthetic_year(tickets: int, *, year: int = YEAR, seed: int = 15) -> Year:
    rng = random.Random(seed)
    weights = _day_weights(year)
    scale = tickets / sum(w for _, w in weights)
    daily: dict[Key, Counter[str]] = {}
    durations: Counter[tuple[date, str, str, str, str, str, int]] = Counter()
    agents: Counter[tuple[date, str, str]] = Counter()
    times: dict[str, list[float]] = {"RESPOND": [], "RESOLVE": []}
    made = 0
    for n, (day, weight) in enumerate(weights):
        count = round(scale * weight) if n < len(weights) - 1 else tickets - made
        made += count
        for ticket in _day_of_tickets(day, count, rng):
            key, counters, respond, resolve, agent = ticket
            daily.setdefault(key, Counter()).update(counters)
            dimensions = key[1:5]
            for measure, seconds in (("RESPOND", respond), ("RESOLVE", resolve)):
                if seconds is not None:
                    durations[(day, *dimensions, measure, bucket_of(seconds))] += 1
                    times[measure].append(seconds)
            if agent:
                agents[(day, agent, "recorded")] += 1
    return Year(daily, durations, agents, made, times)


Ticket = tuple[Key, dict[str, float], float | None, float | None, str]


def _day_of_tickets(day: date, count: int, rng: random.Random) -> Iterator[Ticket]:
    columns = zip(
        _pick(CHANNELS, count, rng),
        _pick(KINDS, count, rng),
        _pick(TIERS, count, rng),
        _pick(TEAMS, count, rng),
        _pick(STAGES, count, rng),
        _pick(RATINGS, count, rng),
        strict=True,
    )
    for channel, kind, tier, team, stage, rating in columns:
        automatic = channel == "IVR" and rng.random() < 0.7
        where = (
            "IVR" if automatic else ("SENIOR_AGENT" if tier == "VIP" and stage == "JUNIOR_AGENT" else stage)
        )
        where = where if team else ("IVR" if automatic else "JUNIOR_AGENT")  # no team: settled at the desk
        key = (day, team, channel, kind, tier, "AUTOMATIC" if automatic else "MANUAL", where)
        yield (key, *_ticket_counters(team, rating, rng), "" if automatic else rng.choice(AGENTS))


def _ticket_counters(
    team: str, rating: str, rng: random.Random
) -> tuple[dict[str, float], float | None, float | None]:
    """One ticket's counters on its row; its times to respond and resolve (None: never)."""
    counters: dict[str, float] = {"tickets": 1, "opened": 1, "record_fields_total": 4}
    filled = 4 if rng.random() < 0.85 else rng.randint(1, 3)
    counters |= {"record_fields_filled": filled, "complete_records": int(filled == 4)}
    respond = resolve = None
    if not team:  # settled at the desk: first-contact resolution
        counters |= {"first_contact_resolved": 1, "resolved": 1}
        resolve = rng.uniform(60, 900)
    else:
        respond = rng.lognormvariate(7.0, 0.9)  # a median of about 18 minutes
        resolve = respond + rng.lognormvariate(9.6, 1.0)  # a median of about 4 hours more
        counters |= {"dispatches": 1, "dispatches_answered": 1, "resolved": 1}
        counters |= {"response_seconds_sum": respond, "response_count": 1}
        counters[f"sla_response_{'met' if respond < 1800 else 'missed'}"] = 1
        counters[f"sla_resolution_{'met' if resolve < 86_400 else 'missed'}"] = 1
        counters |= {"warnings": int(rng.random() < 0.1), "chases": int(resolve > 86_400)}
        counters |= {"overdue_alarms": int(resolve > 86_400), "returns": int(rng.random() < 0.03)}
    counters |= {"resolve_seconds_sum": resolve, "resolve_count": 1}
    if rng.random() < 0.02:  # still open at the end of the year: the backlog
        return counters | {"resolved": 0, "resolve_count": 0, "resolve_seconds_sum": 0}, respond, None
    counters |= {"closed": 1, "callbacks": 1, "sla_callback_met": 1}
    if rng.random() < 0.7:
        counters |= {"surveys_answered": 1, f"rating_{rating.lower()}": 1}
    else:
        counters["surveys_expired"] = 1
    return counters, respond, resolve


DURATION_KEY = ("day", "team_id", "channel", "kind", "customer_tier", "measure", "bucket")


async def load(pool: asyncpg.Pool, year: Year) -> None:
    """Write the year into the stats schema (its tables empty of that year)."""
    counters = sorted({name for row in year.daily.values() for name in row})
    daily = [(*key, *(_integral(row.get(c, 0), c) for c in counters)) for key, row in year.daily.items()]
    async with pool.acquire() as connection:
        await connection.copy_records_to_table(
            "daily", schema_name="stats", columns=[*DAILY_KEY, *counters], records=daily
        )
        await connection.copy_records_to_table(
            "daily_durations",
            schema_name="stats",
            columns=[*DURATION_KEY, "count"],
            records=[(*key, n) for key, n in year.durations.items()],
        )
        agents: dict[tuple[date, str], Counter[str]] = {}
        for (day, agent, counter), n in year.agents.items():
            agents.setdefault((day, agent), Counter())[counter] += n
        await connection.copy_records_to_table(
            "daily_agents",
            schema_name="stats",
            columns=["day", "agent_id", "recorded"],
            records=[(day, agent, row["recorded"]) for (day, agent), row in agents.items()],
        )
        await connection.execute(
            "ANALYZE stats.daily; ANALYZE stats.daily_durations; ANALYZE stats.daily_agents"
        )


def _integral(value: float, column: str) -> float | int:
    return value if column.endswith("_sum") else int(value)


@dataclass
class Timing:
    name: str
    seconds: list[float]

    def line(self, target: float) -> str:
        best, median = min(self.seconds), statistics.median(self.seconds)
        verdict = "meets" if median < target else "MISSES"
        return (
            f"{self.name}: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms of {len(self.seconds)}"
            f" ({verdict} the {target:.0f} s target)"
        )


async def timed(name: str, calls: int, one: Callable[[], Awaitable[Any]]) -> Timing:
    await one()  # once cold: the first call also warms PostgreSQL's cache, not counted
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        await one()
        seconds.append(time.perf_counter() - started)
    return Timing(name, seconds)


def year_request(
    team_id: str = "", channel: str = "", kind: str = "", tier: str = ""
) -> stats_pb2.GetKpisRequest:
    request = stats_pb2.GetKpisRequest(team_id=team_id, channel=channel, kind=kind, customer_tier=tier)
    getattr(request, "from").FromDatetime(datetime(YEAR, 1, 1, tzinfo=ZONE))
    request.to.FromDatetime(datetime(YEAR + 1, 1, 1, tzinfo=ZONE))
    return request


async def measure(endpoints: dict[str, Any], *, tickets: int, calls: int) -> list[str]:
    """Load the year into the desk's stats schema, time the calls, say the figures."""
    started = time.perf_counter()
    year = synthetic_year(tickets)
    made = time.perf_counter() - started
    pool = await asyncpg.create_pool(endpoints["postgres"], min_size=1, max_size=2)
    try:
        started = time.perf_counter()
        await load(pool, year)
        loaded = time.perf_counter() - started
        lines = [
            f"stats: a year of {year.tickets:,} tickets' roll-ups: {len(year.daily):,} day rows,"
            f" {len(year.durations):,} duration buckets (made in {made:.1f} s, loaded in {loaded:.1f} s)"
        ]
        lines += await _kpi_timings(endpoints, calls, year)
        lines += await _report_timings(pool, calls)
    finally:
        await pool.close()
    return lines


async def _kpi_timings(endpoints: dict[str, Any], calls: int, year: Year) -> list[str]:
    metadata = auth(endpoints["tokens"]["statistician"])
    async with grpc.aio.insecure_channel(endpoints["services"]["stats"]) as channel:
        stats = stats_pb2_grpc.StatsServiceStub(channel)
        whole = await stats.GetKpis(year_request(), metadata=metadata)
        lines = [
            f"  GetKpis {YEAR}: {whole.tickets:,} tickets, FCR {whole.fcr_rate:.1%},"
            f" satisfaction {whole.satisfaction_rate:.1%}, SLA {whole.sla_compliance:.1%},"
            f" backlog {whole.backlog:,}",
            f"  p90 from the histogram against the exact p90 of the generated times: to respond"
            f" {whole.p90_time_to_respond_seconds / 60:.1f} min (exact {year.exact_p90('RESPOND') / 60:.1f}),"
            f" to resolve {whole.p90_time_to_resolve_seconds / 3600:.1f} h"
            f" (exact {year.exact_p90('RESOLVE') / 3600:.1f})",
        ]
        for name, request in (
            ("GetKpis, the whole year", year_request()),
            ("GetKpis, the year, team network", year_request(team_id="network")),
            (
                "GetKpis, the year, PHONE FAULT VIP",
                year_request(channel="PHONE", kind="FAULT", tier="VIP"),
            ),
        ):
            timing = await timed(name, calls, _kpi_call(stats, request, metadata))
            lines.append("  " + timing.line(1.0))
    return lines


def _kpi_call(stats: Any, request: stats_pb2.GetKpisRequest, metadata: Any) -> Callable[[], Awaitable[Any]]:
    async def one() -> Any:
        return await stats.GetKpis(request, metadata=metadata)

    return one


async def _report_timings(pool: asyncpg.Pool, calls: int) -> list[str]:
    first, last = date(YEAR, 1, 1), date(YEAR, 12, 31)
    timing = await timed(
        f"{YEAR}'s period totals (a yearly report)", calls, lambda: rollups.period_totals(pool, first, last)
    )
    # The backlog sums every day up to the range's end, so its share grows with the years kept.
    backlog = await timed(
        "the backlog alone (every day up to the end: one year of history)",
        calls,
        lambda: rollups.backlog_at(pool, last),
    )
    return ["  " + timing.line(5.0), "  " + backlog.line(1.0)]


async def main(args: argparse.Namespace) -> None:
    async with bench_desk() as (_, endpoints):
        for line in await measure(endpoints, tickets=args.tickets, calls=args.calls):
            print(line)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.stats_kpis", description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets in the year (1,000,000)")
    parser.add_argument("--calls", type=int, default=5, help="timed calls of each kind (5)")
    return parser.parse_args()


if __name__ == "__main__":
    run(main(_arguments()))
