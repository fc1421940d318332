"""The report RPCs' edge: GenerateReport, GetReport and ListReports validated and translated.

Bad input is INVALID_ARGUMENT naming the field (an unspecified period, a day that is not a date or is
in the future, an unknown boundary); a period not over yet is FAILED_PRECONDITION: it can be reported
from the day after its last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from desk.errors import FieldViolation, InvalidArgument, TransitionNotAllowed
from desk.paging import PageTokens, page_size
from helpdesk.v1 import stats_pb2
from services.stats.periods import Boundary, PeriodKind, ReportPeriod
from services.stats.report_wire import BOUNDARIES, PERIODS
from services.stats.reports import Generated, Reports

_KINDS = {value: kind for kind, value in PERIODS.items()}
_BOUNDARIES = {value: boundary for boundary, value in BOUNDARIES.items()}


class ReportRequests:
    def __init__(
        self, reports: Reports, *, time_zone: str, default_boundary: Boundary, page_tokens: PageTokens
    ) -> None:
        self._reports = reports
        self._page_tokens = page_tokens
        self._time_zone = time_zone
        self._default_boundary = default_boundary

    def period(self, request: stats_pb2.GenerateReportRequest, *, now: datetime) -> ReportPeriod:
        """The period asked for, over at ``now``; InvalidArgument naming every bad field at once."""
        violations: list[FieldViolation] = []
        kind = _KINDS.get(request.period)
        if kind is None:
            violations.append(FieldViolation("period", "is required: WEEKLY, MONTHLY, QUARTERLY or YEARLY"))
        boundary = self._boundary(request.boundary, violations)
        day = _day(request.day, violations, today=now.astimezone(ZoneInfo(self._time_zone)).date())
        if violations or kind is None or boundary is None or day is None:
            raise InvalidArgument(violations)
        period = ReportPeriod.containing(kind, day, boundary, self._time_zone)
        if not period.is_over(now):
            raise TransitionNotAllowed(
                f"{period.report_id} ({period.first_day} to {period.last_day}) is not over in"
                f" {self._time_zone}: it can be reported from {period.end.date()}"
            )
        return period

    def _boundary(
        self, value: stats_pb2.PeriodBoundary.ValueType, violations: list[FieldViolation]
    ) -> Boundary | None:
        if value == stats_pb2.PERIOD_BOUNDARY_UNSPECIFIED:
            return self._default_boundary
        boundary = _BOUNDARIES.get(value)
        if boundary is None:
            violations.append(FieldViolation("boundary", "is not a period boundary: CALENDAR or DAY_21"))
        return boundary

    async def generate(self, request: stats_pb2.GenerateReportRequest, *, actor: str) -> Generated:
        now = datetime.now(UTC)
        return await self._reports.generate(self.period(request, now=now), actor=actor, now=now)

    async def get(self, request: stats_pb2.GetReportRequest) -> stats_pb2.Report:
        if not request.report_id.strip():
            raise InvalidArgument.one("report_id", "is required (e.g. MONTHLY-2026-11)")
        return await self._reports.get(request.report_id)

    async def list(self, request: stats_pb2.ListReportsRequest) -> stats_pb2.ListReportsResponse:
        kind: PeriodKind | None = None
        if request.period != stats_pb2.PERIOD_UNSPECIFIED:
            kind = _KINDS.get(request.period)
            if kind is None:
                raise InvalidArgument.one("period", "is not a period: WEEKLY, MONTHLY, QUARTERLY or YEARLY")
        limit = page_size(request.page_size)
        reports, following = await self._reports.page(
            period=kind.value if kind else "", after=self._page_tokens.after(request), limit=limit
        )
        token = self._page_tokens.next(request, *following) if following else ""
        return stats_pb2.ListReportsResponse(reports=reports, next_page_token=token)


def _day(text: str, violations: list[FieldViolation], *, today: date) -> date | None:
    if not text.strip():
        violations.append(FieldViolation("day", "is required: a day inside the period, YYYY-MM-DD"))
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        violations.append(FieldViolation("day", f"{text.strip()!r} is not a date (YYYY-MM-DD)"))
        return None
    if day > today:
        violations.append(FieldViolation("day", f"{day} is in the future (today is {today})"))
        return None
    return day
