"""Report periods: weeks, months, quarters and years, calendar and day-21, in the desk's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from desk.config import load_settings
from desk.errors import ConfigurationError
from services.stats.periods import Boundary, PeriodKind, ReportPeriod, parse_report_id

SHANGHAI = "Asia/Shanghai"
CAL = Boundary.CALENDAR
D21 = Boundary.DAY_21


def period(kind: PeriodKind, day: str, boundary: Boundary = CAL, zone: str = SHANGHAI) -> ReportPeriod:
    return ReportPeriod.containing(kind, date.fromisoformat(day), boundary, zone)


def test_a_week_across_new_year_is_one_iso_week_of_the_new_year() -> None:
    week = period(PeriodKind.WEEKLY, "2026-12-31")
    assert (week.first_day, week.last_day) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.report_id == "WEEKLY-2026-W53"
    assert period(PeriodKind.WEEKLY, "2027-01-03") == week
    assert week.following().report_id == "WEEKLY-2027-W01"
    # 2025's last days belong to 2026's first week.
    assert period(PeriodKind.WEEKLY, "2025-12-29").report_id == "WEEKLY-2026-W01"


def test_weeks_stay_iso_weeks_on_the_day_21_boundary() -> None:
    assert period(PeriodKind.WEEKLY, "2026-11-21", D21) == period(PeriodKind.WEEKLY, "2026-11-21", CAL)
    assert period(PeriodKind.WEEKLY, "2026-11-21", D21).boundary is CAL


def test_a_calendar_quarter() -> None:
    quarter = period(PeriodKind.QUARTERLY, "2026-11-15")
    assert (quarter.first_day, quarter.last_day) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter.report_id == "QUARTERLY-2026-Q4"
    assert quarter.days == 92
    assert quarter.previous().report_id == "QUARTERLY-2026-Q3"
    assert quarter.following().report_id == "QUARTERLY-2027-Q1"


def test_a_day_21_month_runs_from_the_21st_to_the_20th() -> None:
    before, on = period(PeriodKind.MONTHLY, "2026-11-20", D21), period(PeriodKind.MONTHLY, "2026-11-21", D21)
    assert (before.first_day, before.last_day) == (date(2026, 10, 21), date(2026, 11, 20))
    assert (on.first_day, on.last_day) == (date(2026, 11, 21), date(2026, 12, 20))
    assert on.report_id == "MONTHLY21-2026-11-21"
    assert before.following() == on


def test_a_day_21_cycle_across_a_year_end() -> None:
    month = period(PeriodKind.MONTHLY, "2027-01-05", D21)
    assert (month.first_day, month.last_day) == (date(2026, 12, 21), date(2027, 1, 20))
    quarter = period(PeriodKind.QUARTERLY, "2026-12-21", D21)
    assert (quarter.first_day, quarter.last_day) == (date(2026, 12, 21), date(2027, 3, 20))
    assert quarter.previous().first_day == date(2026, 9, 21)
    year = period(PeriodKind.YEARLY, "2027-06-01", D21)
    assert (year.first_day, year.last_day) == (date(2026, 12, 21), date(2027, 12, 20))
    assert year.report_id == "YEARLY21-2026-12-21"
    assert period(PeriodKind.YEARLY, "2026-12-20", D21).report_id == "YEARLY21-2025-12-21"


def test_a_month_in_shanghai_is_not_the_utc_month() -> None:
    november = period(PeriodKind.MONTHLY, "2026-11-30", zone=SHANGHAI)
    assert november.report_id == "MONTHLY-2026-11"
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    # 17:00 UTC on 30 November is 1 December in Shanghai: November is over there, not in UTC.
    instant = datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert november.is_over(instant)
    assert not period(PeriodKind.MONTHLY, "2026-11-30", zone="UTC").is_over(instant)
    assert ReportPeriod.last_over_at(PeriodKind.MONTHLY, instant, CAL, SHANGHAI) == november
    assert ReportPeriod.last_over_at(PeriodKind.MONTHLY, instant, CAL, "UTC").report_id == "MONTHLY-2026-10"


def test_the_period_a_schedule_run_reports_on_is_the_last_one_over() -> None:
    monday = datetime(2026, 11, 30, 1, tzinfo=UTC)  # 09:00 Monday in Shanghai
    assert ReportPeriod.last_over_at(PeriodKind.WEEKLY, monday, CAL, SHANGHAI).report_id == "WEEKLY-2026-W48"
    on_21st = datetime(2026, 12, 20, 17, tzinfo=UTC)  # 01:00 on 21 December in Shanghai
    assert ReportPeriod.last_over_at(PeriodKind.YEARLY, on_21st, D21, SHANGHAI).report_id == (
        "YEARLY21-2025-12-21"
    )


@pytest.mark.parametrize(
    "report_id",
    [
        "WEEKLY-2026-W48",
        "WEEKLY-2026-W53",
        "MONTHLY-2026-11",
        "QUARTERLY-2026-Q4",
        "YEARLY-2026",
        "MONTHLY21-2026-11-21",
        "QUARTERLY21-2026-12-21",
        "YEARLY21-2025-12-21",
    ],
)
def test_a_report_id_names_its_period(report_id: str) -> None:
    assert parse_report_id(report_id, SHANGHAI).report_id == report_id


@pytest.mark.parametrize(
    "text",
    ["", "MONTHLY-2026-13", "WEEKLY-2025-W53", "MONTHLY21-2026-11-20", "QUARTERLY21-2026-11-21", "X-1"],
)
def test_a_text_naming_no_period_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_report_id(text, SHANGHAI)


def test_the_desks_boundary_is_a_setting() -> None:
    assert load_settings({}).report_boundary == "calendar"
    assert load_settings({"HELPDESK_REPORT_BOUNDARY": "day21"}).report_boundary == "day21"
    assert Boundary.from_setting("day21") is D21
    with pytest.raises(ConfigurationError):
        load_settings({"HELPDESK_REPORT_BOUNDARY": "day20"})
