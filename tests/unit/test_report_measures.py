"""A report's measures (the counts a late correction names) and what moved between two of them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.stats.periods import Boundary, PeriodKind, ReportPeriod
from services.stats.report_wire import changes, measures, report_from_json, report_message, report_to_json
from services.stats.rollups import AgentTotals, PeriodTotals, TeamTotals

MAY = ReportPeriod.containing(PeriodKind.MONTHLY, date(2024, 5, 1), Boundary.CALENDAR, "Asia/Shanghai")


def test_every_count_of_a_report_is_a_measure_by_name() -> None:
    totals = PeriodTotals(
        first_day=MAY.first_day,
        last_day=MAY.last_day,
        tickets=3,
        volume_by_channel={"PHONE": 3},
        warnings=2,
        teams=(TeamTotals("network", dispatches=1, sla_met=1),),
        agents=(AgentTotals("rep-a", recorded=3),),
    )
    report = report_message(MAY, totals, generated_at=datetime(2024, 6, 1, tzinfo=UTC))
    assert measures(report) == {
        "tickets": 3,
        "volume_by_channel/PHONE": 3,
        "warnings": 2,
        "teams/network/dispatches": 1,
        "teams/network/sla_met": 1,
        "agents/rep-a/recorded": 3,
    }
    assert report_from_json(report_to_json(report)) == report


def test_changes_are_the_measures_that_moved_and_by_how_much() -> None:
    before = {"tickets": 3, "volume_by_channel/PHONE": 3, "warnings": 1}
    now = {"tickets": 5, "volume_by_channel/PHONE": 3, "volume_by_channel/EMAIL": 2}
    assert changes(before, now) == {"tickets": 2, "volume_by_channel/EMAIL": 2, "warnings": -1}
