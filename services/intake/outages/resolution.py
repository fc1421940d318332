"""ResolveOutage's one call: have the outage's resolution workflow (workflows/outage.py) run, and wait for it.

The resolution is the workflow's, not the caller's: it starts ``outage/<outage_id>`` or joins the run
under way, so a retried, repeated or concurrent ResolveOutage makes one resolution. The answer comes
once every linked ticket has been gone through (read your writes: GetTicket then shows each
resolved). A caller that stops waiting (its deadline, a crash of intake) stops nothing: the
resolution goes on, and calling again waits for the same one, or answers at once once it is done.
A resolution someone terminated is started again by the next call.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from desk.errors import NotFound, Unavailable
from services.intake import repository
from services.intake.outages.matching import OutageRecord
from workflows import contract as wf


@dataclass(frozen=True)
class ResolvedOutage:
    outage: OutageRecord
    ticket_ids: list[str]  # every ticket linked to it, each resolved or no longer waiting for it


class OutageResolutions:
    def __init__(self, db: asyncpg.Pool, client: Client, *, task_queue: str = wf.TASK_QUEUE) -> None:
        self._db = db
        self._client = client
        self._task_queue = task_queue

    async def resolve(self, *, outage_id: str, resolution: str, actor: str) -> ResolvedOutage:
        if await repository.get_outage(db=self._db, outage_id=outage_id) is None:
            raise NotFound("outage", outage_id)
        try:
            handle = await self._started(wf.ResolveOutageInput(outage_id, resolution, actor))
            await handle.result()
        except WorkflowFailureError as error:
            raise Unavailable(f"the resolution of outage {outage_id} was stopped; call again") from error
        except RPCError as error:
            raise Unavailable(f"temporal: {error.message}") from error
        outage = await repository.get_outage(db=self._db, outage_id=outage_id)
        assert outage is not None, "an outage is never deleted"
        return ResolvedOutage(outage, await repository.linked_tickets(db=self._db, outage_id=outage_id))

    async def _started(self, start: wf.ResolveOutageInput) -> WorkflowHandle[None, wf.OutageResolved]:
        """The run under way, a new one, or (when one completed) the completed one."""
        workflow_id = wf.outage_workflow_id(start.outage_id)
        try:
            return await self._client.start_workflow(
                "OutageResolutionWorkflow",
                start,
                id=workflow_id,
                task_queue=self._task_queue,
                result_type=wf.OutageResolved,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            return self._client.get_workflow_handle(workflow_id, result_type=wf.OutageResolved)
