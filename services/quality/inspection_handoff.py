"""An inspection's violations on their way to the violations ledger (dispatch's), never lost.

RecordInspection commits the inspection, then starts its InspectionViolations workflow (one id per
inspection: starting it again joins or leaves the first). A crash between the commit and the start,
or Temporal not answering then, leaves an inspection whose ``violations_recorded_at`` stays empty:
this loop, in every quality process, starts the workflow for such inspections once they are
HAND_OFF_AFTER old. The workflow marks the inspection when the ledger has them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from desk.loops import Readiness, connection_lost, describe, keep_running, reraise_if_cancelled
from domain.work_orders import DESK_TEAM_ID
from services.quality import repository
from services.quality.inspection_records import Inspection
from workflows.contract import TASK_QUEUE
from workflows.quality_contract import (
    INSPECTION_VIOLATIONS_WORKFLOW,
    InspectionViolation,
    InspectionViolationsInput,
    inspection_violations_id,
)

log = logging.getLogger(__name__)

HAND_OFF_AFTER = timedelta(seconds=30)
"""An inspection older than this whose violations are not recorded: its start was lost. Younger ones
are left to the RPC that stored them (a second start would be harmless, only wasted)."""
POLL_EVERY = 5.0
BATCH = 100
LOOP = "inspection violations hand-off"


def violations_input(inspection: Inspection) -> InspectionViolationsInput:
    item = inspection.item.item
    return InspectionViolationsInput(
        inspection_id=inspection.inspection_id,
        violations=[InspectionViolation(v.violation_id, v.code, v.note) for v in inspection.violations],
        ticket_id=item.ticket_id,
        agent_id=item.staff_id,
        team_id=item.team_id or DESK_TEAM_ID,
        occurred_at=item.occurred_at,
    )


class ViolationsHandOff:
    def __init__(
        self,
        client: Client,
        pool: asyncpg.Pool,
        readiness: Readiness,
        *,
        after: timedelta = HAND_OFF_AFTER,
        poll_every: float = POLL_EVERY,
        task_queue: str = TASK_QUEUE,
    ) -> None:
        self._client = client
        self._pool = pool
        self._readiness = readiness
        self._after = after
        self._poll_every = poll_every
        self._task_queue = task_queue

    async def start(self, inspection: Inspection) -> None:
        """Start the inspection's workflow now; if that fails, the loop will. The inspection is stored
        by now, so its RPC answers with it whatever happens here."""
        try:
            await self._start(inspection)
        except Exception as error:
            reraise_if_cancelled()
            log.warning(
                "violations of inspection %s left to the hand-off loop (%s)",
                inspection.inspection_id,
                describe(error),
            )

    async def _start(self, inspection: Inspection) -> None:
        # Already started and completed: the inspection is marked, or is being marked right now.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                INSPECTION_VIOLATIONS_WORKFLOW,
                violations_input(inspection),
                id=inspection_violations_id(inspection.inspection_id),
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                # A run that completed recorded them all; one terminated by an operator may run again.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )

    async def run(self) -> None:
        await keep_running(LOOP, self._poll, self._readiness)

    async def _poll(self, working: Callable[[], None]) -> None:
        while True:
            before = datetime.now(UTC) - self._after
            waiting = await repository.inspections_to_hand_off(
                db=self._pool, inspected_before=before, limit=BATCH
            )
            for inspection in waiting:
                await self._start_again(inspection)
            working()
            await asyncio.sleep(self._poll_every)

    async def _start_again(self, inspection: Inspection) -> None:
        try:
            await self._start(inspection)
        except RPCError as error:
            if connection_lost(error):
                raise  # Temporal is down: the loop reports itself down and tries again later
            log.error("violations of inspection %s not handed off: %s", inspection.inspection_id, error)
        else:
            log.info("violations of inspection %s handed off again", inspection.inspection_id)
