"""GetKpis: the desk's key figures (seed 003 4.6.3) over a range of the desk's days, from the roll-ups.

The request is validated here (every bad field named at once), the range is widened to the whole
days of the desk's time zone it touches (the roll-ups are per day), the day rows are summed by the
read model (:class:`KpiSource`, the roll-ups' read API) and the figures are worked out from the sums:
nothing here reads raw events or a ticket's own row. docs/statistics.md (KPIs) defines each figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from desk import proto_fields
from desk.db import Executor
from desk.errors import FieldViolation, InvalidArgument
from helpdesk.v1 import common_pb2, stats_pb2
from services.stats import rollups

MAX_RANGE_DAYS = 400
"""The longest range served from the daily roll-ups: a year and a month of slack (a yearly report on
the day-21 boundary, a year compared with the same month a year before)."""


# --- the request ---


@dataclass(frozen=True)
class KpiFilters:
    """Which tickets count: empty means all. Names as the events carry them (PHONE, FAULT, VIP)."""

    team_id: str = ""
    channel: str = ""
    kind: str = ""
    customer_tier: str = ""


@dataclass(frozen=True)
class KpiRange:
    """Whole days of the desk's time zone, both ends included; ``start``/``end`` are their bounds."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the range: midnight after its last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class KpiQuery:
    range: KpiRange
    filters: KpiFilters


def kpi_query(request: stats_pb2.GetKpisRequest, zone: ZoneInfo) -> KpiQuery:
    """The validated query, or InvalidArgument naming every bad field.

    ``from`` and ``to`` are instants; the range is the desk's days from the day holding ``from`` to the
    day holding the last instant before ``to`` (so midnight to midnight is exactly those days).
    """
    violations: list[FieldViolation] = []
    start = proto_fields.from_timestamp(request, "from")
    end = proto_fields.from_timestamp(request, "to")
    if start is None:
        violations.append(FieldViolation("from", "is required"))
    if end is None:
        violations.append(FieldViolation("to", "is required"))
    filters = KpiFilters(
        team_id=request.team_id.strip(),
        channel=_enum_filter(violations, "channel", request.channel, common_pb2.Channel, "CHANNEL_"),
        kind=_enum_filter(violations, "kind", request.kind, common_pb2.TicketKind, "TICKET_KIND_"),
        customer_tier=_enum_filter(
            violations, "customer_tier", request.customer_tier, common_pb2.CustomerTier, "CUSTOMER_TIER_"
        ),
    )
    days = _days(violations, start, end, zone)
    if violations or days is None:
        raise InvalidArgument(violations)
    return KpiQuery(days, filters)


def _days(
    violations: list[FieldViolation], start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> KpiRange | None:
    if start is None or end is None:
        return None
    if end <= start:
        violations.append(FieldViolation("to", "must be after from"))
        return None
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    days = KpiRange(first, last, zone)
    if days.days > MAX_RANGE_DAYS:
        violations.append(
            FieldViolation("to", f"the range covers {days.days} days; at most {MAX_RANGE_DAYS} are served")
        )
        return None
    return days


def _enum_filter(violations: list[FieldViolation], name: str, value: str, enum: object, prefix: str) -> str:
    """A filter's canonical name (``phone`` and ``CHANNEL_PHONE`` both mean PHONE); empty: no filter."""
    wanted = value.strip().upper().removeprefix(prefix)
    if not wanted:
        return ""
    known = _enum_names(enum, prefix)
    if wanted not in known:
        choices = ", ".join(known)
        violations.append(FieldViolation(name, f"unknown {name} {value.strip()!r}; one of {choices}"))
    return wanted


def _enum_names(enum: object, prefix: str) -> list[str]:
    names: Sequence[str] = enum.keys()  # type: ignore[attr-defined]
    return [n.removeprefix(prefix) for n in names if not n.endswith("_UNSPECIFIED")]


# --- the figures ---


class KpiSource(Protocol):
    """The read model's side: the KPIs' inputs summed over the range's days for the filters."""

    async def kpi_inputs(self, query: KpiQuery) -> rollups.KpiInputs: ...


class RollupKpiSource:
    """:class:`KpiSource` over the roll-ups' read API (services/stats/rollups.py)."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def kpi_inputs(self, query: KpiQuery) -> rollups.KpiInputs:
        f = query.filters
        return await rollups.kpi_inputs(
            self._db,
            query.range.first_day,
            query.range.last_day,
            team_id=f.team_id,
            channel=f.channel,
            kind=f.kind,
            customer_tier=f.customer_tier,
        )


def sla_lines(inputs: rollups.KpiInputs) -> list[stats_pb2.SlaCompliance]:
    """One line per deadline kind, every kind even when none fell due (so a chart has its bars)."""
    counts = {line.deadline_kind: line for line in inputs.sla}
    lines = []
    for kind in rollups.DEADLINE_KINDS:
        line = counts.get(kind, rollups.SlaCounts(kind, 0, 0))
        lines.append(
            stats_pb2.SlaCompliance(deadline_kind=kind, met=line.met, missed=line.missed, rate=line.rate)
        )
    return lines


def kpis_message(inputs: rollups.KpiInputs, days: KpiRange) -> stats_pb2.Kpis:
    return stats_pb2.Kpis(
        # One definition for GetKpis and the reports' KPIs: the read model's (fields filled over fields
        # expected, domain/record_completeness.py); docs/statistics.md (KPIs) says why and the alternative.
        record_completeness_rate=inputs.record_completeness_rate,
        fcr_rate=inputs.fcr_rate,
        satisfaction_rate=inputs.satisfaction_rate,
        sla_compliance=inputs.sla_compliance,
        sla=sla_lines(inputs),
        mean_time_to_respond_seconds=inputs.mean_respond_seconds,
        p90_time_to_respond_seconds=inputs.p90_respond_seconds,
        mean_time_to_resolve_seconds=inputs.mean_resolve_seconds,
        p90_time_to_resolve_seconds=inputs.p90_resolve_seconds,
        backlog=inputs.backlog,
        tickets=inputs.tickets,
        first_contact_resolved=inputs.first_contact_resolved,
        surveys_answered=inputs.surveys_answered,
        satisfied=inputs.satisfied,
        **{"from": proto_fields.timestamp(days.start), "to": proto_fields.timestamp(days.end)},
    )


class Kpis:
    """What the servicer calls: validate, sum the range's roll-ups, work the figures out."""

    def __init__(self, source: KpiSource, zone: ZoneInfo) -> None:
        self._source = source
        self._zone = zone

    async def get(self, request: stats_pb2.GetKpisRequest) -> stats_pb2.Kpis:
        query = kpi_query(request, self._zone)
        return kpis_message(await self._source.kpi_inputs(query), query.range)
