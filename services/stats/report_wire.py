"""A report's proto made from the read model's totals, its stored form, and the counts it freezes.

The stored form is the Report message's JSON (field names as in the proto, every field even when
zero): the document GetReport answers with and the exports render. The **measures** are the report's
counts as one flat map, ``tickets``, ``volume_by_channel/PHONE``, ``teams/network/chases``,
``agents/dev-agent/recorded`` …: what a late event is found by. Rates and KPIs are no measures:
they are worked out of counts, and a correction says which count moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import json_format
from google.protobuf.message import Message

from helpdesk.v1 import stats_pb2
from services.stats import kpis, rollups
from services.stats.periods import Boundary, PeriodKind, ReportPeriod

PERIODS: dict[PeriodKind, stats_pb2.Period.ValueType] = {
    PeriodKind.WEEKLY: stats_pb2.PERIOD_WEEKLY,
    PeriodKind.MONTHLY: stats_pb2.PERIOD_MONTHLY,
    PeriodKind.QUARTERLY: stats_pb2.PERIOD_QUARTERLY,
    PeriodKind.YEARLY: stats_pb2.PERIOD_YEARLY,
}
BOUNDARIES: dict[Boundary, stats_pb2.PeriodBoundary.ValueType] = {
    Boundary.CALENDAR: stats_pb2.PERIOD_BOUNDARY_CALENDAR,
    Boundary.DAY_21: stats_pb2.PERIOD_BOUNDARY_DAY_21,
}

_COUNTS = (
    "tickets", "dispatches", "dispatches_answered", "warnings", "overdue_alarms", "chases", "returns",
    "second_dispatches", "surveys_answered", "surveys_expired", "escalations_resolved",
)  # fmt: skip
_MAPS = (
    "volume_by_channel", "volume_by_kind", "volume_by_customer_tier", "volume_by_handling",
    "volume_by_stage", "satisfaction", "escalations_by_source",
)  # fmt: skip
_TEAM_COUNTS = (
    "dispatches", "answered", "warnings", "overdue_alarms", "chases", "returns", "second_dispatches",
    "sla_met", "sla_missed",
)  # fmt: skip
_AGENT_COUNTS = ("recorded", "first_contact_resolved", "dispatches", "reviews", "callbacks", "surveys")


def report_message(
    period: ReportPeriod,
    totals: rollups.PeriodTotals,
    *,
    generated_at: datetime,
    late_corrections: Iterable[stats_pb2.LateCorrection] = (),
) -> stats_pb2.Report:
    report = stats_pb2.Report(
        report_id=period.report_id,
        period=PERIODS[period.kind],
        boundary=BOUNDARIES[period.boundary],
        period_start=period.first_day.isoformat(),
        period_end=period.last_day.isoformat(),
        redispatches=totals.second_dispatches,  # the older field: the same 二次派单
        satisfaction_rate=totals.satisfaction_rate,
        kpis=_kpis(period, totals.kpis),
        teams=[_team(team) for team in totals.teams],
        agents=[_agent(agent) for agent in totals.agents],
        daily_volume=[
            stats_pb2.DailyVolume(day=v.day.isoformat(), channel=v.channel, tickets=v.tickets)
            for v in totals.daily_volume
        ],
        late_corrections=late_corrections,
        **{name: getattr(totals, name) for name in _COUNTS},
    )
    for name in _MAPS:
        getattr(report, name).update(getattr(totals, name))
    report.generated_at.FromDatetime(generated_at)
    return report


def _kpis(period: ReportPeriod, inputs: rollups.KpiInputs) -> stats_pb2.Kpis:
    """The period's KPIs as GetKpis gives them for the same days: one definition of each figure."""
    days = kpis.KpiRange(period.first_day, period.last_day, ZoneInfo(period.time_zone))
    return kpis.kpis_message(inputs, days)


def _team(team: rollups.TeamTotals) -> stats_pb2.TeamLine:
    return stats_pb2.TeamLine(
        team_id=team.team_id,
        sla_compliance=team.sla_compliance,
        **{name: getattr(team, name) for name in _TEAM_COUNTS},
    )


def _agent(agent: rollups.AgentTotals) -> stats_pb2.AgentLine:
    return stats_pb2.AgentLine(
        agent_id=agent.agent_id, **{name: getattr(agent, name) for name in _AGENT_COUNTS}
    )


def measures(report: stats_pb2.Report) -> dict[str, int]:
    """The report's counts, flat and without zeros (a zero and a missing key mean the same)."""
    found: dict[str, int] = {name: getattr(report, name) for name in _COUNTS}
    for name in _MAPS:
        found.update({f"{name}/{key}": value for key, value in getattr(report, name).items()})
    for team in report.teams:
        found.update({f"teams/{team.team_id}/{name}": getattr(team, name) for name in _TEAM_COUNTS})
    for agent in report.agents:
        found.update({f"agents/{agent.agent_id}/{name}": getattr(agent, name) for name in _AGENT_COUNTS})
    return {measure: value for measure, value in found.items() if value}


def changes(before: Mapping[str, int], now: Mapping[str, int]) -> dict[str, int]:
    """Each measure that moved, by how much, in the measures' order."""
    moved = {measure: now.get(measure, 0) - before.get(measure, 0) for measure in sorted({*before, *now})}
    return {measure: delta for measure, delta in moved.items() if delta}


def report_to_json(report: stats_pb2.Report) -> dict[str, Any]:
    """Every field, defaults too: a reader of the stored report sees each one."""
    return _to_dict(report)


def _to_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def report_from_json(stored: Mapping[str, Any]) -> stats_pb2.Report:
    return json_format.ParseDict(dict(stored), stats_pb2.Report(), ignore_unknown_fields=True)
