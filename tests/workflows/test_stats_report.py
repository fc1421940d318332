"""The statistics report's workflow on a time-skipping server whose clock starts at a chosen instant:
a Schedule's run (no day) hands the activity its start time, from which the activity takes the newest
period over; a named day passes through without one. The activity is a fake under its real name that
works the period out as the real one does (services/stats/activities.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.stats.activities import period_of
from tests.workflows.clock import server_starting_at
from workflows.stats_contract import (
    GENERATE_REPORT,
    REPORT_WORKFLOW,
    GeneratedReport,
    GenerateReportInput,
    ReportInput,
)
from workflows.stats_report import StatsReportWorkflow

SHANGHAI = "Asia/Shanghai"


class FakeActivity:
    def __init__(self) -> None:
        self.requests: list[GenerateReportInput] = []

    @activity.defn(name=GENERATE_REPORT)
    async def generate(self, request: GenerateReportInput) -> GeneratedReport:
        self.requests.append(request)
        return GeneratedReport(report_id=period_of(request).report_id, created=True)


Run = Callable[[datetime, ReportInput], Awaitable[GeneratedReport]]


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[tuple[Run, FakeActivity]]:
    fake = FakeActivity()
    environments: list[WorkflowEnvironment] = []

    async def run_at(at: datetime, input: ReportInput) -> GeneratedReport:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(server_starting_at(at, tmp_path))
        )
        environments.append(env)
        queue = f"stats-{uuid.uuid4()}"
        async with Worker(
            env.client, task_queue=queue, workflows=[StatsReportWorkflow], activities=[fake.generate]
        ):
            generated: GeneratedReport = await env.client.execute_workflow(
                REPORT_WORKFLOW,
                input,
                id=f"report-{uuid.uuid4()}",
                task_queue=queue,
                result_type=GeneratedReport,
            )
            return generated

    yield run_at, fake
    for env in environments:
        await env.shutdown()


@pytest.mark.parametrize(
    ("started", "period", "boundary", "report_id"),
    [
        (datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "WEEKLY", "CALENDAR", "WEEKLY-2026-W48"),  # Mon 01:00
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "MONTHLY", "CALENDAR", "MONTHLY-2026-11"),  # 1 Dec 01:00
        (
            datetime(2026, 12, 20, 17, 0, tzinfo=UTC),
            "YEARLY",
            "DAY_21",
            "YEARLY21-2025-12-21",
        ),  # 21 Dec 01:00
        (datetime(2026, 12, 20, 17, 0, tzinfo=UTC), "QUARTERLY", "DAY_21", "QUARTERLY21-2026-09-21"),
    ],
)
async def test_a_schedules_run_reports_the_newest_period_over_at_its_start(
    run: tuple[Run, FakeActivity], started: datetime, period: str, boundary: str, report_id: str
) -> None:
    run_at, fake = run
    generated = await run_at(started, ReportInput(period, boundary, "", SHANGHAI))
    assert generated == GeneratedReport(report_id, True)
    [request] = fake.requests
    assert request.at is not None and abs((request.at - started).total_seconds()) < 60


async def test_a_named_day_passes_through(run: tuple[Run, FakeActivity]) -> None:
    run_at, fake = run
    input = ReportInput("MONTHLY", "DAY_21", "2024-05-25", SHANGHAI, actor="cron")
    assert (await run_at(datetime(2026, 12, 2, tzinfo=UTC), input)).report_id == "MONTHLY21-2024-05-21"
    assert fake.requests[0].at is None and fake.requests[0].report.actor == "cron"
