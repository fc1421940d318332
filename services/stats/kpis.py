"""GetKpis: the desk's key figures (seed 003 4.6.3) over a range of the desk's days, from the roll-ups.

The request is validated here (every bad field named at once), the range is widened to the whole
days of the desk's time zone it touches (the roll-ups are per day), the day rows are summed by the
read model (:class:`KpiSource`) and the figures are worked out from the sums by pure arithmetic:
nothing here reads raw events or a ticket's own row. docs/statistics-kpis.md defines each figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from desk import proto_fields
from desk.errors import FieldViolation, InvalidArgument
from helpdesk.v1 import common_pb2, stats_pb2

MAX_RANGE_DAYS = 400
"""The longest range served from the daily roll-ups: a year and a month of slack (a yearly report on
the day-21 boundary, a year compared with the same month a year before)."""

DEADLINE_KINDS = ("RESPONSE", "RESOLUTION", "CALLBACK", "INVESTIGATION", "KNOWLEDGE_ENTRY")
"""The order of SlaCompliance lines in an answer: the deadline kinds of common.proto."""

SATISFIED_RATINGS = frozenset({"VERY_SATISFIED", "SATISFIED"})


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


# --- what the roll-ups give ---


@dataclass(frozen=True)
class Histogram:
    """Counts of durations per bucket: bucket i holds ``bounds[i-1] <= d < bounds[i]`` (bucket 0 from
    0, the last one, ``len(bounds)``, from ``bounds[-1]`` up). ``counts`` has ``len(bounds) + 1``."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.bounds) + 1:
            raise ValueError(f"{len(self.bounds)} bounds need {len(self.bounds) + 1} counts")

    @property
    def total(self) -> int:
        return sum(self.counts)

    def percentile(self, q: float) -> float:
        """The nearest-rank q-th percentile, interpolated linearly inside its bucket.

        Off from the exact value by less than the width of the bucket it falls in; in the open last
        bucket the answer is that bucket's lower bound (a floor).
        """
        n = self.total
        if n == 0:
            return 0.0
        rank = max(1, math.ceil(q / 100 * n))
        below = 0
        for i, count in enumerate(self.counts):
            if below + count >= rank:
                low = self.bounds[i - 1] if i > 0 else 0.0
                if i == len(self.bounds):
                    return low
                return low + (self.bounds[i] - low) * (rank - below) / count
            below += count
        raise AssertionError("unreachable: the ranks add up to the total")


@dataclass(frozen=True)
class Durations:
    """Times of one kind (to respond, to resolve) that ended in the range: count, sum and histogram."""

    count: int = 0
    total_seconds: float = 0.0
    histogram: Histogram | None = None

    @property
    def mean(self) -> float:
        return self.total_seconds / self.count if self.count else 0.0

    @property
    def p90(self) -> float:
        return self.histogram.percentile(90) if self.histogram is not None else 0.0


@dataclass(frozen=True)
class DeadlineCounts:
    met: int = 0
    missed: int = 0


@dataclass(frozen=True)
class KpiTotals:
    """The roll-ups' sums over the range's days for the filtered tickets (docs/statistics-kpis.md)."""

    tickets: int = 0
    complete_records: int = 0
    first_contact_resolved: int = 0
    surveys_answered: int = 0
    satisfied: int = 0
    deadlines: Mapping[str, DeadlineCounts] = field(default_factory=dict)
    respond: Durations = Durations()
    resolve: Durations = Durations()
    backlog: int = 0


class KpiSource(Protocol):
    """The read model's side: sums of its day rows; the backlog as it stood at ``range.end``."""

    async def kpi_totals(self, query: KpiQuery) -> KpiTotals: ...


# --- the figures ---


def rate(part: int, whole: int) -> float:
    """A fraction 0..1; 0 when nothing was counted (the counts beside it say which)."""
    return part / whole if whole else 0.0


def sla_lines(deadlines: Mapping[str, DeadlineCounts]) -> list[stats_pb2.SlaCompliance]:
    """One line per deadline kind, every kind even when none fell due (so a chart has its bars)."""
    kinds = [*DEADLINE_KINDS, *sorted(set(deadlines) - set(DEADLINE_KINDS))]
    lines = []
    for kind in kinds:
        counts = deadlines.get(kind, DeadlineCounts())
        lines.append(
            stats_pb2.SlaCompliance(
                deadline_kind=kind,
                met=counts.met,
                missed=counts.missed,
                rate=rate(counts.met, counts.met + counts.missed),
            )
        )
    return lines


def kpis_message(totals: KpiTotals, days: KpiRange) -> stats_pb2.Kpis:
    met = sum(c.met for c in totals.deadlines.values())
    due = met + sum(c.missed for c in totals.deadlines.values())
    return stats_pb2.Kpis(
        record_completeness_rate=rate(totals.complete_records, totals.tickets),
        fcr_rate=rate(totals.first_contact_resolved, totals.tickets),
        satisfaction_rate=rate(totals.satisfied, totals.surveys_answered),
        sla_compliance=rate(met, due),
        sla=sla_lines(totals.deadlines),
        mean_time_to_respond_seconds=totals.respond.mean,
        p90_time_to_respond_seconds=totals.respond.p90,
        mean_time_to_resolve_seconds=totals.resolve.mean,
        p90_time_to_resolve_seconds=totals.resolve.p90,
        backlog=totals.backlog,
        tickets=totals.tickets,
        first_contact_resolved=totals.first_contact_resolved,
        surveys_answered=totals.surveys_answered,
        satisfied=totals.satisfied,
        **{"from": proto_fields.timestamp(days.start), "to": proto_fields.timestamp(days.end)},
    )


class Kpis:
    """What the servicer calls: validate, sum the range's roll-ups, work the figures out."""

    def __init__(self, source: KpiSource, zone: ZoneInfo) -> None:
        self._source = source
        self._zone = zone

    async def get(self, request: stats_pb2.GetKpisRequest) -> stats_pb2.Kpis:
        query = kpi_query(request, self._zone)
        return kpis_message(await self._source.kpi_totals(query), query.range)
