"""StatsService: the contract is served now; projections and reports come with the stats issue."""

from __future__ import annotations

from grpc import aio

from desk.auth import STATISTICIANS
from desk.errors import Unimplemented
from desk.grpc_edge import ServiceBinding
from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats.kpis import Kpis

ACCESS = {
    name: STATISTICIANS for name in stats_pb2.DESCRIPTOR.services_by_name["StatsService"].methods_by_name
}


class StatsServicer(stats_pb2_grpc.StatsServiceServicer):
    def __init__(self, *, kpis: Kpis) -> None:
        self._kpis = kpis

    async def GenerateReport(
        self, request: stats_pb2.GenerateReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        raise Unimplemented("GenerateReport")

    async def GetReport(
        self, request: stats_pb2.GetReportRequest, context: aio.ServicerContext
    ) -> stats_pb2.Report:
        raise Unimplemented("GetReport")

    async def ListReports(
        self, request: stats_pb2.ListReportsRequest, context: aio.ServicerContext
    ) -> stats_pb2.ListReportsResponse:
        raise Unimplemented("ListReports")

    async def GetKpis(
        self, request: stats_pb2.GetKpisRequest, context: aio.ServicerContext
    ) -> stats_pb2.Kpis:
        """The key figures of a range of the desk's days, from the daily roll-ups (services/stats/kpis.py)."""
        return await self._kpis.get(request)


def binding(servicer: StatsServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, stats_pb2, stats_pb2_grpc, "StatsService")
