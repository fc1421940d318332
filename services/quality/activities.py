"""Quality activities: the quality workflows' reads and writes of the quality schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio import activity

from desk.events import EventSpec
from desk.storage_errors import final_storage_errors
from services.quality import events, repository
from services.quality.contract import GENERATE_WEEKLY_REPORT, IsoWeek, WeeklyReportRequest
from services.quality.report_wire import report_from_json, report_to_json, report_to_proto
from services.quality.weekly_report import WeekRows, weekly_report


class QualityActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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

    def report_activities(self) -> list[Callable[..., Any]]:
        return [self.generate_weekly_report]


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
