"""The weekly QA report's computation over known rows, its weeks in Shanghai time, and its CSV and page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from services.dispatch.contract import ViolationRecord
from services.http.report_pages import report_csv, report_html
from services.quality.contract import IsoWeek
from services.quality.report_wire import report_from_json, report_to_json, report_to_proto
from services.quality.weekly_report import (
    DrawnItem,
    WeekInspection,
    WeekItem,
    WeekRows,
    weekly_report,
)

SHANGHAI = "Asia/Shanghai"
WEEK = IsoWeek.parse("2025-W20", SHANGHAI)
AT = datetime(2025, 5, 19, 1, 0, tzinfo=UTC)


# --- weeks ---


def test_a_week_is_monday_to_sunday_in_shanghai() -> None:
    assert (WEEK.first_day, WEEK.last_day) == (date(2025, 5, 12), date(2025, 5, 18))
    assert WEEK.start == datetime(2025, 5, 11, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
    assert WEEK.end == datetime(2025, 5, 18, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "week"),
    [
        (datetime(2025, 5, 19, 9, 0, tzinfo=UTC), "2025-W20"),  # Monday 17:00 in Shanghai: the Schedule's
        (datetime(2025, 5, 18, 15, 59, tzinfo=UTC), "2025-W19"),  # still Sunday 23:59 in Shanghai
        (datetime(2026, 1, 4, 17, 0, tzinfo=UTC), "2026-W01"),  # W01 of 2026 began on 2025-12-29
        (datetime(2026, 1, 4, 15, 0, tzinfo=UTC), "2025-W52"),
        (datetime(2027, 1, 3, 17, 0, tzinfo=UTC), "2026-W53"),  # 2026 has a week 53
    ],
)
def test_the_week_before_is_the_local_one(instant: datetime, week: str) -> None:
    assert IsoWeek.before(instant, SHANGHAI).name == week


@pytest.mark.parametrize("text", ["2025-20", "2025-W5", "2025-W00", "2025-W53", "W20-2025", "", "2025-w20"])
def test_not_a_week(text: str) -> None:
    with pytest.raises(ValueError):
        IsoWeek.parse(text, SHANGHAI)


# --- the computation ---


def _item(item_id: str, post: str, staff: str, *, sampled: bool = False, kind: str = "RECORD") -> WeekItem:
    return WeekItem(item_id, post, staff, kind, sampled)


def _review(item_id: str, junior: str, outcome: str) -> WeekItem:
    return WeekItem(item_id, "SENIOR_AGENT", "senior-1", "REVIEW", False, junior, outcome)


def _violation(n: int, source: str, agent: str, team: str, code: str = "") -> ViolationRecord:
    return ViolationRecord(f"V-{n}", source, agent, team, code, AT)


ROWS = WeekRows(
    items=[
        _item("a1", "AGENT", "agent-1", sampled=True),
        _item("a2", "AGENT", "agent-1"),
        _item("a3", "AGENT", "agent-1"),
        _item("b1", "AGENT", "agent-2", sampled=True),
        _item("b2", "AGENT", "agent-2"),
        _review("r1", "agent-1", "APPROVED"),
        _review("r2", "agent-1", "REJECTED"),
        _review("r3", "agent-2", "APPROVED"),
        _review("r4", "agent-1", "APPROVED"),
        _item("s1", "SURVEYOR", "surveyor-1", kind="CALLBACK"),
    ],
    spot_checked=[DrawnItem("a2", "AGENT", "agent-1"), DrawnItem("s1", "SURVEYOR", "surveyor-1")],
    inspections=[
        WeekInspection(
            "a1",
            "AGENT",
            "agent-1",
            80,
            (("record_completeness", 70), ("attitude", 90)),
            codes=("RECORD_INCOMPLETE",),
        ),
        WeekInspection("a2", "AGENT", "agent-1", 90, (("record_completeness", 90), ("attitude", 90))),
        WeekInspection(
            "b1",
            "AGENT",
            "agent-2",
            65,
            (("record_completeness", 50), ("attitude", 80)),
            team_id="network",
            codes=("RECORD_INCOMPLETE", "DISCOURTEOUS"),
        ),
        WeekInspection("s1", "SURVEYOR", "surveyor-1", 100, (("nothing_missed", 100),)),
    ],
    violations=[
        # The ledger's inspection violations of the week are another week's items' (or these, counted
        # from the inspections): not counted from the ledger.
        _violation(1, "INSPECTION", "agent-3", "service-desk", "WRONG_ANSWER"),
        _violation(4, "DEADLINE", "eng-1", "network"),
        _violation(5, "DEADLINE", "", "network"),
        _violation(6, "DEADLINE", "eng-2", "software"),
        _violation(7, "INVESTIGATION", "agent-1", "desk"),
    ],
)


def test_headline_numbers() -> None:
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    assert (report.week, report.first_day, report.last_day) == ("2025-W20", "2025-05-12", "2025-05-18")
    assert (report.sampled, report.spot_checked, report.inspected) == (2, 2, 4)
    assert report.mean_score == 83.75  # (80 + 90 + 65 + 100) / 4


def test_per_person_and_post() -> None:
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    people = {(p.post, p.agent_id): p for p in report.people}
    one = people["AGENT", "agent-1"]
    assert (one.items, one.sampled, one.spot_checked, one.inspected, one.mean_score) == (3, 1, 1, 2, 85.0)
    assert one.violations == 2  # an inspection's and an investigation's
    two = people["AGENT", "agent-2"]
    assert (two.items, two.sampled, two.inspected, two.mean_score, two.violations) == (2, 1, 1, 65.0, 2)
    surveyor = people["SURVEYOR", "surveyor-1"]
    assert (surveyor.items, surveyor.spot_checked, surveyor.inspected) == (1, 1, 1)
    assert [p.post for p in report.posts] == ["AGENT", "SENIOR_AGENT", "SURVEYOR"]  # the posts' order
    agents = report.posts[0]
    assert (agents.items, agents.sampled, agents.spot_checked, agents.inspected) == (5, 2, 1, 3)
    assert agents.mean_score == 78.33  # (80 + 90 + 65) / 3
    assert agents.violations == 4


def test_criteria_means_in_the_scorecards_order() -> None:
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    means = [(c.post, c.criterion, c.mean_score, c.inspected) for c in report.criteria]
    assert means == [
        ("AGENT", "record_completeness", 70.0, 3),
        ("AGENT", "attitude", 86.67, 3),
        ("SURVEYOR", "nothing_missed", 100.0, 1),
    ]


def test_violations_per_person_and_team_from_every_source() -> None:
    """Inspections' from the week's inspections, the others from the ledger's week."""
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    by_person = [(t.agent_id, t.source, t.code, t.count) for t in report.violations_by_person]
    assert by_person == [
        ("agent-1", "INSPECTION", "RECORD_INCOMPLETE", 1),
        ("agent-1", "INVESTIGATION", "", 1),
        ("agent-2", "INSPECTION", "DISCOURTEOUS", 1),
        ("agent-2", "INSPECTION", "RECORD_INCOMPLETE", 1),
        ("eng-1", "DEADLINE", "", 1),
        ("eng-2", "DEADLINE", "", 1),
    ]  # the deadline without a person is only the team's
    by_team = [(t.team_id, t.source, t.code, t.count) for t in report.violations_by_team]
    assert by_team == [
        ("desk", "INVESTIGATION", "", 1),
        ("network", "INSPECTION", "DISCOURTEOUS", 1),  # the item's team
        ("network", "INSPECTION", "RECORD_INCOMPLETE", 1),
        ("network", "DEADLINE", "", 2),
        ("service-desk", "INSPECTION", "RECORD_INCOMPLETE", 1),  # the desk's own work
        ("software", "DEADLINE", "", 1),
    ]


def test_weakest_areas_lowest_criteria_then_most_violations() -> None:
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    areas = [(w.post, w.criterion, w.mean_score) for w in report.weakest]
    assert areas == [
        ("AGENT", "record_completeness", 70.0),  # a mean of 100 is no weakness: nothing_missed is not here
        ("AGENT", "attitude", 86.67),
        ("", "", 0.0),  # DEADLINE x3
        ("AGENT", "record_completeness", 70.0),  # RECORD_INCOMPLETE x2, the agents' code
        ("", "attitude", 0.0),  # DISCOURTEOUS x1: in two posts' catalogues, INSPECTION before INVESTIGATION
    ]
    assert report.weakest[2].why == "3 DEADLINE violations: deadlines missed"
    assert report.weakest[3].why.startswith("2 INSPECTION violations: RECORD_INCOMPLETE")


def test_transfer_gradings_per_junior_agent() -> None:
    report = weekly_report(WEEK, ROWS, generated_at=AT, final=True)
    assert [(t.agent_id, t.approved, t.rejected) for t in report.transfers] == [
        ("agent-1", 2, 1),
        ("agent-2", 1, 0),
    ]


def test_an_empty_week() -> None:
    report = weekly_report(WEEK, WeekRows(), generated_at=AT, final=False)
    assert (report.sampled, report.inspected, report.mean_score, report.final) == (0, 0, 0.0, False)
    assert not (report.people or report.criteria or report.weakest or report.transfers)


def test_the_stored_form_reads_back_as_the_same_report() -> None:
    proto = report_to_proto(weekly_report(WEEK, ROWS, generated_at=AT, final=True))
    assert report_from_json(report_to_json(proto)) == proto
    assert proto.generated_at.ToDatetime(tzinfo=UTC) == AT


# --- CSV and the page ---


def test_csv_has_a_block_per_section_each_with_its_header() -> None:
    text = report_csv(report_to_proto(weekly_report(WEEK, ROWS, generated_at=AT, final=True)))
    blocks = [list(csv.reader(io.StringIO(b))) for b in text.split("\r\n\r\n")]
    names = [b[1][0] if len(b) > 1 else b[0][0] for b in blocks]
    assert names == [
        "summary", "posts", "people", "criteria", "violations_by_person", "violations_by_team", "weakest",
        "transfers",
    ]  # fmt: skip
    assert all(b[0][0] == "section" for b in blocks)
    summary = dict(zip(blocks[0][0], blocks[0][1], strict=True))
    assert (summary["week"], summary["inspected"], summary["mean_score"], summary["final"]) == (
        "2025-W20", "4", "83.75", "true",
    )  # fmt: skip
    assert ["people", "AGENT", "agent-1", "3", "1", "1", "2", "85.00", "2"] in blocks[2]
    # no mean where nothing was scored
    assert ["people", "SENIOR_AGENT", "senior-1", "4", "0", "0", "0", "", "0"] in blocks[2]
    assert summary["generated_at"] == "2025-05-19T01:00:00Z"


def test_the_page_is_self_contained_and_escaped() -> None:
    rows = WeekRows(items=[_item("x", "AGENT", "<script>alert(1)</script>")])
    page = report_html(report_to_proto(weekly_report(WEEK, rows, generated_at=AT, final=False)))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"https?://", page)
    assert "numbers so far" in page
    full = report_html(report_to_proto(weekly_report(WEEK, ROWS, generated_at=AT, final=True)))
    assert full.count("<svg") == 3  # a bar per criterion mean
    assert not re.search(r"https?://", full)
    assert "record_completeness" in full and "agent-2" in full
