"""StatsService: reports (services/stats/report_requests.py) and KPIs."""

from __future__ import annotations

from grpc import aio

from desk.auth import STATISTICIANS
from desk.grpc_edge import ServiceBinding, current_principal
from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats.kpis import Kpis
from services.stats.report_requests import ReportRequests

ACCESS = {
    name: STATISTICIANS for name in stats_pb2.DESCRIPTOR.services_by_name["StatsService"].methods_by_name
}


class StatsServicer(stats_pb2_grpc.StatsServiceServicer):
    def __init__(self, *, kpis: Kpis, reports: ReportRequests) -> None:
        self._kpis = kpis
        self._reports = reports

    async def GenerateReport(
        self, request: stats_pb2.GenerateReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        """The period's report, generated now or before: idempotent per period, never changed."""
        generated = await self._reports.generate(request, actor=current_principal().principal_id)
        return generated.report

    async def GetReport(
        self, request: stats_pb2.GetReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        return await self._reports.get(request)

    async def ListReports(
        self, request: stats_pb2.ListReportsRequest, context: aio.ServicerContext
    ) -> stats_pb2.ListReportsResponse:
        return await self._reports.list(request)

    async def GetKpis(
        self, request: stats_pb2.GetKpisRequest, context: aio.ServicerContext
    ) -> stats_pb2.Kpis:
        """The key figures of a range of the desk's days, from the daily roll-ups (services/stats/kpis.py)."""
        return await self._kpis.get(request)


def binding(servicer: StatsServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, stats_pb2, stats_pb2_grpc, "StatsService")
