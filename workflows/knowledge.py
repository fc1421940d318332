"""A proposed hard case's knowledge deadline: ``knowledge/<ticket_id>`` (seed 002 三.3 and 五.二).

A senior agent proposes the case; its entry is due half a working day later on the desk's business
calendar, with the warning at 80 %. The workflow sleeps until the warning, then until the deadline,
and ends as soon as the entry is written (the knowledge base signals it). Before raising an alarm it
asks the knowledge base whether the entry is written after all (a signal lost between the entry's
commit and its sending), so a written entry is never reported overdue. An overdue case gets its
``sla.overdue`` event and a violation against the service desk in dispatch's ledger, like a
ticket's missed deadline; then the workflow ends (the entry, when written, still marks it met).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

# By module path, not "from services.knowledge import contract": the sandbox must register the
# contract module itself, or it cannot read the type hints of the workflow's input.
with workflow.unsafe.imports_passed_through():
    from domain.deadlines import DeadlineKind
    from domain.work_orders import DESK_TEAM_ID
    from services.dispatch.contract import RECORD_VIOLATION, RecordViolationInput, RecordViolationResult
    from services.knowledge.contract import (
        CASE_WORKFLOW,
        ENTRY_WRITTEN,
        RAISE_CASE_ALARM,
        CaseAlarmInput,
        CaseAlarmResult,
        CaseEntry,
        KnowledgeCaseInput,
        entry_deadline,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRIES = RetryPolicy(maximum_interval=timedelta(seconds=30))
"""Until it succeeds: the database down only delays an alarm."""


@workflow.defn(name=CASE_WORKFLOW)
class KnowledgeCaseWorkflow:
    def __init__(self) -> None:
        self._entry_id = ""

    @workflow.signal(name=ENTRY_WRITTEN)
    def entry_written(self, entry_id: str) -> None:
        self._entry_id = self._entry_id or entry_id

    @workflow.run
    async def run(self, input: KnowledgeCaseInput) -> CaseEntry:
        deadline = entry_deadline(input.proposed_at)
        for alarm, at in (("warning", deadline.warn_at), ("overdue", deadline.due_at)):
            if await self._written_before(at):
                return CaseEntry(self._entry_id)
            raised = await workflow.execute_activity(
                RAISE_CASE_ALARM,
                CaseAlarmInput(input.ticket_id, alarm, workflow.now()),
                result_type=CaseAlarmResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRIES,
            )
            if raised.entry_id:
                return CaseEntry(raised.entry_id)
        await self._record_violation(input, deadline.due_at)
        return CaseEntry("")

    async def _written_before(self, at: datetime) -> bool:
        """Wait until ``at`` or the entry, whichever comes first; True for the entry."""
        left = (at - workflow.now()).total_seconds()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: bool(self._entry_id), timeout=left)
        return bool(self._entry_id)

    async def _record_violation(self, input: KnowledgeCaseInput, due_at: datetime) -> None:
        await workflow.execute_activity(
            RECORD_VIOLATION,
            RecordViolationInput(
                violation_id=f"{input.ticket_id}/knowledge_entry-1",
                ticket_id=input.ticket_id,
                team_id=DESK_TEAM_ID,
                deadline_kind=str(DeadlineKind.KNOWLEDGE_ENTRY),
                work_order_id="",
                due_at=due_at,
                recorded_at=workflow.now(),
            ),
            result_type=RecordViolationResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRIES,
        )
