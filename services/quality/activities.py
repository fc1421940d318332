"""The quality service's activities, run by the workflow worker over the quality schema: the daily
sampling run, and the mark an inspection gets once its violations are in the violations ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from desk.storage_errors import final_storage_errors
from services.quality import repository, runs
from services.quality.contract import (
    MARK_VIOLATIONS_RECORDED,
    RUN_DAILY_SAMPLING,
    RunDailySamplingInput,
    SampledDay,
)

DAY_NOT_OVER = "DayNotOver"


class QualityActivities:
    def __init__(self, pool: asyncpg.Pool, sampling_secret: bytes) -> None:
        self._pool = pool
        self._secret = sampling_secret

    # --- daily sampling ---

    @activity.defn(name=RUN_DAILY_SAMPLING)
    @final_storage_errors
    async def run_daily_sampling(self, request: RunDailySamplingInput) -> SampledDay:
        """The day's run: the stored one, or drawn now. A day not over yet would freeze half its work."""
        now = datetime.now(UTC)
        day = date.fromisoformat(request.day)
        if day >= now.astimezone(ZoneInfo(request.time_zone)).date():
            raise ApplicationError(
                f"{day} is not over in {request.time_zone}", type=DAY_NOT_OVER, non_retryable=True
            )
        run = await runs.run_daily_sampling(pool=self._pool, secret=self._secret, day=day, now=now)
        posts = [count for count in run.population if not count.staff_id]
        return SampledDay(
            day=run.day.isoformat(),
            key_id=run.key_id,
            items=sum(count.items for count in posts),
            sampled=sum(count.sampled for count in posts),
            ledger_position=run.ledger_position,
        )

    # --- inspections: their violations handed off to the violations ledger ---

    @activity.defn(name=MARK_VIOLATIONS_RECORDED)
    @final_storage_errors
    async def mark_violations_recorded(self, inspection_id: str) -> None:
        """The inspection's violations are in the ledger: its hand-off loop leaves it alone now."""
        await repository.mark_violations_recorded(db=self._pool, inspection_id=inspection_id)

    def all(self) -> list[Callable[..., Any]]:
        """The activities the worker registers."""
        return [self.run_daily_sampling, self.mark_violations_recorded]
