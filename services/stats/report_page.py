"""The statistics report (helpdesk.v1.Report) as a page for a manager's browser (pure: no I/O).

One self-contained document (desk/report_format.py): inline style, SVG charts drawn here on the
server, no script, no font or library fetched from anywhere. The charts: the volume trend by day and
channel (a line per channel), SLA compliance by team, the satisfaction distribution, and warnings,
overdue alarms and chases per team. Each chart is a ``<figure>`` whose SVG has a title and a
description for screen readers and a ``<title>`` per bar or point; every number a chart shows is also
in the tables below it, which show every section of the report as the CSV and the workbook do. Every
text from the report is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from desk.report_format import Cell, Markup, Section, headline, page, table
from helpdesk.v1 import stats_pb2
from services.stats.exports import (
    RATINGS,
    Rate,
    boundary_name,
    generated_at,
    ordered,
    period_name,
    report_sections,
)

S = stats_pb2

PALETTE = ("#2f6db5", "#d9822b", "#3c9a5f", "#c8453b", "#7b5ea7", "#8c6d46", "#d16ba5", "#5b6475")
RATING_COLOURS = {
    "VERY_SATISFIED": "#3c9a5f",
    "SATISFIED": "#7fb77e",
    "NEUTRAL": "#d39b2a",
    "UNSATISFIED": "#c8453b",
}

_STYLE = """
figure{margin:1rem 0 2rem}figcaption{font-weight:600;margin-bottom:.4rem}
svg text{font-family:inherit;font-size:12px;fill:#1d2330}svg .axis{fill:#5b6475}
.legend{display:flex;gap:1rem;flex-wrap:wrap;margin:.3rem 0;font-size:.9rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""

HEADINGS = {
    "summary": "Summary",
    "volume_by_channel": "Volume by channel",
    "volume_by_kind": "Volume by kind",
    "volume_by_customer_tier": "Volume by customer tier",
    "volume_by_handling": "Volume by handling (manual / automatic)",
    "volume_by_stage": "Volume by the stage where it was handled (七.3)",
    "satisfaction": "Satisfaction distribution",
    "escalations_by_source": "Escalations by source",
    "teams": "Teams: dispatches, answered (回单), warnings, alarms, chases, returns, SLA",
    "agents": "Agents",
    "kpis": "KPIs",
    "sla": "SLA compliance per deadline kind",
    "daily_volume": "Daily volume by channel",
    "late_corrections": "Late corrections (events after an earlier report was made)",
}


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


# --- bar charts ---


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # the bar's length, against the chart's scale
    text: str  # what is written after the bar: the number the report says
    colour: str = PALETTE[0]


BAR_SPACE, ROW_HEIGHT, CHAR_WIDTH = 380, 26, 7.2


def bar_chart(chart_id: str, caption: str, description: str, bars: Sequence[Bar], *, scale: float = 0) -> str:
    """Horizontal bars, one a row: the label, the bar (``value`` against ``scale``, or against the
    largest value), and the number written after it."""
    if not bars:
        return _figure(caption, '<p class="empty">Nothing to chart in this period.</p>')
    top = scale or max(b.value for b in bars) or 1.0
    labels = round(min(max(len(b.label) for b in bars) * CHAR_WIDTH + 16, 320))  # room for the longest
    height = ROW_HEIGHT * len(bars) + 8
    width = labels + BAR_SPACE + 150
    rows = "".join(_bar_row(index, bar, top, labels) for index, bar in enumerate(bars))
    svg = (
        f'<svg id="{chart_id}" class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(caption)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>{rows}</svg>'
    )
    return _figure(caption, svg)


def _bar_row(index: int, bar: Bar, top: float, labels: int) -> str:
    y = 4 + index * ROW_HEIGHT
    length = max(0.0, min(bar.value / top, 1.0)) * BAR_SPACE
    label, text = escape(bar.label), escape(bar.text)
    return (
        f'<g class="bar" data-label="{label}" data-value="{text}"><title>{label}: {text}</title>'
        f'<text class="label" x="{labels - 8}" y="{y + 15}" text-anchor="end">{label}</text>'
        f'<rect x="{labels}" y="{y + 2}" width="{BAR_SPACE}" height="18" fill="#eef1f5"/>'
        f'<rect x="{labels}" y="{y + 2}" width="{length:.1f}" height="18" fill="{bar.colour}"/>'
        f'<text class="value" x="{labels + BAR_SPACE + 8}" y="{y + 15}">{text}</text></g>'
    )


def _figure(caption: str, body: str, legend: str = "") -> str:
    return f"<figure><figcaption>{escape(caption)}</figcaption>{legend}{body}</figure>"


def sla_by_team_chart(report: S.Report) -> str:
    bars = [
        Bar(
            t.team_id,
            t.sla_compliance,
            f"{_percent(t.sla_compliance)} ({t.sla_met} of {t.sla_met + t.sla_missed})",
        )
        for t in report.teams
    ]
    return bar_chart(
        "chart-sla-by-team",
        "SLA compliance by team",
        "Share of each team's deadlines met in time, with the deadlines met of those due.",
        bars,
        scale=1.0,
    )


def satisfaction_chart(report: S.Report) -> str:
    answers = ordered(report.satisfaction, RATINGS, "RATING_")
    total = sum(n for _, n in answers)
    bars = [
        Bar(
            rating.removeprefix("RATING_"),
            n,
            f"{n} ({_percent(n / total) if total else '0.0 %'})",
            RATING_COLOURS.get(rating.removeprefix("RATING_"), PALETTE[index % len(PALETTE)]),
        )
        for index, (rating, n) in enumerate(answers)
    ]
    return bar_chart(
        "chart-satisfaction",
        f"Satisfaction distribution (satisfaction rate {_percent(report.satisfaction_rate)})",
        "Surveys answered with each rating, and each rating's share of the answers.",
        bars,
    )


ALERTS = (("warnings", "#d39b2a"), ("overdue_alarms", "#c8453b"), ("chases", "#7b5ea7"))


def alerts_chart(report: S.Report) -> str:
    """Warnings, overdue alarms and chases: the period's totals, then each team's."""
    lines: list[tuple[str, S.Report | S.TeamLine]] = [("All teams", report)]
    lines += [(t.team_id, t) for t in report.teams]
    bars = [
        Bar(f"{who} · {measure}", getattr(line, measure), str(getattr(line, measure)), colour)
        for who, line in lines
        for measure, colour in ALERTS
    ]
    return bar_chart(
        "chart-alerts",
        "Warnings, overdue alarms and chases",
        "The period's warnings, overdue alarms and chases, in all and per team.",
        bars,
    )


# --- the volume trend ---

TREND_WIDTH, TREND_HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 280, 56, 16, 16, 44
PLOT_HEIGHT = TREND_HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class _Trend:
    """The trend's grid: its days along x, 0 to ``top`` tickets along y."""

    days: list[str]
    top: int

    def x(self, index: int) -> float:
        span = TREND_WIDTH - LEFT - RIGHT
        return LEFT + (span / 2 if len(self.days) == 1 else span * index / (len(self.days) - 1))

    def y(self, tickets: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - tickets / self.top)


def volume_trend_chart(report: S.Report) -> str:
    """A line per channel over the period's days (a day a channel has no tickets counts 0)."""
    caption = "Volume trend by day and channel"
    days = sorted({d.day for d in report.daily_volume})
    if not days:
        return _figure(caption, '<p class="empty">No tickets in this period.</p>')
    counts = {(d.day, d.channel): d.tickets for d in report.daily_volume}
    trend = _Trend(days, max(counts.values()) or 1)
    totals = ordered(_channel_totals(report))
    colours = {c: PALETTE[i % len(PALETTE)] for i, (c, _) in enumerate(totals)}
    series = "".join(
        _series(trend, channel, [counts.get((day, channel), 0) for day in days], colours[channel])
        for channel, _ in totals
    )
    svg = (
        f'<svg id="chart-volume-trend" class="chart" width="{TREND_WIDTH}" height="{TREND_HEIGHT}"'
        f' viewBox="0 0 {TREND_WIDTH} {TREND_HEIGHT}" role="img"'
        ' aria-labelledby="chart-volume-trend-title chart-volume-trend-desc">'
        f'<title id="chart-volume-trend-title">{escape(caption)}</title>'
        f'<desc id="chart-volume-trend-desc">Tickets received each day from {escape(days[0])} to '
        f"{escape(days[-1])}, a line per channel; the daily volume table below has every point.</desc>"
        f"{_trend_axes(trend)}{series}</svg>"
    )
    legend = '<div class="legend">' + "".join(
        f'<span><span class="swatch" style="background:{colours[c]}"></span>{escape(c)} ({n})</span>'
        for c, n in totals
    ) + "</div>"  # fmt: skip
    return _figure(caption, svg, legend)


def _series(trend: _Trend, channel: str, tickets: list[int], colour: str) -> str:
    """One channel's line, with a point per day that names its day and count."""
    path = " ".join(f"{trend.x(i):.1f},{trend.y(n):.1f}" for i, n in enumerate(tickets))
    dots = "".join(
        f'<circle class="point" cx="{trend.x(i):.1f}" cy="{trend.y(n):.1f}" r="3" fill="{colour}"'
        f' data-day="{escape(day)}" data-value="{n}">'
        f"<title>{escape(day)} · {escape(channel)}: {n}</title></circle>"
        for i, (day, n) in enumerate(zip(trend.days, tickets, strict=True))
    )
    return (
        f'<g class="series" data-channel="{escape(channel)}">'
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}</g>'
    )


def _channel_totals(report: S.Report) -> dict[str, int]:
    totals: dict[str, int] = {}
    for d in report.daily_volume:
        totals[d.channel] = totals.get(d.channel, 0) + d.tickets
    return totals


def _trend_axes(trend: _Trend) -> str:
    """Grid lines at 0, half and the top; the first, middle and last day under the x axis."""
    grid = "".join(
        f'<line x1="{LEFT}" x2="{TREND_WIDTH - RIGHT}" y1="{trend.y(trend.top * f):.1f}"'
        f' y2="{trend.y(trend.top * f):.1f}" stroke="#e3e7ee"/>'
        f'<text class="axis" x="{LEFT - 6}" y="{trend.y(trend.top * f) + 4:.1f}" text-anchor="end">'
        f"{round(trend.top * f)}</text>"
        for f in (0.0, 0.5, 1.0)
    )
    last = len(trend.days) - 1

    def anchor(index: int) -> str:  # the first and last day's labels stay inside the chart
        return "start" if index == 0 < last else "end" if index == last > 0 else "middle"

    labels = "".join(
        f'<text class="axis" x="{trend.x(i):.1f}" y="{TREND_HEIGHT - BOTTOM + 18}"'
        f' text-anchor="{anchor(i)}">{escape(trend.days[i])}</text>'
        for i in sorted({0, last // 2, last})
    )
    return grid + labels


# --- the page ---


def _headline(report: S.Report) -> str:
    return headline(
        [
            ("Tickets", str(report.tickets)),
            ("Dispatches", str(report.dispatches)),
            ("Answered (回单)", str(report.dispatches_answered)),
            ("Satisfaction rate", _percent(report.satisfaction_rate)),
            ("SLA compliance", _percent(report.kpis.sla_compliance)),
            ("Backlog at the end", str(report.kpis.backlog)),
        ]
    )


def _tables(sections: Sequence[Section]) -> list[str]:
    parts = []
    for section in sections:
        parts.append(f'<h2 id="{section.name}">{escape(HEADINGS.get(section.name, section.name))}</h2>')
        rows: list[list[Cell | Markup]] = [[_shown(value) for value in row] for row in section.rows]
        parts.append(table(section.header, rows, empty="None in this period."))
    return parts


def _shown(value: Cell) -> Cell | Markup:
    """A rate as a percentage; the workbook and the CSV keep the fraction."""
    return Markup(f'<td class="n">{escape(_percent(value))}</td>') if isinstance(value, Rate) else value


def report_html(report: S.Report) -> str:
    period = period_name(report) or "report"
    title = f"Statistics report {period} {report.period_start} to {report.period_end} (统计报表)"
    boundary = boundary_name(report)
    return page(
        title,
        [
            f"<h1>Statistics report: {escape(period.lower())} {escape(report.period_start)} to "
            f"{escape(report.period_end)} <span class='sub'>统计报表</span></h1>",
            f'<p class="sub">Report {escape(report.report_id)} · generated {escape(generated_at(report))}'
            + (f" · periods: {escape(boundary.lower())}" if boundary else "")
            + "</p>",
            "<p>Made once when the period was over; it never changes (a late event is counted in the next"
            " report's late corrections).</p>",
            _headline(report),
            "<h2>Charts</h2>",
            volume_trend_chart(report),
            sla_by_team_chart(report),
            satisfaction_chart(report),
            alerts_chart(report),
            *_tables(report_sections(report)),
        ],
        style=_STYLE,
    )
