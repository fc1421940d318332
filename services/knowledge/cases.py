"""The proposed cases' workflows (``knowledge/<ticket_id>``): started on a proposal, told of the entry."""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from desk.errors import Unavailable
from services.knowledge.contract import CASE_WORKFLOW, ENTRY_WRITTEN, KnowledgeCaseInput, case_workflow_id
from workflows.contract import TASK_QUEUE

log = logging.getLogger(__name__)


class CaseWorkflows:
    def __init__(self, client: Client, *, task_queue: str = TASK_QUEUE) -> None:
        self._client = client
        self._task_queue = task_queue

    async def start(self, case: KnowledgeCaseInput) -> None:
        """Start the case's deadline, or leave the one started (a proposal repeated after a crash)."""
        try:
            await self._client.start_workflow(
                CASE_WORKFLOW,
                case,
                id=case_workflow_id(case.ticket_id),
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass  # it ran and finished: its entry was written
        except RPCError as error:
            raise Unavailable(f"temporal: {error.message}; propose again") from error

    async def entry_written(self, ticket_id: str, entry_id: str) -> None:
        """Tell the case's workflow, so it ends now. The entry is stored by then, so a signal that is
        lost changes nothing: the workflow looks for the entry before it raises any alarm."""
        handle = self._client.get_workflow_handle(case_workflow_id(ticket_id))
        try:
            await handle.signal(ENTRY_WRITTEN, entry_id)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: finished already, nothing to tell
                log.warning("case %s not told of entry %s (%s)", ticket_id, entry_id, error.message)
