"""How services reach a ticket's workflow: start it with its first update, and send it updates.

The workflow is the single writer of a ticket's lifecycle, so every change a service makes to a
ticket is an update here. An update returns only after the workflow has decided and persisted, so
a read right after the RPC sees the change. Failures become :mod:`desk.errors` for the gRPC edge.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from desk.errors import DeskError, InvalidArgument, NotFound, TransitionNotAllowed, Unavailable
from services.intake.contract import TicketDraft, TicketView
from workflows import contract as wf

R = TypeVar("R")

_UPDATE_TIMEOUT = timedelta(seconds=60)


def _translate(error: Exception, ticket_id: str) -> DeskError:
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        if isinstance(cause, ApplicationError):
            if cause.type == wf.WORK_ORDER_NOT_FOUND:
                return NotFound("work order", str(cause.details[0]) if cause.details else cause.message)
            if cause.type == wf.INVALID_ARGUMENT:
                field = str(cause.details[0]) if cause.details else "request"
                return InvalidArgument.one(field, cause.message)
            return TransitionNotAllowed(cause.message)
        return TransitionNotAllowed(str(cause))
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            # Either there never was such a ticket or its lifecycle has ended (closed or cancelled).
            return TransitionNotAllowed(f"ticket {ticket_id} has no running lifecycle: {error.message}")
        return Unavailable(f"temporal: {error.message}")
    raise error


class TicketWorkflows:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, draft: TicketDraft) -> TicketView:
        """Start the ticket's workflow (or join the running one) and wait until it has recorded the ticket."""
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            "TicketWorkflow",
            wf.TicketWorkflowInput(draft=draft),
            id=wf.ticket_workflow_id(draft.ticket_id),
            task_queue=wf.TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            view: TicketView = await self._client.execute_update_with_start_workflow(
                wf.AWAIT_RECORDED,
                start_workflow_operation=start,
                result_type=TicketView,
                rpc_timeout=_UPDATE_TIMEOUT,
            )
        except (WorkflowUpdateFailedError, RPCError) as error:
            raise _translate(error, draft.ticket_id) from error
        return view

    async def update(
        self, ticket_id: str, update: str, arg: Any, result_type: type[R], *, update_id: str | None = None
    ) -> R:
        handle = self._client.get_workflow_handle(wf.ticket_workflow_id(ticket_id))
        try:
            result: R = await handle.execute_update(
                update, arg, id=update_id, result_type=result_type, rpc_timeout=_UPDATE_TIMEOUT
            )
        except (WorkflowUpdateFailedError, RPCError) as error:
            raise _translate(error, ticket_id) from error
        return result
