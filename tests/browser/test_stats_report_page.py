"""The statistics report's page in headless chromium, served by the HTTP gateway's own app (uvicorn
on a free loopback port; StatsService is a fake stub answering the sample report): each chart is
drawn with the report's numbers, the tables are there, nothing is fetched from elsewhere, and the
console has no errors. tests/integration/test_stats_report_http.py does the same against the desk."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from helpdesk.v1 import stats_pb2
from services.http.app import Channels, build_app
from tests.browser.report_page_check import check_report_page
from tests.unit.stats_report_sample import sample_report
from tests.unit.test_stats_report_routes import FakeStats

REPORT = sample_report(team="网络组 <ops>")  # CJK and markup in a label: escaped, drawn as text
EMPTY = stats_pb2.Report(
    report_id="monthly-2025-02-01", period=stats_pb2.PERIOD_MONTHLY, period_start="2025-02-01"
)


@pytest.fixture
async def gateway() -> AsyncIterator[str]:
    """The gateway's app on 127.0.0.1, stopped at the end."""
    app = build_app(Channels(None, channel_category="software", stats=FakeStats(REPORT, EMPTY)))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # the browser's connection waits in the backlog until uvicorn accepts it
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    serving = asyncio.ensure_future(server.serve(sockets=[listener]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listener.close()


@pytest.mark.parametrize("report", [REPORT, EMPTY], ids=["known-numbers", "empty-period"])
async def test_the_page_shows_each_chart_with_the_reports_numbers(
    gateway: str, tmp_path: Path, report: stats_pb2.Report
) -> None:
    url = f"{gateway}/v1/reports/{report.report_id}.html"
    visit = await check_report_page(url, "manager-token", report, tmp_path / "report.png")
    assert visit.errors == []
    assert visit.requests == [url]  # nothing else: no font, script, style or image from anywhere
