"""How intake reaches an IVR call's workflow (``ivr/<call_id>``): start it, send it input, read its turn.

Starting is update-with-start, so starting a call again (the switch retried) answers with its current
turn, and starting one that has ended answers with its last. An input is an update whose id comes
from the turn and the input, so a retried RPC joins the update already under way. Failures become
:mod:`desk.errors` for the gRPC edge.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from desk.errors import DeskError, NotFound, TransitionNotAllowed, Unavailable
from workflows import contract as wf

_RPC_TIMEOUT = timedelta(seconds=60)


class IvrCalls:
    def __init__(self, client: Client, *, task_queue: str = wf.TASK_QUEUE) -> None:
        self._client = client
        self._task_queue = task_queue

    async def start(self, call: wf.IvrCallInput) -> wf.IvrTurnView:
        """Start the call (or join it) and answer with its current turn: the first, for a new call."""
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            "IvrCallWorkflow",
            call,
            id=wf.ivr_workflow_id(call.call_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            turn: wf.IvrTurnView = await self._client.execute_update_with_start_workflow(
                wf.IVR_CURRENT_TURN,
                start_workflow_operation=start,
                result_type=wf.IvrTurnView,
                rpc_timeout=_RPC_TIMEOUT,
            )
        except (WorkflowAlreadyStartedError, WorkflowUpdateFailedError, RPCError) as error:
            # ALREADY_EXISTS (some servers send no details): the call has ended; answer its last turn.
            if isinstance(error, WorkflowAlreadyStartedError) or (
                isinstance(error, RPCError) and error.status == RPCStatusCode.ALREADY_EXISTS
            ):
                with contextlib.suppress(WorkflowAlreadyStartedError, RPCError):
                    await start.workflow_handle()  # the same error, taken so it is not reported unseen
                return await self.current(call.call_id)
            raise await self._translate(error, call.call_id) from error
        return turn

    async def send(self, call_id: str, answer: wf.IvrInput) -> wf.IvrTurnView:
        """The caller's input for one turn; answered with the next turn once the workflow has acted."""
        handle = self._client.get_workflow_handle(wf.ivr_workflow_id(call_id))
        try:
            turn: wf.IvrTurnView = await handle.execute_update(
                wf.IVR_INPUT,
                answer,
                id=update_id(answer),
                result_type=wf.IvrTurnView,
                rpc_timeout=_RPC_TIMEOUT,
            )
        except (WorkflowUpdateFailedError, RPCError) as error:
            raise await self._translate(error, call_id) from error
        except WorkflowUpdateRPCTimeoutOrCancelledError as error:
            # Still at work (a lookup retrying): the same input again joins this update.
            raise Unavailable(f"IVR call {call_id} is still working on turn {answer.turn}") from error
        return turn

    async def current(self, call_id: str) -> wf.IvrTurnView:
        handle = self._client.get_workflow_handle(wf.ivr_workflow_id(call_id))
        try:
            turn: wf.IvrTurnView = await handle.query(
                wf.IVR_TURN, result_type=wf.IvrTurnView, rpc_timeout=_RPC_TIMEOUT
            )
        except RPCError as error:
            raise await self._translate(error, call_id) from error
        return turn

    async def _translate(self, error: Exception, call_id: str) -> DeskError:
        if isinstance(error, WorkflowUpdateFailedError):
            cause = error.cause
            return TransitionNotAllowed(cause.message if isinstance(cause, ApplicationError) else str(cause))
        if isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND:
            if await self._exists(call_id):  # an update on a call that has ended
                return TransitionNotAllowed(f"IVR call {call_id} has ended")
            return NotFound("IVR call", call_id)
        if isinstance(error, RPCError):
            return Unavailable(f"temporal: {error.message}")
        raise error

    async def _exists(self, call_id: str) -> bool:
        try:
            await self._client.get_workflow_handle(wf.ivr_workflow_id(call_id)).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True


def update_id(answer: wf.IvrInput) -> str:
    """One id per turn and input: a retried input joins its first update; another input is another."""
    entry = "" if answer.no_input else answer.text.strip().removesuffix("#").strip()
    digest = hashlib.sha256(entry.encode()).hexdigest()[:16]
    return f"turn/{answer.turn}/{'silence' if answer.no_input else digest}"
