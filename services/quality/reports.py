"""GetQualityReport's one call: the week's stored report, or the report workflow run for it.

A finished week's report is made once, by ``quality-report/<week>`` (workflows/quality_report.py):
a caller finding none stored starts that workflow or joins the run under way, and waits for its
answer; the Monday Schedule's run and any number of concurrent callers end with the one report stored
first. The current week gets the numbers so far from a run that stores nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from desk.errors import InvalidArgument, Unavailable
from helpdesk.v1 import quality_pb2
from services.quality import repository
from services.quality.contract import IsoWeek
from services.quality.report_wire import report_from_json
from workflows.contract import TASK_QUEUE
from workflows.quality_contract import (
    WEEKLY_REPORT_WORKFLOW,
    WeeklyReportInput,
    weekly_report_id,
    weekly_report_so_far_id,
)


class WeeklyReports:
    def __init__(
        self, pool: asyncpg.Pool, client: Client, *, time_zone: str, task_queue: str = TASK_QUEUE
    ) -> None:
        self._pool = pool
        self._client = client
        self._time_zone = time_zone
        self._task_queue = task_queue

    async def get(self, text: str) -> quality_pb2.QualityReport:
        week = self.week(text, now=datetime.now(UTC))
        stored = await repository.get_report(db=self._pool, week=week.name)
        if stored is not None:
            return report_from_json(stored)
        over = datetime.now(UTC) >= week.end
        report = await self._run(week, store=over)
        return report_from_json(report)

    def week(self, text: str, *, now: datetime) -> IsoWeek:
        """The week asked for; INVALID_ARGUMENT naming ``week`` when it is none or has not begun."""
        try:
            week = IsoWeek.parse(text.strip(), self._time_zone)
        except ValueError as error:
            raise InvalidArgument.one("week", str(error)) from None
        if now < week.start:
            begins = week.start.isoformat()
            raise InvalidArgument.one("week", f"{week.name} has not begun (it begins {begins})")
        return week

    async def _run(self, week: IsoWeek, *, store: bool) -> dict[str, Any]:
        workflow_id = weekly_report_id(week.name) if store else weekly_report_so_far_id(week.name)
        try:
            report: dict[str, Any] = await self._client.execute_workflow(
                WEEKLY_REPORT_WORKFLOW,
                WeeklyReportInput(week=week.name, time_zone=self._time_zone, store=store),
                id=workflow_id,
                task_queue=self._task_queue,
                result_type=dict,
                # Join the run under way; once it is over, a new one may run (it finds the report
                # stored, or for the current week counts again).
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except WorkflowFailureError as error:
            raise Unavailable(f"the report of {week.name} was not made ({error.cause}); ask again") from error
        except RPCError as error:
            raise Unavailable(f"temporal: {error.message}") from error
        return report
