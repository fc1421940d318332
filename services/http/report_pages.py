"""The weekly QA report as CSV and as an HTML page, from the QualityReport message (pure: no I/O).

The CSV is one block of rows per section, each with its own header row whose first column is
``section``, blocks apart by an empty row. The page is one self-contained document: inline style,
inline SVG bars drawn here, no script, nothing fetched from anywhere; every text from the report is
escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from html import escape

from helpdesk.v1 import quality_pb2

Q = quality_pb2
Cell = str | int | float


def _post(value: int) -> str:
    return "" if value == Q.POST_UNSPECIFIED else Q.Post.Name(Q.Post.ValueType(value)).removeprefix("POST_")


def _score(value: float) -> str:
    return f"{value:.2f}"


def _generated(report: Q.QualityReport) -> str:
    return report.generated_at.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")


def _mean_if(value: float, measured: bool) -> str:
    """A mean, or empty where nothing was scored (0 would read as a score)."""
    return _score(value) if measured else ""


def _person_row(week: Q.PersonWeek) -> list[Cell]:
    mean = _mean_if(week.mean_score, week.inspected > 0)
    return [week.items, week.sampled, week.spot_checked, week.inspected, mean, week.violations]


_SUMMARY_COLUMNS = [
    "week", "first_day", "last_day", "final", "generated_at", "sampled", "spot_checked", "inspected",
    "mean_score", "violations",
]  # fmt: skip


def _summary_row(report: Q.QualityReport) -> list[Cell]:
    violations = sum(t.count for t in report.violations_by_person)
    return [
        report.week, report.first_day, report.last_day, str(report.final).lower(),
        report.generated_at.ToJsonString(), report.sampled, report.spot_checked, report.inspected,
        _mean_if(report.mean_score, report.inspected > 0), violations,
    ]  # fmt: skip


_WEEK_COLUMNS = ["items", "sampled", "spot_checked", "inspected", "mean_score", "violations"]


def _sections(report: Q.QualityReport) -> list[tuple[str, list[str], list[list[Cell]]]]:
    """(name, header, rows) of every section, in the order both formats show them."""
    return [
        ("summary", _SUMMARY_COLUMNS, [_summary_row(report)]),
        ("posts", ["post", *_WEEK_COLUMNS], [[_post(p.post), *_person_row(p)] for p in report.posts]),
        (
            "people",
            ["post", "agent_id", *_WEEK_COLUMNS],
            [[_post(p.post), p.agent_id, *_person_row(p)] for p in report.people],
        ),
        (
            "criteria",
            ["post", "criterion", "mean_score", "inspected"],
            [[_post(c.post), c.criterion, _score(c.mean_score), c.inspected] for c in report.criteria],
        ),
        (
            "violations_by_person",
            ["agent_id", "source", "code", "count"],
            [[t.agent_id, t.source, t.code, t.count] for t in report.violations_by_person],
        ),
        (
            "violations_by_team",
            ["team_id", "source", "code", "count"],
            [[t.team_id, t.source, t.code, t.count] for t in report.violations_by_team],
        ),
        (
            "weakest",
            ["post", "criterion", "mean_score", "why"],
            [[_post(w.post), w.criterion, _weak_mean(report, w), w.why] for w in report.weakest],
        ),
        (
            "transfers",
            ["agent_id", "approved", "rejected"],
            [[t.agent_id, t.approved, t.rejected] for t in report.transfers],
        ),
    ]


def _weak_mean(report: Q.QualityReport, area: Q.WeakArea) -> str:
    scored = any(c.post == area.post and c.criterion == area.criterion for c in report.criteria)
    return _mean_if(area.mean_score, scored)


def report_csv(report: Q.QualityReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, (name, header, rows) in enumerate(_sections(report)):
        if index:
            writer.writerow([])
        writer.writerow(["section", *header])
        writer.writerows([name, *row] for row in rows)
    return out.getvalue()


# --- the page ---

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:2rem;color:#1d2330;
max-width:72rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.sub{color:#5b6475}.draft{background:#fff4d6;border:1px solid #e0b54a;padding:.5rem .8rem;border-radius:4px}
.headline{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d6dbe4;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #e3e7ee;padding:.3rem .7rem;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f6f9}
.empty{color:#8a93a3;font-style:italic}
"""


class _Markup:
    """A cell made here (an SVG bar), inserted as it is."""

    def __init__(self, html: str) -> None:
        self.html = html


def _cell(value: Cell) -> str:
    numeric = isinstance(value, int | float) or (isinstance(value, str) and _is_number(value))
    return f'<td class="n">{escape(str(value))}</td>' if numeric else f"<td>{escape(str(value))}</td>"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _table(header: Sequence[str], rows: Iterable[Sequence[Cell | _Markup]]) -> str:
    body = "".join(
        "<tr>" + "".join(c.html if isinstance(c, _Markup) else _cell(c) for c in row) + "</tr>"
        for row in rows
    )
    if not body:
        return '<p class="empty">None this week.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bar(score: float) -> _Markup:
    """A bar of the score out of 100: green from 90, amber from 75, red below."""
    width = max(0.0, min(score, 100.0)) * 2
    colour = "#3c9a5f" if score >= 90 else "#d39b2a" if score >= 75 else "#c8453b"
    label = escape(f"{score:.1f} of 100")
    return _Markup(
        f'<td><svg width="204" height="14" role="img" aria-label="{label}">'
        f'<rect x="0" y="1" width="200" height="12" fill="#eef1f5"/>'
        f'<rect x="0" y="1" width="{width:.1f}" height="12" fill="{colour}"/></svg></td>'
    )


def _headline(report: Q.QualityReport) -> str:
    violations = sum(t.count for t in report.violations_by_person)
    cards = [
        ("Sampled", str(report.sampled)),
        ("Spot-checked", str(report.spot_checked)),
        ("Inspected", str(report.inspected)),
        ("Mean score", _score(report.mean_score) if report.inspected else "none"),
        ("Violations (people)", str(violations)),
    ]
    return '<div class="headline">' + "".join(
        f'<div class="card"><b>{escape(value)}</b>{escape(name)}</div>' for name, value in cards
    ) + "</div>"  # fmt: skip


def report_html(report: Q.QualityReport) -> str:
    sections = {name: (header, rows) for name, header, rows in _sections(report)}
    criteria_rows: list[list[Cell | _Markup]] = [
        [_post(c.post), c.criterion, _score(c.mean_score), _bar(c.mean_score), c.inspected]
        for c in report.criteria
    ]
    status = (
        "<p>Final: generated once when the week was over; it never changes.</p>"
        if report.final
        else '<p class="draft">The week is not over: these are the numbers so far, not stored.</p>'
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(f'QA report {report.week} (每周质检分析报告)')}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Weekly QA report {escape(report.week)} <span class='sub'>每周质检分析报告</span></h1>",
        f'<p class="sub">{escape(report.first_day)} to {escape(report.last_day)} · generated '
        f"{escape(_generated(report))}</p>",
        status,
        _headline(report),
        "<h2>Weakest areas</h2>",
        _table(*sections["weakest"]),
        "<h2>Per post</h2>",
        _table(*sections["posts"]),
        "<h2>Per person</h2>",
        _table(*sections["people"]),
        "<h2>Mean score per criterion</h2>",
        _table(["post", "criterion", "mean_score", "", "inspected"], criteria_rows),
        "<h2>Violations per person</h2>",
        _table(*sections["violations_by_person"]),
        "<h2>Violations per team</h2>",
        _table(*sections["violations_by_team"]),
        "<h2>Transfers graded by senior agents (三.3)</h2>",
        _table(*sections["transfers"]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
