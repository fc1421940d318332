"""The statistics report's exports: the CSV's blocks, the JSON's round trip, the workbook opened again,
and the page's charts, tables and escaping (services/stats/exports.py, services/stats/report_page.py)."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from google.protobuf import json_format
from openpyxl import load_workbook

from helpdesk.v1 import stats_pb2
from services.stats.exports import file_stem, report_csv, report_json, report_xlsx
from services.stats.report_page import report_html
from tests.unit.stats_report_sample import sample_report

SECTIONS = [
    "summary", "volume_by_channel", "volume_by_kind", "volume_by_customer_tier", "volume_by_handling",
    "volume_by_stage", "satisfaction", "escalations_by_source", "teams", "agents", "kpis", "sla",
    "daily_volume", "late_corrections",
]  # fmt: skip


def _blocks(text: str) -> dict[str, list[list[str]]]:
    blocks = [list(csv.reader(io.StringIO(b))) for b in text.split("\r\n\r\n")]
    assert all(b[0][0] == "section" for b in blocks)
    return {(b[1][0] if len(b) > 1 else ""): b for b in blocks}


def test_csv_has_a_block_per_section_each_with_its_header() -> None:
    text = report_csv(sample_report())
    blocks = [list(csv.reader(io.StringIO(b))) for b in text.split("\r\n\r\n")]
    assert [b[1][0] for b in blocks if len(b) > 1] == SECTIONS
    named = _blocks(text)
    summary = {row[1]: row[2] for row in named["summary"][1:]}
    assert (summary["period"], summary["tickets"], summary["warnings"], summary["satisfaction_rate"]) == (
        "WEEKLY", "91", "7", "0.8",
    )  # fmt: skip
    assert named["volume_by_stage"][1:] == [
        ["volume_by_stage", "IVR", "21"],
        ["volume_by_stage", "JUNIOR_AGENT", "40"],
        ["volume_by_stage", "SENIOR_AGENT", "19"],
        ["volume_by_stage", "OPS_TEAM", "10"],
        ["volume_by_stage", "MANAGER_HOTLINE", "1"],
    ]  # fmt: skip (the stages in the order a report climbs them)
    assert [r[1] for r in named["satisfaction"][1:]] == [
        "RATING_VERY_SATISFIED", "RATING_SATISFIED", "RATING_NEUTRAL", "RATING_UNSATISFIED",
    ]  # fmt: skip
    assert named["teams"][0][:3] == ["section", "team_id", "dispatches"]
    assert ["teams", "network", "18", "16", "5", "2", "3", "1", "1", "15", "3", "0.8333"] in named["teams"]
    assert ["daily_volume", "2025-05-12", "PHONE", "12"] in named["daily_volume"]
    assert ["late_corrections", "2025-05-05", "2025-05-11", "volume_by_channel/PHONE", "2"] in named[
        "late_corrections"
    ]


def test_an_empty_report_still_has_every_block() -> None:
    text = report_csv(stats_pb2.Report(report_id="r"))
    headers = [next(csv.reader(io.StringIO(b))) for b in text.split("\r\n\r\n")]
    assert len(headers) == len(SECTIONS) and all(h[0] == "section" for h in headers)


def test_json_is_protobufs_mapping_and_reads_back_as_the_same_report() -> None:
    report = sample_report()
    text = report_json(report)
    assert json_format.Parse(text, stats_pb2.Report()) == report
    assert '"period": "PERIOD_WEEKLY"' in text and '"report_id": "weekly-2025-05-12"' in text


def test_the_workbook_has_a_sheet_per_section_with_numbers_as_numbers() -> None:
    book = load_workbook(io.BytesIO(report_xlsx(sample_report())))
    assert book.sheetnames == SECTIONS
    teams = book["teams"]
    assert [c.value for c in teams[1]][:3] == ["team_id", "dispatches", "answered"]
    assert all(c.font.bold for c in teams[1])
    assert teams.freeze_panes == "A2"
    network = [c.value for c in teams[2]]
    assert network[:4] == ["network", 18, 16, 5]
    assert teams.cell(2, 11).value == 0.8333 and teams.cell(2, 11).number_format == "0.0%"
    assert teams.column_dimensions["A"].width >= len("team_id")
    daily = book["daily_volume"]
    assert [c.value for c in daily[2]] == ["2025-05-12", "EMAIL", 1]
    summary = {row[0].value: row[1].value for row in book["summary"].iter_rows(min_row=2)}
    assert summary["tickets"] == 91 and summary["satisfaction_rate"] == 0.8
    assert [c.value for c in book["late_corrections"][2]] == [
        "2025-05-05",
        "2025-05-11",
        "volume_by_channel/PHONE",
        2,
    ]


def test_the_same_report_gives_the_same_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    first = report_xlsx(sample_report())
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # the zip writer dates entries by this clock
    assert report_xlsx(sample_report()) == first


def test_the_download_is_named_after_the_period() -> None:
    assert file_stem(sample_report()) == "stats-weekly-2025-05-12"


def test_the_page_has_each_chart_with_the_reports_numbers() -> None:
    page = report_html(sample_report())
    for chart in ("chart-volume-trend", "chart-sla-by-team", "chart-satisfaction", "chart-alerts"):
        assert f'id="{chart}"' in page and f'aria-labelledby="{chart}-title {chart}-desc"' in page
    assert "<title>2025-05-14 · PHONE: 15</title>" in page  # a point of the trend
    assert 'data-label="network" data-value="83.3 % (15 of 18)"' in page
    assert 'data-label="VERY_SATISFIED" data-value="10 (50.0 %)"' in page
    assert 'data-label="All teams · warnings" data-value="7"' in page
    assert 'data-label="software · chases" data-value="1"' in page
    for heading in ("Late corrections", "Volume by the stage", "Agents", "KPIs"):
        assert heading in page
    assert "volume_by_channel/PHONE" in page


def test_the_page_escapes_every_text_and_fetches_nothing() -> None:
    page = report_html(sample_report(team='<script>alert("x")</script>'))
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(link|img|iframe|object)\b", page)


def test_an_empty_period_says_so_instead_of_empty_charts() -> None:
    page = report_html(stats_pb2.Report(report_id="r", period=stats_pb2.PERIOD_MONTHLY))
    assert "No tickets in this period." in page and "Nothing to chart in this period." in page
    assert 'id="chart-alerts"' in page  # the period's totals, zeros, still charted
