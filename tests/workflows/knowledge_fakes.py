"""Honest fakes of the knowledge case workflow's activities, and a worker running the workflow.

Each has the real activity's name and dataclasses. ``written`` is the entry the knowledge base has
for the case (a test sets it to play an entry whose signal was lost); alarms and violations are
kept as the real ones are: once each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from services.dispatch.contract import RECORD_VIOLATION, RecordViolationInput, RecordViolationResult
from services.knowledge import contract as knowledge
from workflows.knowledge import KnowledgeCaseWorkflow


@dataclass
class FakeKnowledgeDesk:
    written: str = ""
    alarms: list[tuple[str, datetime]] = field(default_factory=list)  # (warning|overdue, raised at)
    violations: dict[str, RecordViolationInput] = field(default_factory=dict)

    @activity.defn(name=knowledge.RAISE_CASE_ALARM)
    async def raise_case_alarm(self, request: knowledge.CaseAlarmInput) -> knowledge.CaseAlarmResult:
        if self.written:
            return knowledge.CaseAlarmResult(self.written)
        if request.alarm not in [kind for kind, _ in self.alarms]:
            self.alarms.append((request.alarm, request.raised_at))
        return knowledge.CaseAlarmResult("")

    @activity.defn(name=RECORD_VIOLATION)
    async def record_violation(self, request: RecordViolationInput) -> RecordViolationResult:
        recorded = request.violation_id not in self.violations
        self.violations.setdefault(request.violation_id, request)
        return RecordViolationResult(recorded=recorded, work_order=None)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.raise_case_alarm, self.record_violation]


@asynccontextmanager
async def serving_cases(client: Client, desk: FakeKnowledgeDesk, task_queue: str) -> AsyncIterator[None]:
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[KnowledgeCaseWorkflow],
        activities=desk.activities(),
        graceful_shutdown_timeout=timedelta(seconds=5),
    ):
        yield
