"""QualityService: the workload ledger's samples, spot checks, inspections and weekly reports."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg
from grpc import aio
from temporalio.client import Client

from desk.auth import QA_INSPECTORS
from desk.errors import InvalidArgument, NotFound, TransitionNotAllowed
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import PageTokens, Position, page_size
from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.quality import repository, wire
from services.quality.daily_runs import DailyRuns
from services.quality.inspections import Inspections
from services.quality.reports import WeeklyReports

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

ACCESS = {
    name: QA_INSPECTORS for name in quality_pb2.DESCRIPTOR.services_by_name["QualityService"].methods_by_name
}


class QualityServicer(quality_pb2_grpc.QualityServiceServicer):
    def __init__(
        self,
        db: asyncpg.Pool,
        temporal: Client,
        *,
        time_zone: str,
        inspections: Inspections,
        reports: WeeklyReports,
        page_tokens: PageTokens,
    ) -> None:
        self._db = db
        self._page_tokens = page_tokens
        self._zone = ZoneInfo(time_zone)
        self._daily_runs = DailyRuns(db, temporal, time_zone=time_zone)
        self._inspections = inspections
        self._reports = reports

    # --- daily sampling (定期检查) ---

    async def RunDailySampling(
        self, request: quality_pb2.RunDailySamplingRequest, context: aio.ServicerContext
    ) -> quality_pb2.SamplingRun:
        """The day's run, drawn now or the one drawn before: idempotent, also under concurrent calls."""
        day = self._day(request.day)
        if day == self._today():
            raise TransitionNotAllowed(
                f"{day} is not over yet ({self._zone.key}): it can be sampled from tomorrow"
            )
        await self._daily_runs.ensure(day)
        return await self._sampling_run(day)

    async def GetSamplingRun(
        self, request: quality_pb2.GetSamplingRunRequest, context: aio.ServicerContext
    ) -> quality_pb2.SamplingRun:
        return await self._sampling_run(self._day(request.day))

    async def ListWorkload(
        self, request: quality_pb2.ListWorkloadRequest, context: aio.ServicerContext
    ) -> quality_pb2.ListWorkloadResponse:
        """The day's ledger in the order it was recorded: what an auditor recomputes a run from."""
        day = self._day(request.day)
        post = wire.post_from_proto(request.post)
        if post is None and request.post != quality_pb2.POST_UNSPECIFIED:
            raise InvalidArgument.one("post", "is not a post")
        limit = page_size(request.page_size)
        rows = await repository.workload(
            db=self._db,
            day=day,
            post=post,
            staff_id=request.agent_id.strip(),
            after=_position_after(self._page_tokens.after(request)),
            limit=limit,
        )
        last = rows[-1] if len(rows) == limit else None
        token = self._page_tokens.next(request, last.item.occurred_at, str(last.position)) if last else ""
        return quality_pb2.ListWorkloadResponse(
            items=[wire.item_to_proto(row) for row in rows], next_page_token=token
        )

    def _today(self) -> date:
        return datetime.now(UTC).astimezone(self._zone).date()

    def _day(self, value: str) -> date:
        """A day that has begun, in the desk's time zone."""
        if not value.strip():
            raise InvalidArgument.one("day", "is required, as YYYY-MM-DD")
        try:
            if not _ISO_DAY.fullmatch(value.strip()):
                raise ValueError(value)
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidArgument.one("day", f"{value!r} is not a date (YYYY-MM-DD)") from None
        if day > self._today():
            raise InvalidArgument.one("day", f"{day} is in the future ({self._zone.key})")
        return day

    async def _sampling_run(self, day: date) -> quality_pb2.SamplingRun:
        run = await repository.get_run(db=self._db, day=day)
        if run is None:
            raise NotFound("sampling run", day.isoformat())
        samples = await repository.run_samples(db=self._db, day=day)
        late = await repository.late_items(db=self._db, day=day, after=run.ledger_position)
        return wire.sampling_run_to_proto(run, samples, late)

    # --- spot checks (不定期抽查) and inspections ---

    async def SpotCheck(
        self, request: quality_pb2.SpotCheckRequest, context: aio.ServicerContext
    ) -> quality_pb2.Inspection:
        scope, size = wire.spot_check_from_proto(request)
        spot = await self._inspections.spot_check(
            scope=scope,
            size=size,
            reason=request.reason.strip(),
            request_id=request.request_id.strip() or str(uuid.uuid4()),  # none given: not to be retried
            actor=current_principal().principal_id,
        )
        return wire.spot_check_to_proto(spot)

    async def RecordInspection(
        self, request: quality_pb2.RecordInspectionRequest, context: aio.ServicerContext
    ) -> quality_pb2.Inspection:
        inspection = await self._inspections.record(
            wire.inspection_from_proto(request), actor=current_principal().principal_id
        )
        return wire.inspection_to_proto(inspection)

    async def ListScorecards(
        self, request: quality_pb2.ListScorecardsRequest, context: aio.ServicerContext
    ) -> quality_pb2.ListScorecardsResponse:
        return wire.scorecards_to_proto()

    # --- the weekly report (每周质检分析报告) ---

    async def GetQualityReport(
        self, request: quality_pb2.GetQualityReportRequest, context: aio.ServicerContext
    ) -> quality_pb2.QualityReport:
        return await self._reports.get(request.week)


def _position_after(after: Position | None) -> int:
    """The ledger position a verified ListWorkload page token left off at (0: from the start)."""
    if after is None:
        return 0
    _, position = after
    if not position.isdigit() or int(position) > 2**63 - 1:  # a ledger position is a bigint
        raise InvalidArgument.one("page_token", "is not a token this service issued")
    return int(position)


def binding(servicer: QualityServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, quality_pb2, quality_pb2_grpc, "QualityService")
