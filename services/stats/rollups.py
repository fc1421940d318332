"""The read API over the stats roll-ups: everything a report or the KPIs need, for a range of days.

Reports and KPIs call only this module (never the per-ticket facts, never the events): each call is
one or a few ``SUM … GROUP BY`` over ``stats.daily``, ``stats.daily_durations`` and
``stats.daily_agents``, whose rows are one per desk-local day and key, so a year is a few hundred
thousand rows at most whatever the number of tickets.

Days are the desk's local days (``Settings.zone``), both ends included. A caller holding timestamps
(``GetKpis``' ``from``/``to``) turns them into the local days they fall on.

- :func:`period_totals` → :class:`PeriodTotals`: every number a ``helpdesk.v1.Report`` has for
  [first_day, last_day] (volumes by channel, kind, tier, handling, stage; dispatches, answered,
  warnings, alarms, chases, returns, second dispatches; surveys; escalations; team and agent lines;
  the daily volume per channel) and the :class:`KpiInputs` of the whole desk.
- :func:`kpi_inputs` → :class:`KpiInputs`: the counts, sums and histograms behind each KPI for the
  range and the filters (team, channel, kind, tier; '' is all), and the backlog at the end of
  ``last_day``. :class:`KpiInputs` has the rates too (``fcr_rate``, ``p90_respond_seconds`` …), each
  0.0 when its denominator is 0.

:func:`local_days` turns a range of instants into the desk-local days it covers.

Names here are stable: other modules build on them (add, don't rename).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from desk.db import Executor

DEADLINE_KINDS = ("RESPONSE", "RESOLUTION", "CALLBACK", "INVESTIGATION", "KNOWLEDGE_ENTRY")
RATINGS = ("VERY_SATISFIED", "SATISFIED", "NEUTRAL", "UNSATISFIED")
SATISFIED_RATINGS = ("VERY_SATISFIED", "SATISFIED")
ESCALATION_SOURCES = ("REPEATS", "OVERDUE_RECONTACT", "DISPUTED_INVESTIGATION", "REFUSED_ANSWER", "COMPLAINT")
STAGES = ("IVR", "JUNIOR_AGENT", "SENIOR_AGENT", "OPS_TEAM", "MANAGER_HOTLINE")
MEASURES = ("RESPOND", "RESOLVE")

BUCKET_BOUNDS: tuple[float, ...] = (
    60, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
    86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
)  # fmt: skip
"""Upper bounds (seconds) of the duration buckets; a last bucket holds everything longer."""

DAILY_COUNTERS: tuple[str, ...] = (
    "tickets", "first_contact_resolved", "record_fields_filled", "record_fields_total",
    "complete_records", "opened", "closed", "dispatches", "dispatches_answered", "second_dispatches",
    "returns", "chases", "warnings", "overdue_alarms", "reviews", "callbacks", "resolved", "cancelled",
    *(f"sla_{kind.lower()}_{result}" for kind in DEADLINE_KINDS for result in ("met", "missed")),
    "surveys_answered", "surveys_expired", *(f"rating_{rating.lower()}" for rating in RATINGS),
    *(f"escalations_{source.lower()}" for source in ESCALATION_SOURCES), "escalations_resolved",
    "response_seconds_sum", "response_count", "resolve_seconds_sum", "resolve_count",
)  # fmt: skip
"""Every counter column of ``stats.daily``, in table order."""

AGENT_COUNTERS = ("recorded", "first_contact_resolved", "dispatches", "reviews", "callbacks", "surveys")
DAILY_KEY = ("day", "team_id", "channel", "kind", "customer_tier", "handling", "stage")
FILTERS = ("team_id", "channel", "kind", "customer_tier")


def local_days(since: datetime, until: datetime, zone: tzinfo) -> tuple[date, date]:
    """The desk-local days [first, last] the instants ``since`` … ``until`` fall on (the roll-ups'
    granularity: a KPI range is counted in whole days)."""
    return since.astimezone(zone).date(), until.astimezone(zone).date()


def bucket_of(seconds: float) -> int:
    """The index of the duration bucket ``seconds`` falls in (the first bound it is not above)."""
    for index, bound in enumerate(BUCKET_BOUNDS):
        if seconds <= bound:
            return index
    return len(BUCKET_BOUNDS)


def percentile(histogram: Sequence[int], fraction: float) -> float:
    """The ``fraction`` percentile of a bucket histogram, interpolated inside its bucket (0.0 if empty).

    Exact to within its bucket: the roll-ups keep counts per bucket, not every duration.
    """
    total = sum(histogram)
    if total == 0:
        return 0.0
    wanted = fraction * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= wanted:
            low = BUCKET_BOUNDS[index - 1] if index > 0 else 0.0
            high = BUCKET_BOUNDS[index] if index < len(BUCKET_BOUNDS) else low * 2
            return float(low + (high - low) * (wanted - seen) / count)
        seen += count
    return float(BUCKET_BOUNDS[-1])


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class SlaCounts:
    deadline_kind: str
    met: int
    missed: int

    @property
    def rate(self) -> float:
        return _rate(self.met, self.met + self.missed)


@dataclass(frozen=True)
class KpiInputs:
    """What each KPI is computed from (docs/statistics.md (the read model) defines each)."""

    tickets: int = 0
    first_contact_resolved: int = 0
    record_fields_filled: int = 0
    record_fields_total: int = 0
    complete_records: int = 0
    surveys_answered: int = 0
    satisfied: int = 0
    sla: tuple[SlaCounts, ...] = ()
    response_seconds_sum: float = 0.0
    response_count: int = 0
    resolve_seconds_sum: float = 0.0
    resolve_count: int = 0
    respond_histogram: tuple[int, ...] = ()
    resolve_histogram: tuple[int, ...] = ()
    backlog: int = 0  # open (accepted, not resolved or cancelled) at the end of last_day

    @property
    def record_completeness_rate(self) -> float:
        return _rate(self.record_fields_filled, self.record_fields_total)

    @property
    def fcr_rate(self) -> float:
        return _rate(self.first_contact_resolved, self.tickets)

    @property
    def satisfaction_rate(self) -> float:
        return _rate(self.satisfied, self.surveys_answered)

    @property
    def sla_met(self) -> int:
        return sum(s.met for s in self.sla)

    @property
    def sla_missed(self) -> int:
        return sum(s.missed for s in self.sla)

    @property
    def sla_compliance(self) -> float:
        return _rate(self.sla_met, self.sla_met + self.sla_missed)

    @property
    def mean_respond_seconds(self) -> float:
        return _rate(self.response_seconds_sum, self.response_count)

    @property
    def mean_resolve_seconds(self) -> float:
        return _rate(self.resolve_seconds_sum, self.resolve_count)

    @property
    def p90_respond_seconds(self) -> float:
        return percentile(self.respond_histogram, 0.9)

    @property
    def p90_resolve_seconds(self) -> float:
        return percentile(self.resolve_histogram, 0.9)


@dataclass(frozen=True)
class TeamTotals:
    """A report's TeamLine (sla_* all deadline kinds held by the team)."""

    team_id: str
    dispatches: int = 0
    answered: int = 0
    warnings: int = 0
    overdue_alarms: int = 0
    chases: int = 0
    returns: int = 0
    second_dispatches: int = 0
    sla_met: int = 0
    sla_missed: int = 0

    @property
    def sla_compliance(self) -> float:
        return _rate(self.sla_met, self.sla_met + self.sla_missed)


@dataclass(frozen=True)
class AgentTotals:
    """A report's AgentLine."""

    agent_id: str
    recorded: int = 0
    first_contact_resolved: int = 0
    dispatches: int = 0
    reviews: int = 0
    callbacks: int = 0
    surveys: int = 0


@dataclass(frozen=True)
class DayVolume:
    day: date
    channel: str
    tickets: int


@dataclass(frozen=True)
class PeriodTotals:
    """Every number of a Report over [first_day, last_day]; maps leave out zero entries."""

    first_day: date
    last_day: date
    tickets: int = 0
    volume_by_channel: Mapping[str, int] = field(default_factory=dict)
    volume_by_kind: Mapping[str, int] = field(default_factory=dict)
    volume_by_customer_tier: Mapping[str, int] = field(default_factory=dict)
    volume_by_handling: Mapping[str, int] = field(default_factory=dict)
    volume_by_stage: Mapping[str, int] = field(default_factory=dict)
    dispatches: int = 0
    dispatches_answered: int = 0
    warnings: int = 0
    overdue_alarms: int = 0
    chases: int = 0
    returns: int = 0
    second_dispatches: int = 0
    surveys_answered: int = 0
    surveys_expired: int = 0
    satisfaction: Mapping[str, int] = field(default_factory=dict)  # rating → answers
    escalations_by_source: Mapping[str, int] = field(default_factory=dict)
    escalations_resolved: int = 0
    teams: tuple[TeamTotals, ...] = ()
    agents: tuple[AgentTotals, ...] = ()
    daily_volume: tuple[DayVolume, ...] = ()
    kpis: KpiInputs = KpiInputs()

    @property
    def satisfaction_rate(self) -> float:
        return self.kpis.satisfaction_rate


# --- queries ---


def _where(first_day: date, last_day: date, filters: Mapping[str, str]) -> tuple[str, list[Any]]:
    clauses = ["day BETWEEN $1 AND $2"]
    args: list[Any] = [first_day, last_day]
    for column in FILTERS:
        value = filters.get(column, "")
        if value:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    return " AND ".join(clauses), args


def _sums(columns: Sequence[str]) -> str:
    return ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in columns)


async def _daily_sums(db: Executor, where: str, args: list[Any]) -> dict[str, Any]:
    row = await db.fetchrow(f"SELECT {_sums(DAILY_COUNTERS)} FROM stats.daily WHERE {where}", *args)
    assert row is not None
    return dict(row)


async def _histograms(db: Executor, where: str, args: list[Any]) -> dict[str, tuple[int, ...]]:
    rows = await db.fetch(
        f"SELECT measure, bucket, sum(count) AS count FROM stats.daily_durations WHERE {where}"
        " GROUP BY measure, bucket",
        *args,
    )
    histograms = {measure: [0] * (len(BUCKET_BOUNDS) + 1) for measure in MEASURES}
    for row in rows:
        histograms[row["measure"]][row["bucket"]] = int(row["count"])
    return {measure: tuple(counts) for measure, counts in histograms.items()}


async def backlog_at(db: Executor, last_day: date, **filters: str) -> int:
    """Tickets open at the end of ``last_day``: every day's opened minus closed up to it."""
    where, args = _where(date.min, last_day, filters)
    value = await db.fetchval(
        f"SELECT coalesce(sum(opened - closed), 0) FROM stats.daily WHERE {where}", *args
    )
    return int(value)


def _kpis_from(sums: Mapping[str, Any], histograms: Mapping[str, tuple[int, ...]], backlog: int) -> KpiInputs:
    return KpiInputs(
        tickets=int(sums["tickets"]),
        first_contact_resolved=int(sums["first_contact_resolved"]),
        record_fields_filled=int(sums["record_fields_filled"]),
        record_fields_total=int(sums["record_fields_total"]),
        complete_records=int(sums["complete_records"]),
        surveys_answered=int(sums["surveys_answered"]),
        satisfied=sum(int(sums[f"rating_{r.lower()}"]) for r in SATISFIED_RATINGS),
        sla=tuple(
            SlaCounts(k, int(sums[f"sla_{k.lower()}_met"]), int(sums[f"sla_{k.lower()}_missed"]))
            for k in DEADLINE_KINDS
        ),
        response_seconds_sum=float(sums["response_seconds_sum"]),
        response_count=int(sums["response_count"]),
        resolve_seconds_sum=float(sums["resolve_seconds_sum"]),
        resolve_count=int(sums["resolve_count"]),
        respond_histogram=histograms["RESPOND"],
        resolve_histogram=histograms["RESOLVE"],
        backlog=backlog,
    )


async def kpi_inputs(
    db: Executor,
    first_day: date,
    last_day: date,
    *,
    team_id: str = "",
    channel: str = "",
    kind: str = "",
    customer_tier: str = "",
) -> KpiInputs:
    """The KPIs' inputs for the desk-local days [first_day, last_day] and the filters ('' is all)."""
    filters = {"team_id": team_id, "channel": channel, "kind": kind, "customer_tier": customer_tier}
    where, args = _where(first_day, last_day, filters)
    sums = await _daily_sums(db, where, args)
    histograms = await _histograms(db, where, args)
    return _kpis_from(sums, histograms, await backlog_at(db, last_day, **filters))


async def _grouped(db: Executor, column: str, where: str, args: list[Any]) -> dict[str, int]:
    rows = await db.fetch(
        f"SELECT {column} AS key, sum(tickets) AS n FROM stats.daily WHERE {where} GROUP BY {column}", *args
    )
    return {row["key"]: int(row["n"]) for row in rows if row["n"]}


_TEAM_SQL = """
SELECT team_id, sum(dispatches) AS dispatches, sum(dispatches_answered) AS answered,
       sum(warnings) AS warnings, sum(overdue_alarms) AS overdue_alarms, sum(chases) AS chases,
       sum(returns) AS returns, sum(second_dispatches) AS second_dispatches,
       sum({met}) AS sla_met, sum({missed}) AS sla_missed
  FROM stats.daily WHERE {where} AND team_id <> '' GROUP BY team_id ORDER BY team_id
"""


async def team_totals(db: Executor, first_day: date, last_day: date) -> tuple[TeamTotals, ...]:
    """One line per team with any work in the range, by team id."""
    where, args = _where(first_day, last_day, {})
    met = " + ".join(f"sla_{k.lower()}_met" for k in DEADLINE_KINDS)
    missed = " + ".join(f"sla_{k.lower()}_missed" for k in DEADLINE_KINDS)
    rows = await db.fetch(_TEAM_SQL.format(met=met, missed=missed, where=where), *args)
    lines = (TeamTotals(row["team_id"], *(int(row[n]) for n in _TEAM_COLUMNS)) for row in rows)
    return tuple(line for line in lines if any(getattr(line, f) for f in _TEAM_NUMBERS))


_TEAM_COLUMNS = (
    "dispatches", "answered", "warnings", "overdue_alarms", "chases", "returns", "second_dispatches",
    "sla_met", "sla_missed",
)  # fmt: skip
_TEAM_NUMBERS = (
    "dispatches",
    "answered",
    "warnings",
    "overdue_alarms",
    "chases",
    "returns",
    "sla_met",
    "sla_missed",
)


async def agent_totals(db: Executor, first_day: date, last_day: date) -> tuple[AgentTotals, ...]:
    """One line per agent with any work in the range, by agent id."""
    rows = await db.fetch(
        f"SELECT agent_id, {_sums(AGENT_COUNTERS)} FROM stats.daily_agents"
        " WHERE day BETWEEN $1 AND $2 GROUP BY agent_id ORDER BY agent_id",
        first_day,
        last_day,
    )
    return tuple(AgentTotals(row["agent_id"], *(int(row[c]) for c in AGENT_COUNTERS)) for row in rows)


async def daily_volume(db: Executor, first_day: date, last_day: date) -> tuple[DayVolume, ...]:
    """Tickets per day and channel (the days and channels with any), by day then channel."""
    rows = await db.fetch(
        "SELECT day, channel, sum(tickets) AS n FROM stats.daily WHERE day BETWEEN $1 AND $2"
        " GROUP BY day, channel HAVING sum(tickets) <> 0 ORDER BY day, channel",
        first_day,
        last_day,
    )
    return tuple(DayVolume(row["day"], row["channel"], int(row["n"])) for row in rows)


async def period_totals(db: Executor, first_day: date, last_day: date) -> PeriodTotals:
    """Every number of a Report for the desk-local days [first_day, last_day] (the period the report
    helper derived from its period and boundary)."""
    where, args = _where(first_day, last_day, {})
    sums = await _daily_sums(db, where, args)
    kpis = _kpis_from(sums, await _histograms(db, where, args), await backlog_at(db, last_day))
    return PeriodTotals(
        first_day=first_day,
        last_day=last_day,
        tickets=int(sums["tickets"]),
        volume_by_channel=await _grouped(db, "channel", where, args),
        volume_by_kind=await _grouped(db, "kind", where, args),
        volume_by_customer_tier=await _grouped(db, "customer_tier", where, args),
        volume_by_handling=await _grouped(db, "handling", where, args),
        volume_by_stage=await _grouped(db, "stage", where, args),
        **{name: int(sums[name]) for name in _REPORT_COUNTERS},
        satisfaction={r: int(sums[f"rating_{r.lower()}"]) for r in RATINGS if sums[f"rating_{r.lower()}"]},
        escalations_by_source={
            s: int(sums[f"escalations_{s.lower()}"])
            for s in ESCALATION_SOURCES
            if sums[f"escalations_{s.lower()}"]
        },
        teams=await team_totals(db, first_day, last_day),
        agents=await agent_totals(db, first_day, last_day),
        daily_volume=await daily_volume(db, first_day, last_day),
        kpis=kpis,
    )


_REPORT_COUNTERS = (
    "dispatches", "dispatches_answered", "warnings", "overdue_alarms", "chases", "returns",
    "second_dispatches", "surveys_answered", "surveys_expired", "escalations_resolved",
)  # fmt: skip
