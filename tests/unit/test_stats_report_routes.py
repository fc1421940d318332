"""The statistics report over the HTTP gateway without a desk (stats is a fake stub): each format's
content type and download name, the caller's token passed on, a missing token and an unknown id."""

from __future__ import annotations

import csv
import io
from typing import Any

import grpc
import httpx
from google.protobuf import json_format
from openpyxl import load_workbook

from helpdesk.v1 import stats_pb2
from services.http.app import Channels, build_app
from tests.unit.stats_report_sample import sample_report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FakeStats:
    """StatsServiceStub's GetReport: the reports it was given, by id; NOT_FOUND for any other."""

    def __init__(self, *reports: stats_pb2.Report) -> None:
        self.reports = {r.report_id: r for r in reports}
        self.metadata: list[Any] = []

    async def GetReport(self, request: stats_pb2.GetReportRequest, **call: Any) -> stats_pb2.Report:
        self.metadata.append(call["metadata"])
        if request.report_id not in self.reports:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), details="no such report"
            )
        return self.reports[request.report_id]


def _client(stats: FakeStats | None) -> httpx.AsyncClient:
    app = build_app(Channels(None, channel_category="software", stats=stats))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


TOKEN = {"Authorization": "Bearer manager-token"}


async def test_each_format_with_its_content_type_and_download_name() -> None:
    report = sample_report()
    stats = FakeStats(report)
    async with _client(stats) as client:
        as_json = await client.get("/v1/reports/weekly-2025-05-12", headers=TOKEN)
        sheet = await client.get("/v1/reports/weekly-2025-05-12.csv", headers=TOKEN)
        book = await client.get("/v1/reports/weekly-2025-05-12.xlsx", headers=TOKEN)
        page = await client.get("/v1/reports/weekly-2025-05-12.html", headers=TOKEN)
    assert [a.status_code for a in (as_json, sheet, book, page)] == [200] * 4
    assert json_format.ParseDict(as_json.json(), stats_pb2.Report()) == report
    assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert sheet.headers["content-disposition"] == 'attachment; filename="stats-weekly-2025-05-12.csv"'
    assert next(csv.reader(io.StringIO(sheet.text))) == ["section", "measure", "value"]
    assert book.headers["content-type"] == XLSX
    assert book.headers["content-disposition"] == 'attachment; filename="stats-weekly-2025-05-12.xlsx"'
    assert load_workbook(io.BytesIO(book.content))["summary"]["B8"].value == 91  # tickets
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert 'id="chart-volume-trend"' in page.text
    assert stats.metadata == [(("authorization", "Bearer manager-token"),)] * 4


async def test_no_token_unknown_report_and_no_stats_service() -> None:
    async with _client(FakeStats(sample_report())) as client:
        unauthenticated = await client.get("/v1/reports/weekly-2025-05-12.xlsx")
        missing = await client.get("/v1/reports/weekly-1999-01-04.csv", headers=TOKEN)
    assert unauthenticated.status_code == 401
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    async with _client(None) as client:
        assert (await client.get("/v1/reports/weekly-2025-05-12", headers=TOKEN)).status_code == 503


async def test_the_routes_are_documented() -> None:
    async with _client(None) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for suffix in ("", ".csv", ".xlsx", ".html"):
        assert f"/v1/reports/{{report_id}}{suffix}" in paths
    assert XLSX in paths["/v1/reports/{report_id}.xlsx"]["get"]["responses"]["200"]["content"]
