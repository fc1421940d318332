"""StatsService: reports (services/stats/report_requests.py) and KPIs."""

from __future__ import annotations

from grpc import aio

from desk.auth import STATISTICIANS
from desk.errors import Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats.report_requests import ReportRequests

ACCESS = {
    name: STATISTICIANS for name in stats_pb2.DESCRIPTOR.services_by_name["StatsService"].methods_by_name
}


class StatsServicer(stats_pb2_grpc.StatsServiceServicer):
    def __init__(self, *, reports: ReportRequests | None = None) -> None:
        self._reports = reports

    def _report_requests(self) -> ReportRequests:
        if self._reports is None:
            raise Unimplemented("reports")
        return self._reports

    async def GenerateReport(
        self, request: stats_pb2.GenerateReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        """The period's report, generated now or before: idempotent per period, never changed."""
        generated = await self._report_requests().generate(request, actor=current_principal().principal_id)
        return generated.report

    async def GetReport(
        self, request: stats_pb2.GetReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        return await self._report_requests().get(request)

    async def ListReports(
        self, request: stats_pb2.ListReportsRequest, context: aio.ServicerContext
    ) -> stats_pb2.ListReportsResponse:
        return await self._report_requests().list(request)

    async def GetKpis(
        self, request: stats_pb2.GetKpisRequest, context: aio.ServicerContext
    ) -> stats_pb2.Kpis:
        raise Unimplemented("GetKpis")


def binding(servicer: StatsServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, stats_pb2, stats_pb2_grpc, "StatsService")
