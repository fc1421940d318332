"""The weekly report's workflow on a time-skipping server whose clock starts at a chosen instant: the
Schedule's empty week is the ISO week before the run's start in Shanghai; dispatch's violations of
that week are what the quality activity gets. The activities are fakes under their real names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.dispatch.contract import LIST_VIOLATIONS, ListViolationsInput, ViolationList, ViolationRecord
from services.quality.contract import GENERATE_WEEKLY_REPORT, WeeklyReportRequest
from tests.workflows.clock import server_starting_at
from workflows.quality_contract import WEEKLY_REPORT_WORKFLOW, WeeklyReportInput
from workflows.quality_report import WeeklyReportWorkflow

SHANGHAI = "Asia/Shanghai"


class FakeActivities:
    def __init__(self) -> None:
        self.asked: list[ListViolationsInput] = []
        self.requests: list[WeeklyReportRequest] = []

    @activity.defn(name=LIST_VIOLATIONS)
    async def list_violations(self, request: ListViolationsInput) -> ViolationList:
        self.asked.append(request)
        return ViolationList([ViolationRecord("V-1", "DEADLINE", "eng-1", "network", "", request.since)])

    @activity.defn(name=GENERATE_WEEKLY_REPORT)
    async def generate(self, request: WeeklyReportRequest) -> dict[str, Any]:
        self.requests.append(request)
        return {"week": request.week, "final": request.store}


Run = Callable[[datetime, WeeklyReportInput], Awaitable[dict[str, Any]]]


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[tuple[Run, FakeActivities]]:
    fakes = FakeActivities()
    environments: list[WorkflowEnvironment] = []

    async def run_at(at: datetime, input: WeeklyReportInput) -> dict[str, Any]:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(server_starting_at(at, tmp_path))
        )
        environments.append(env)
        queue = f"quality-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[WeeklyReportWorkflow],
            activities=[fakes.list_violations, fakes.generate],
        ):
            report: dict[str, Any] = await env.client.execute_workflow(
                WEEKLY_REPORT_WORKFLOW, input, id=f"report-{uuid.uuid4()}", task_queue=queue, result_type=dict
            )
            return report

    yield run_at, fakes
    for env in environments:
        await env.shutdown()


@pytest.mark.parametrize(
    ("started", "week"),
    [
        (datetime(2025, 5, 19, 9, 0, tzinfo=UTC), "2025-W20"),  # Monday 17:00 in Shanghai: the Schedule's
        (datetime(2025, 5, 18, 15, 30, tzinfo=UTC), "2025-W19"),  # Sunday 23:30 in Shanghai
    ],
)
async def test_the_schedules_empty_week_is_the_one_before_its_start(
    run: tuple[Run, FakeActivities], started: datetime, week: str
) -> None:
    run_at, fakes = run
    report = await run_at(started, WeeklyReportInput(week="", time_zone=SHANGHAI))
    assert report == {"week": week, "final": True}
    [asked] = fakes.asked
    [request] = fakes.requests
    assert request.week == week and request.store
    assert [v.violation_id for v in request.violations] == ["V-1"]
    if week == "2025-W20":  # Monday 00:00 to Monday 00:00 in Shanghai
        assert asked.since == datetime(2025, 5, 11, 16, 0, tzinfo=UTC)
        assert asked.until == datetime(2025, 5, 18, 16, 0, tzinfo=UTC)


async def test_a_week_named_and_not_to_be_stored_passes_through(run: tuple[Run, FakeActivities]) -> None:
    run_at, fakes = run
    started = datetime(2025, 5, 14, 3, 0, tzinfo=UTC)
    assert await run_at(started, WeeklyReportInput("2025-W20", SHANGHAI, store=False)) == {
        "week": "2025-W20",
        "final": False,
    }
    assert fakes.requests[0].store is False


async def test_not_a_week_fails_the_run_at_once(run: tuple[Run, FakeActivities]) -> None:
    run_at, fakes = run
    with pytest.raises(WorkflowFailureError):
        await run_at(datetime(2025, 5, 14, 3, 0, tzinfo=UTC), WeeklyReportInput("2025-W99", SHANGHAI))
    assert fakes.asked == []
