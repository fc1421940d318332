"""Intake activities: the workflow keeps the ticket's read model and timeline here.

``record_ticket`` runs inside the ticket's one persisting step (workflows/ticket_persistence.py),
after the change's other writes; ``run_line_test`` is a local activity of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from desk import metrics
from desk.storage_errors import final_storage_errors
from domain.line_tests import LineTestResult
from domain.ticket import TicketStatus
from services.intake import repository
from services.intake.contract import RUN_LINE_TEST, RecordTicketInput, RunLineTestInput
from services.intake.events import outbox
from services.intake.opening.line_test import LineTester

_NO_MORE_REPEATS = (TicketStatus.CLOSED, TicketStatus.CANCELLED, TicketStatus.ARCHIVED)


class IntakeActivities:
    def __init__(self, pool: asyncpg.Pool, line_tester: LineTester) -> None:
        self._pool = pool
        self._line_tester = line_tester

    @final_storage_errors
    async def record_ticket(self, request: RecordTicketInput) -> None:
        """Idempotent: the view only moves forward in time and each timeline event is kept (and queued
        for the relay) once."""
        await repository.record_ticket(
            db=self._pool,
            view=request.view,
            events=request.timeline,
            trace=outbox.trace_context(),
            release_keys=request.view.status in _NO_MORE_REPEATS,
        )
        # Counted once stored: a step retried after it was stored (a worker lost before its workflow
        # task completed) counts again, rarely; the counts are for rates and alerts, not for reports.
        view = request.view
        metrics.count_recorded(
            channel=view.draft.channel, team=view.assigned_team_id, events=request.timeline
        )

    @activity.defn(name=RUN_LINE_TEST)
    async def run_line_test(self, request: RunLineTestInput) -> LineTestResult:
        """Test the line (自动测试); an untestable line answers UNAVAILABLE, transport errors retry."""
        return await self._line_tester.test(request.fault_number)

    def all(self) -> list[Callable[..., Any]]:
        return [self.run_line_test]
