"""The quality service's activities, run by the workflow worker over the quality schema: the daily
sampling run, the mark an inspection gets once its violations are in the violations ledger, and the
weekly report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from desk.events import EventSpec
from desk.storage_errors import final_storage_errors
from services.quality import events, repository, runs
from services.quality.contract import (
    GENERATE_WEEKLY_REPORT,
    MARK_VIOLATIONS_RECORDED,
    RUN_DAILY_SAMPLING,
    IsoWeek,
    RunDailySamplingInput,
    SampledDay,
    WeeklyReportRequest,
)
from services.quality.report_wire import report_from_json, report_to_json, report_to_proto
from services.quality.weekly_report import WeekRows, weekly_report

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

    # --- the weekly report (每周质检分析报告) ---

    @activity.defn(name=GENERATE_WEEKLY_REPORT)
    @final_storage_errors
    async def generate_weekly_report(self, request: WeeklyReportRequest) -> dict[str, Any]:
        """The week's report as the proto's JSON. A week over, asked to store: the stored one, written
        once with its ``quality.reported`` event (a second run, or a concurrent one, answers with the
        report written first). Otherwise the numbers so far, final false, stored nowhere."""
        week = IsoWeek.parse(request.week, request.time_zone)
        stored = await repository.get_report(db=self._pool, week=week.name) if request.store else None
        if stored is not None:
            return stored
        now = datetime.now(UTC)
        final = request.store and now >= week.end
        rows = await self._rows(week, request)
        report = report_to_json(report_to_proto(weekly_report(week, rows, generated_at=now, final=final)))
        if not final:
            return report
        async with self._pool.acquire() as conn, conn.transaction():
            if await repository.insert_report(db=conn, week=week.name, report=report, generated_at=now):
                await events.queue(conn, _reported(week, report, now))
                return report
        stored = await repository.get_report(db=self._pool, week=week.name)
        assert stored is not None, "a stored report is never deleted"
        return stored

    async def _rows(self, week: IsoWeek, request: WeeklyReportRequest) -> WeekRows:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return WeekRows(
                items=await repository.week_items(db=conn, first_day=week.first_day, last_day=week.last_day),
                spot_checked=await repository.week_spot_checked(
                    db=conn, first_day=week.first_day, last_day=week.last_day
                ),
                inspections=await repository.week_inspections(
                    db=conn, first_day=week.first_day, last_day=week.last_day
                ),
                violations=request.violations,
            )

    def all(self) -> list[Callable[..., Any]]:
        """The activities the worker registers."""
        return [self.run_daily_sampling, self.mark_violations_recorded, self.generate_weekly_report]


def _reported(week: IsoWeek, report: dict[str, Any], at: datetime) -> EventSpec:
    """``quality.reported``: the headline numbers; the report itself is GetQualityReport's."""
    proto = report_from_json(report)
    return events.quality_event(
        "reported",
        week.name,
        actor="quality",
        at=at,
        payload={
            "week": week.name,
            "first_day": proto.first_day,
            "last_day": proto.last_day,
            "sampled": proto.sampled,
            "spot_checked": proto.spot_checked,
            "inspected": proto.inspected,
            "mean_score": proto.mean_score,
            "violations": sum(t.count for t in proto.violations_by_person),
        },
    )
