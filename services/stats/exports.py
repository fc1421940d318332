"""The statistics report (helpdesk.v1.Report) as people take it away (pure: no I/O): CSV, JSON and an
Excel workbook.

Every format shows the same sections in the same order (:func:`report_sections`): the summary, the
volumes by channel, kind, customer tier, handling and stage, the satisfaction distribution, the
escalations, the team and agent lines, the KPIs and their SLA lines, the daily volume series and the
late corrections. The CSV is one block per section (desk/report_format.py, as the QA report's); the
workbook has one sheet per section, a bold frozen header row, numbers stored as numbers (rates as
percentages) and columns wide enough for what they hold; the JSON is protobuf's JSON mapping of the
message, so ``json_format.Parse`` gives the report back.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime

from google.protobuf import json_format
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from desk.report_format import Row, Section, sections_csv
from helpdesk.v1 import stats_pb2

S = stats_pb2

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Seed 002 七.3's stages, in the order a report climbs them; others (if any) after, by name.
STAGES = ("IVR", "JUNIOR_AGENT", "SENIOR_AGENT", "OPS_TEAM", "MANAGER_HOTLINE")
# The survey's ratings, best first (helpdesk.v1.Rating without its prefix).
RATINGS = ("VERY_SATISFIED", "SATISFIED", "NEUTRAL", "UNSATISFIED")


class Rate(float):
    """A fraction 0..1: a number everywhere, shown as a percentage in the workbook."""


def rate(value: float) -> Rate:
    return Rate(round(value, 4))


def period_name(report: S.Report) -> str:
    return (
        "" if report.period == S.PERIOD_UNSPECIFIED else S.Period.Name(report.period).removeprefix("PERIOD_")
    )


def boundary_name(report: S.Report) -> str:
    if report.boundary == S.PERIOD_BOUNDARY_UNSPECIFIED:
        return ""
    return S.PeriodBoundary.Name(report.boundary).removeprefix("PERIOD_BOUNDARY_")


def generated_at(report: S.Report) -> str:
    return report.generated_at.ToJsonString() if report.HasField("generated_at") else ""


def ordered(counts: Mapping[str, int], first: Sequence[str] = (), prefix: str = "") -> list[tuple[str, int]]:
    """The known keys in their order (``first``, with or without the enum's ``prefix``), then the rest
    by name: a map's order on the wire means nothing."""

    def rank(key: str) -> tuple[int, str]:
        bare = key.removeprefix(prefix) if prefix else key
        return (first.index(bare) if bare in first else len(first)), key

    return sorted(counts.items(), key=lambda item: rank(item[0]))


def _summary(report: S.Report) -> list[Row]:
    return [
        ["report_id", report.report_id],
        ["period", period_name(report)],
        ["boundary", boundary_name(report)],
        ["period_start", report.period_start],
        ["period_end", report.period_end],
        ["generated_at", generated_at(report)],
        ["tickets", report.tickets],
        ["dispatches", report.dispatches],
        ["dispatches_answered", report.dispatches_answered],
        ["warnings", report.warnings],
        ["overdue_alarms", report.overdue_alarms],
        ["chases", report.chases],
        ["returns", report.returns],
        ["redispatches", report.redispatches],
        ["second_dispatches", report.second_dispatches],
        ["surveys_answered", report.surveys_answered],
        ["surveys_expired", report.surveys_expired],
        ["satisfaction_rate", rate(report.satisfaction_rate)],
        ["escalations_resolved", report.escalations_resolved],
    ]


TEAM_COLUMNS = [
    "team_id", "dispatches", "answered", "warnings", "overdue_alarms", "chases", "returns",
    "second_dispatches", "sla_met", "sla_missed", "sla_compliance",
]  # fmt: skip


def _team_row(team: S.TeamLine) -> Row:
    return [
        team.team_id, team.dispatches, team.answered, team.warnings, team.overdue_alarms, team.chases,
        team.returns, team.second_dispatches, team.sla_met, team.sla_missed, rate(team.sla_compliance),
    ]  # fmt: skip


AGENT_COLUMNS = [
    "agent_id", "recorded", "first_contact_resolved", "dispatches", "reviews", "callbacks", "surveys",
]  # fmt: skip


def _agent_row(agent: S.AgentLine) -> Row:
    return [
        agent.agent_id, agent.recorded, agent.first_contact_resolved, agent.dispatches, agent.reviews,
        agent.callbacks, agent.surveys,
    ]  # fmt: skip


def _kpis(kpis: S.Kpis) -> list[Row]:
    return [
        ["record_completeness_rate", rate(kpis.record_completeness_rate)],
        ["fcr_rate", rate(kpis.fcr_rate)],
        ["satisfaction_rate", rate(kpis.satisfaction_rate)],
        ["sla_compliance", rate(kpis.sla_compliance)],
        ["mean_time_to_respond_seconds", round(kpis.mean_time_to_respond_seconds, 1)],
        ["p90_time_to_respond_seconds", round(kpis.p90_time_to_respond_seconds, 1)],
        ["mean_time_to_resolve_seconds", round(kpis.mean_time_to_resolve_seconds, 1)],
        ["p90_time_to_resolve_seconds", round(kpis.p90_time_to_resolve_seconds, 1)],
        ["backlog", kpis.backlog],
        ["tickets", kpis.tickets],
        ["first_contact_resolved", kpis.first_contact_resolved],
        ["surveys_answered", kpis.surveys_answered],
        ["satisfied", kpis.satisfied],
    ]


def _volume(name: str, key: str, counts: Mapping[str, int], first: Sequence[str] = ()) -> Section:
    return Section(name, [key, "tickets"], [[k, n] for k, n in ordered(counts, first)])


def report_sections(report: S.Report) -> list[Section]:
    """Every section, in the order every format shows them."""
    return [
        Section("summary", ["measure", "value"], _summary(report)),
        _volume("volume_by_channel", "channel", report.volume_by_channel),
        _volume("volume_by_kind", "kind", report.volume_by_kind),
        _volume("volume_by_customer_tier", "customer_tier", report.volume_by_customer_tier),
        _volume("volume_by_handling", "handling", report.volume_by_handling),
        _volume("volume_by_stage", "stage", report.volume_by_stage, STAGES),
        Section(
            "satisfaction",
            ["rating", "surveys"],
            [[k, n] for k, n in ordered(report.satisfaction, RATINGS, "RATING_")],
        ),
        Section(
            "escalations_by_source",
            ["source", "escalations"],
            [[k, n] for k, n in ordered(report.escalations_by_source)],
        ),
        Section("teams", TEAM_COLUMNS, [_team_row(t) for t in report.teams]),
        Section("agents", AGENT_COLUMNS, [_agent_row(a) for a in report.agents]),
        Section("kpis", ["measure", "value"], _kpis(report.kpis)),
        Section(
            "sla",
            ["deadline_kind", "met", "missed", "rate"],
            [[s.deadline_kind, s.met, s.missed, rate(s.rate)] for s in report.kpis.sla],
        ),
        Section(
            "daily_volume",
            ["day", "channel", "tickets"],
            [
                [d.day, d.channel, d.tickets]
                for d in sorted(report.daily_volume, key=lambda d: (d.day, d.channel))
            ],
        ),
        Section(
            "late_corrections",
            ["period_start", "period_end", "measure", "delta"],
            [[c.period_start, c.period_end, c.measure, c.delta] for c in report.late_corrections],
        ),
    ]


def file_stem(report: S.Report) -> str:
    """The download's name without its suffix: ``stats-weekly-2025-05-12``."""
    period = period_name(report).lower() or "report"
    return f"stats-{period}-{report.period_start or report.report_id}"


# --- the formats ---


def report_csv(report: S.Report) -> str:
    return sections_csv(report_sections(report))


def report_json(report: S.Report) -> str:
    """Protobuf's JSON mapping (int64 as strings, as the mapping says), every field shown."""
    return json_format.MessageToJson(
        report, preserving_proto_field_name=True, always_print_fields_with_no_presence=True, indent=2
    )


MAX_COLUMN_WIDTH = 60
BOLD = Font(bold=True)
PERCENT = "0.0%"


def report_xlsx(report: S.Report) -> bytes:
    """A workbook of one sheet per section (Excel's sheet names are at most 31 characters: ours are)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for section in report_sections(report):
        _sheet(book.create_sheet(section.name[:31]), section)
    # The report's own instant, not now: the same report gives the same workbook.
    made = report.generated_at.ToDatetime() if report.HasField("generated_at") else datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = made  # naive UTC, as openpyxl writes it
    book.properties.title = f"Statistics report {period_name(report)} {report.period_start}"
    out = io.BytesIO()
    # Not `book.save`, which sets the modified time to now.
    ExcelWriter(book, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return _stamped(out.getvalue(), made)


def _stamped(workbook: bytes, made: datetime) -> bytes:
    """The workbook's zip with every entry dated ``made``: the zip writer dates them by the clock, so
    two saves seconds apart differed."""
    stamp = (max(made.year, 1980), made.month, made.day, made.hour, made.minute, made.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            entry.date_time = stamp
            target.writestr(entry, source.read(entry.filename), compress_type=entry.compress_type)
    return out.getvalue()


def _sheet(sheet: Worksheet, section: Section) -> None:
    sheet.append(section.header)
    for cell in sheet[1]:
        cell.font = BOLD
    for row in section.rows:
        sheet.append(list(row))
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, Rate):
                cell.number_format = PERCENT
    sheet.freeze_panes = "A2"
    for index, header in enumerate(section.header, start=1):
        values = [header, *(_shown(row[index - 1]) for row in section.rows)]
        width = min(max(len(v) for v in values) + 2, MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = width


def _shown(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, Rate) else str(value)
