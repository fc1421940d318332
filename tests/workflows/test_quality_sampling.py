"""The daily sampling workflow (workflows/quality_sampling.py) on a fake activity, sandboxed: the day it
asks for, given or (from a Schedule) the local day before its start; and a day not over fails for good."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.quality.activities import DAY_NOT_OVER
from services.quality.contract import RUN_DAILY_SAMPLING, RunDailySamplingInput, SampledDay
from workflows.quality_contract import DailySamplingInput, daily_sampling_id
from workflows.quality_sampling import DailySamplingWorkflow


class FakeRuns:
    def __init__(self) -> None:
        self.asked: list[RunDailySamplingInput] = []
        self.refuse = False

    @activity.defn(name=RUN_DAILY_SAMPLING)
    async def run_daily_sampling(self, request: RunDailySamplingInput) -> SampledDay:
        self.asked.append(request)
        if self.refuse:
            raise ApplicationError("not over", type=DAY_NOT_OVER, non_retryable=True)
        return SampledDay(request.day, "key", 20, 1, 7)


async def _run(env: WorkflowEnvironment, runs: FakeRuns, start: DailySamplingInput) -> SampledDay:
    queue = f"quality-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[DailySamplingWorkflow], activities=[runs.run_daily_sampling]
    ):
        return await env.client.execute_workflow(
            DailySamplingWorkflow.run, start, id=daily_sampling_id(start.day or "scheduled"), task_queue=queue
        )


async def test_a_given_day_is_sampled_as_given(env: WorkflowEnvironment) -> None:
    runs = FakeRuns()
    result = await _run(env, runs, DailySamplingInput("2025-03-01", "Asia/Shanghai"))
    assert result == SampledDay("2025-03-01", "key", 20, 1, 7)
    assert runs.asked == [RunDailySamplingInput("2025-03-01", "Asia/Shanghai")]


async def test_an_empty_day_is_the_local_day_before_the_start(env: WorkflowEnvironment) -> None:
    runs = FakeRuns()
    started = (await env.get_current_time()).astimezone(ZoneInfo("Asia/Shanghai"))
    await _run(env, runs, DailySamplingInput("", "Asia/Shanghai"))
    assert [a.day for a in runs.asked] == [(started.date() - timedelta(days=1)).isoformat()]


async def test_a_day_not_over_fails_for_good(env: WorkflowEnvironment) -> None:
    runs = FakeRuns()
    runs.refuse = True
    with pytest.raises(WorkflowFailureError):
        await _run(env, runs, DailySamplingInput("2099-01-01", "Asia/Shanghai"))
    assert len(runs.asked) == 1
