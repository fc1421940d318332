"""An inspection's violations into the ledger on the time-skipping server, the workflow sandboxed:
each under its own id, against the person, dated when the work was done; then the inspection is marked. The
ledger fails once (a database restarting): the workflow retries, and records nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.dispatch.contract import RECORD_VIOLATION, RecordViolationInput, RecordViolationResult
from services.quality.contract import MARK_VIOLATIONS_RECORDED
from workflows.inspection_violations import InspectionViolationsWorkflow
from workflows.quality_contract import (
    InspectionViolation,
    InspectionViolationsInput,
    inspection_violations_id,
)

WORK_DONE_AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@dataclass
class FakeLedger:
    violations: dict[str, RecordViolationInput] = field(default_factory=dict)
    marked: list[str] = field(default_factory=list)
    failures_left: int = 1

    @activity.defn(name=RECORD_VIOLATION)
    async def record_violation(self, request: RecordViolationInput) -> RecordViolationResult:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("the database is restarting")
        recorded = request.violation_id not in self.violations
        self.violations.setdefault(request.violation_id, request)
        return RecordViolationResult(recorded=recorded, work_order=None)

    @activity.defn(name=MARK_VIOLATIONS_RECORDED)
    async def mark_violations_recorded(self, inspection_id: str) -> None:
        self.marked.append(inspection_id)


INSPECTION = InspectionViolationsInput(
    inspection_id="insp-1",
    violations=[
        InspectionViolation("inspection/insp-1/1", "RECORD_INCOMPLETE", "no fault number"),
        InspectionViolation("inspection/insp-1/2", "DISCOURTEOUS"),
    ],
    ticket_id="T-1",
    agent_id="agent-7",
    team_id="",
    occurred_at=WORK_DONE_AT,
)


async def test_each_violation_is_recorded_once_against_the_person_then_the_inspection_is_marked(
    env: WorkflowEnvironment,
) -> None:
    ledger, task_queue = FakeLedger(), f"quality-{uuid.uuid4()}"
    activities: list[Callable[..., Any]] = [ledger.record_violation, ledger.mark_violations_recorded]
    async with Worker(
        env.client, task_queue=task_queue, workflows=[InspectionViolationsWorkflow], activities=activities
    ):
        first = await env.client.execute_workflow(
            InspectionViolationsWorkflow.run,
            INSPECTION,
            id=inspection_violations_id("insp-1"),
            task_queue=task_queue,
        )
        again = await env.client.execute_workflow(  # as a hand-off repeated after a crash would
            InspectionViolationsWorkflow.run, INSPECTION, id="again", task_queue=task_queue
        )
    assert (first, again) == (2, 0)
    assert ledger.marked == ["insp-1", "insp-1"]
    one = ledger.violations["inspection/insp-1/1"]
    assert (one.source, one.agent_id, one.team_id, one.ticket_id) == (
        "INSPECTION",
        "agent-7",
        "service-desk",
        "T-1",
    )
    assert (one.code, one.note, one.recorded_at, one.due_at) == (
        "RECORD_INCOMPLETE",
        "no fault number",
        WORK_DONE_AT,
        WORK_DONE_AT,
    )
    assert ledger.violations["inspection/insp-1/2"].code == "DISCOURTEOUS"
