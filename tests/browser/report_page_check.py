"""The statistics report's page in a real browser: Debian's chromium, driven by Playwright.

`make test` installs chromium when it is missing (Playwright's own browser download cannot work here);
the checks read what the browser drew, and compare it with the report the page was made from.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Page, Request, async_playwright

from helpdesk.v1 import stats_pb2

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Visit:
    """What the browser saw while it loaded the page: its console's errors and every request it made."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


async def check_report_page(url: str, token: str, report: stats_pb2.Report, screenshot: Path) -> Visit:
    """Load the page as a manager's browser would, with the caller's token, and check each chart."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    visit = Visit()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
            page = await context.new_page()
            page.on("console", lambda m: _console(visit, m))
            page.on("pageerror", lambda e: visit.errors.append(f"page error: {e}"))
            page.on("request", lambda r: _request(visit, r))
            answer = await page.goto(url, wait_until="load")
            assert answer is not None and answer.status == 200, answer and await answer.text()
            await _check_charts(page, report)
            await page.screenshot(path=str(screenshot), full_page=True)
        finally:
            await browser.close()
    return visit


def _console(visit: Visit, message: ConsoleMessage) -> None:
    if message.type == "error":
        visit.errors.append(message.text)


def _request(visit: Visit, request: Request) -> None:
    visit.requests.append(request.url)


def _charted(report: stats_pb2.Report) -> dict[str, bool]:
    """Which charts have something to draw: a period without any says so in words instead."""
    return {
        "chart-volume-trend": len(report.daily_volume) > 0,
        "chart-sla-by-team": len(report.teams) > 0,
        "chart-satisfaction": len(report.satisfaction) > 0,
        "chart-alerts": True,  # the period's totals, zeros included
    }


async def _check_charts(page: Page, report: stats_pb2.Report) -> None:
    for chart, drawn in _charted(report).items():
        if not drawn:
            assert await page.locator(f"#{chart}").count() == 0
            continue
        box = await page.locator(f"#{chart}").bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, chart
        assert await page.locator(f"#{chart}-title").text_content()
    await _check_trend(page, report)
    await _check_bars(page, report)


async def _check_trend(page: Page, report: stats_pb2.Report) -> None:
    days = {d.day for d in report.daily_volume}
    channels = {d.channel for d in report.daily_volume}
    points = page.locator("#chart-volume-trend circle.point")
    assert await points.count() == len(days) * len(channels)
    assert await page.locator("#chart-volume-trend polyline").count() == len(channels)
    titles = set(await page.locator("#chart-volume-trend circle.point title").all_text_contents())
    assert {f"{d.day} · {d.channel}: {d.tickets}" for d in report.daily_volume} <= titles


async def _bars(page: Page, chart: str) -> dict[str, str]:
    """Each bar's label and the number written after it, as the browser has them."""
    labels = await page.locator(f"#{chart} g.bar text.label").all_text_contents()
    values = await page.locator(f"#{chart} g.bar text.value").all_text_contents()
    return dict(zip(labels, values, strict=True))


async def _check_bars(page: Page, report: stats_pb2.Report) -> None:
    sla = await _bars(page, "chart-sla-by-team")
    assert sla == {
        t.team_id: f"{t.sla_compliance * 100:.1f} % ({t.sla_met} of {t.sla_met + t.sla_missed})"
        for t in report.teams
    }
    satisfaction = await _bars(page, "chart-satisfaction")
    assert {k: v.split(" ")[0] for k, v in satisfaction.items()} == {
        rating.removeprefix("RATING_"): str(n) for rating, n in report.satisfaction.items()
    }
    alerts = await _bars(page, "chart-alerts")
    lines: list[tuple[str, stats_pb2.Report | stats_pb2.TeamLine]] = [("All teams", report)]
    lines += [(t.team_id, t) for t in report.teams]
    assert alerts == {
        f"{who} · {measure}": str(getattr(line, measure))
        for who, line in lines
        for measure in ("warnings", "overdue_alarms", "chases")
    }
