"""QualityService: the workload ledger's samples, spot checks, inspections and weekly reports."""

from __future__ import annotations

import uuid

from grpc import aio

from desk.auth import QA_INSPECTORS
from desk.errors import Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.quality import wire
from services.quality.inspections import Inspections

ACCESS = {
    name: QA_INSPECTORS for name in quality_pb2.DESCRIPTOR.services_by_name["QualityService"].methods_by_name
}


class QualityServicer(quality_pb2_grpc.QualityServiceServicer):
    def __init__(self, *, inspections: Inspections) -> None:
        self._inspections = inspections

    # --- daily sampling (定期检查) ---

    async def RunDailySampling(
        self, request: quality_pb2.RunDailySamplingRequest, context: aio.ServicerContext
    ) -> quality_pb2.SamplingRun:
        raise Unimplemented("RunDailySampling")

    async def GetSamplingRun(
        self, request: quality_pb2.GetSamplingRunRequest, context: aio.ServicerContext
    ) -> quality_pb2.SamplingRun:
        raise Unimplemented("GetSamplingRun")

    async def ListWorkload(
        self, request: quality_pb2.ListWorkloadRequest, context: aio.ServicerContext
    ) -> quality_pb2.ListWorkloadResponse:
        raise Unimplemented("ListWorkload")

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
        raise Unimplemented("GetQualityReport")


def binding(servicer: QualityServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, quality_pb2, quality_pb2_grpc, "QualityService")
