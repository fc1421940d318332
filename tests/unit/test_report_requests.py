"""GenerateReport's request: the period asked for, the desk's boundary by default, refusals by field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from desk.errors import InvalidArgument, TransitionNotAllowed
from desk.paging import PageTokens
from helpdesk.v1 import stats_pb2 as S
from services.stats.periods import Boundary
from services.stats.report_requests import ReportRequests

NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)  # 11:00 on Wednesday 2 December in Shanghai


def requests(boundary: Boundary = Boundary.CALENDAR) -> ReportRequests:
    reports: Any = None  # period() never reaches the store
    tokens = PageTokens(b"a page token key for the tests")
    return ReportRequests(reports, time_zone="Asia/Shanghai", default_boundary=boundary, page_tokens=tokens)


def test_the_period_of_the_day_on_the_desks_boundary_unless_asked() -> None:
    asked = S.GenerateReportRequest(period=S.PERIOD_MONTHLY, day="2026-10-25")
    assert requests().period(asked, now=NOW).report_id == "MONTHLY-2026-10"
    assert requests(Boundary.DAY_21).period(asked, now=NOW).report_id == "MONTHLY21-2026-10-21"
    asked.boundary = S.PERIOD_BOUNDARY_CALENDAR
    assert requests(Boundary.DAY_21).period(asked, now=NOW).report_id == "MONTHLY-2026-10"


def test_a_period_not_over_is_a_failed_precondition() -> None:
    with pytest.raises(TransitionNotAllowed, match="2026-12-07"):
        requests().period(S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2026-12-01"), now=NOW)
    last_week = S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2026-11-29")
    assert requests().period(last_week, now=NOW).report_id == "WEEKLY-2026-W48"


@pytest.mark.parametrize(
    ("request_fields", "fields"),
    [
        ({"day": "2026-01-05"}, ["period"]),
        ({"period": S.PERIOD_WEEKLY}, ["day"]),
        ({"period": S.PERIOD_WEEKLY, "day": "2026-02-30"}, ["day"]),
        ({"period": S.PERIOD_WEEKLY, "day": "2026-12-03"}, ["day"]),  # tomorrow in Shanghai
        ({"period": S.PERIOD_WEEKLY, "day": "2026-01-05", "boundary": 7}, ["boundary"]),
        ({"day": "soon", "boundary": 7}, ["period", "boundary", "day"]),
    ],
)
def test_bad_fields_are_named_all_at_once(request_fields: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        requests().period(S.GenerateReportRequest(**request_fields), now=NOW)
    assert [v.field for v in refused.value.violations] == fields
