"""An inspection's violations into the violations ledger: ``inspection-violations/<inspection_id>``.

RecordInspection stores the inspection, then starts this workflow; the quality service's hand-off
loop starts it again for an inspection whose violations are still not recorded half a minute later
(a crash between the two). Each violation is recorded by dispatch's activity under its own id, so
a second run records nothing twice; then the inspection is marked, and the loop leaves it alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.work_orders import DESK_TEAM_ID
    from services.dispatch.contract import (
        RECORD_VIOLATION,
        RecordViolationInput,
        RecordViolationResult,
        ViolationSource,
    )
    from services.quality.contract import MARK_VIOLATIONS_RECORDED
    from workflows.quality_contract import INSPECTION_VIOLATIONS_WORKFLOW, InspectionViolationsInput

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Until it succeeds: the database down only delays the ledger."""


@workflow.defn(name=INSPECTION_VIOLATIONS_WORKFLOW)
class InspectionViolationsWorkflow:
    @workflow.run
    async def run(self, input: InspectionViolationsInput) -> int:
        """Record each violation; the number recorded now (not by an earlier run)."""
        recorded = 0
        for violation in ledger_entries(input, workflow.now()):
            result = await workflow.execute_activity(
                RECORD_VIOLATION,
                violation,
                result_type=RecordViolationResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRIES,
            )
            recorded += result.recorded
        await workflow.execute_activity(
            MARK_VIOLATIONS_RECORDED,
            input.inspection_id,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRIES,
        )
        return recorded


def ledger_entries(input: InspectionViolationsInput, now: datetime) -> list[RecordViolationInput]:
    """The ledger's rows: against the person, dated when the work was done (its week's report counts
    them, whenever the inspection found them)."""
    at = input.occurred_at or now
    return [
        RecordViolationInput(
            violation_id=v.violation_id,
            ticket_id=input.ticket_id,
            team_id=input.team_id or DESK_TEAM_ID,
            deadline_kind="",
            work_order_id="",
            due_at=at,
            recorded_at=at,
            agent_id=input.agent_id,
            source=ViolationSource.INSPECTION,
            code=v.code,
            note=v.note,
        )
        for v in input.violations
    ]
