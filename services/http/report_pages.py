"""The weekly QA report as CSV and as an HTML page, from the QualityReport message (pure: no I/O).

The CSV and the page's tables come from desk/report_format.py, which the statistics report's
exports share: one block of rows per section, each with its own header row; one self-contained page,
inline SVG bars drawn here, nothing fetched from anywhere, every text from the report escaped.
"""

from __future__ import annotations

from html import escape

from desk.report_format import Cell, Markup, Section, headline, page, sections_csv, table
from helpdesk.v1 import quality_pb2

Q = quality_pb2


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


def _sections(report: Q.QualityReport) -> list[Section]:
    """Every section, in the order both formats show them."""
    return [Section(*section) for section in _section_parts(report)]


def _section_parts(report: Q.QualityReport) -> list[tuple[str, list[str], list[list[Cell]]]]:
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
    return sections_csv(_sections(report))


# --- the page ---

_NONE = "None this week."


def _bar(score: float) -> Markup:
    """A bar of the score out of 100: green from 90, amber from 75, red below."""
    width = max(0.0, min(score, 100.0)) * 2
    colour = "#3c9a5f" if score >= 90 else "#d39b2a" if score >= 75 else "#c8453b"
    label = escape(f"{score:.1f} of 100")
    return Markup(
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
    return headline(cards)


def report_html(report: Q.QualityReport) -> str:
    sections = {s.name: s for s in _sections(report)}
    criteria_rows: list[list[Cell | Markup]] = [
        [_post(c.post), c.criterion, _score(c.mean_score), _bar(c.mean_score), c.inspected]
        for c in report.criteria
    ]
    status = (
        "<p>Final: generated once when the week was over; it never changes.</p>"
        if report.final
        else '<p class="draft">The week is not over: these are the numbers so far, not stored.</p>'
    )

    def shown(name: str) -> str:
        return table(sections[name].header, sections[name].rows, empty=_NONE)

    return page(
        f"QA report {report.week} (每周质检分析报告)",
        [
            f"<h1>Weekly QA report {escape(report.week)} <span class='sub'>每周质检分析报告</span></h1>",
            f'<p class="sub">{escape(report.first_day)} to {escape(report.last_day)} · generated '
            f"{escape(_generated(report))}</p>",
            status,
            _headline(report),
            "<h2>Weakest areas</h2>",
            shown("weakest"),
            "<h2>Per post</h2>",
            shown("posts"),
            "<h2>Per person</h2>",
            shown("people"),
            "<h2>Mean score per criterion</h2>",
            table(["post", "criterion", "mean_score", "", "inspected"], criteria_rows, empty=_NONE),
            "<h2>Violations per person</h2>",
            shown("violations_by_person"),
            "<h2>Violations per team</h2>",
            shown("violations_by_team"),
            "<h2>Transfers graded by senior agents (三.3)</h2>",
            shown("transfers"),
        ],
    )
