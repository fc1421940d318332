"""How services reach a ticket's workflow: start it with its first update, and send it updates.

The workflow is the single writer of a ticket's lifecycle, so every change a service makes to a
ticket is an update here. An update returns only after the workflow has decided and persisted, so
a read right after the RPC sees the change. Failures become :mod:`desk.errors` for the gRPC edge.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from desk import metrics
from desk.errors import (
    AlreadyExists,
    DeskError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    TransitionNotAllowed,
    Unavailable,
)
from desk.storage_errors import UNSTORABLE_DATA
from domain.ticket import TicketDraft, TicketView
from workflows import contract as wf

R = TypeVar("R")

_UPDATE_TIMEOUT = timedelta(seconds=60)
_UPDATES_IN_FLIGHT_PER_TICKET = 4
"""Updates this process has open on one ticket at once. The workflow applies them one at a time
anyway; a burst of them at Temporal made the server abort its in-flight updates and drop workflow
tasks over and over. Measured with 100 concurrent ChaseWorkOrder calls on one ticket: 11 s to 8 min
unqueued, 1.5-1.8 s (5 runs) queued here."""
_BUSY_RETRIES = 40
_TRANSIENT = (RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE)
"""Temporal admits a few updates per workflow at once (history.maxInFlightUpdates, 10 by default) and
answers RESOURCE_EXHAUSTED past that, and UNAVAILABLE ("workflow update was aborted") when it drops
its in-memory updates under load. A burst on one ticket (many chases, many repeat reports) waits its
turn with jittered backoff instead of failing; every retry carries the same update id, so an update
the server did take is applied once."""


def _translate(error: Exception, ticket_id: str) -> DeskError:
    if isinstance(error, WorkflowUpdateFailedError):
        return _refusal(error.cause)
    already_ended = isinstance(error, RPCError) and error.status == RPCStatusCode.ALREADY_EXISTS
    if already_ended or isinstance(error, WorkflowAlreadyStartedError):
        # A start of a workflow that has ended (the id is never reused): its opening was refused for
        # good, or it was terminated. The SDK says so either way, depending on the server.
        return TransitionNotAllowed(f"ticket {ticket_id} has no running lifecycle and cannot be opened again")
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            # Either there never was such a ticket or its lifecycle has ended (closed or cancelled).
            return TransitionNotAllowed(f"ticket {ticket_id} has no running lifecycle: {error.message}")
        return Unavailable(f"temporal: {error.message}")
    raise error


_NOT_FOUND = {wf.ESCALATION_NOT_FOUND: "escalation", wf.WORK_ORDER_NOT_FOUND: "work order"}
"""Refusals naming a thing the ticket does not have: its id is the one detail."""


def _refusal(cause: BaseException | None) -> DeskError:
    """The workflow's refusal of an update (its ApplicationError's type says which), without SDK words."""
    if isinstance(cause, ActivityError):  # an activity's failure the workflow did not turn into one
        cause = cause.cause
    if not isinstance(cause, ApplicationError):
        return TransitionNotAllowed("the ticket refused the change")
    if cause.type in _NOT_FOUND:
        return NotFound(_NOT_FOUND[cause.type], str(cause.details[0]) if cause.details else cause.message)
    if cause.type == wf.INVALID_ARGUMENT:
        return InvalidArgument(_violations(cause.details) or [FieldViolation("request", cause.message)])
    if cause.type == wf.ALREADY_EXISTS:
        return AlreadyExists(cause.message)
    if cause.type == UNSTORABLE_DATA:
        return InvalidArgument.one("request", f"could not be stored: {cause.message}")
    return TransitionNotAllowed(cause.message)


def _violations(details: Sequence[Any]) -> list[FieldViolation]:
    """The FieldViolations a refusal carries (see wf.INVALID_ARGUMENT), back from their JSON."""
    return [
        FieldViolation(str(detail["field"]), str(detail.get("description", "")))
        for detail in details
        if isinstance(detail, dict) and "field" in detail
    ]


def _start_operation(draft: TicketDraft) -> WithStartWorkflowOperation[Any, Any]:
    """Start the ticket's workflow, or use the running one: the ticket id is the workflow id."""
    return WithStartWorkflowOperation(
        "TicketWorkflow",
        wf.TicketWorkflowInput(draft=draft),
        id=wf.ticket_workflow_id(draft.ticket_id),
        task_queue=wf.TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


@dataclass
class _TicketQueue:
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(_UPDATES_IN_FLIGHT_PER_TICKET))
    users: int = 0


@contextmanager
def _timed(update: str) -> Iterator[None]:
    """Time a call to a ticket's workflow by update and outcome ("ok", or the DeskError it became)."""
    watch = metrics.Stopwatch()
    error: BaseException | None = None
    try:
        yield
    except BaseException as failed:  # a DeskError; or cancelled, or an error no translation knew
        error = failed
        raise
    finally:
        metrics.TICKET_UPDATE_DURATION.labels(update, metrics.outcome_of(error)).observe(watch.seconds())


class TicketWorkflows:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._in_flight: dict[str, _TicketQueue] = {}

    async def start(self, draft: TicketDraft) -> TicketView:
        """Start the ticket's workflow (or join the running one) and wait until it has recorded the ticket."""
        with _timed(wf.AWAIT_RECORDED):
            return await self._start(draft)

    async def _start(self, draft: TicketDraft) -> TicketView:
        try:
            view: TicketView = await self._client.execute_update_with_start_workflow(
                wf.AWAIT_RECORDED,
                start_workflow_operation=_start_operation(draft),
                result_type=TicketView,
                rpc_timeout=_UPDATE_TIMEOUT,
            )
        except (WorkflowUpdateFailedError, WorkflowAlreadyStartedError, RPCError) as error:
            raise _translate(error, draft.ticket_id) from error
        return view

    async def exists(self, ticket_id: str) -> bool:
        """Whether the ticket has (or had) a workflow: tells an unknown ticket (NOT_FOUND) from one whose
        lifecycle has ended, both of which refuse updates the same way."""
        handle = self._client.get_workflow_handle(wf.ticket_workflow_id(ticket_id))
        try:
            await handle.describe(rpc_timeout=_UPDATE_TIMEOUT)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise _translate(error, ticket_id) from error
        return True

    async def update(
        self,
        ticket_id: str,
        update: str,
        arg: Any,
        result_type: type[R],
        *,
        update_id: str | None = None,
        start: TicketDraft | None = None,
    ) -> R:
        """Send the update; with ``start`` (an accepted ticket's draft), start its workflow if need be."""
        queue = self._in_flight.setdefault(ticket_id, _TicketQueue())
        queue.users += 1
        try:
            with _timed(update):  # its wait for a slot too: the caller waits that out as well
                async with queue.slots:
                    return await self._update(
                        ticket_id, update, arg, result_type, update_id or str(uuid.uuid4()), start=start
                    )
        finally:
            queue.users -= 1
            if not queue.users:
                del self._in_flight[ticket_id]

    async def update_known(
        self, ticket_id: str, update: str, arg: Any, result_type: type[R], *, update_id: str | None = None
    ) -> R:
        """``update``, with an unknown ticket told apart: NotFound, where ``update`` refuses it as having
        no running lifecycle. The check costs a call only when the update was refused."""
        try:
            return await self.update(ticket_id, update, arg, result_type, update_id=update_id)
        except TransitionNotAllowed:
            if not await self.exists(ticket_id):
                raise NotFound("ticket", ticket_id) from None
            raise

    async def _update(
        self,
        ticket_id: str,
        update: str,
        arg: Any,
        result_type: type[R],
        update_id: str,
        *,
        start: TicketDraft | None,
    ) -> R:
        handle = self._client.get_workflow_handle(wf.ticket_workflow_id(ticket_id))
        for attempt in range(_BUSY_RETRIES):
            try:
                if start is None:
                    result: R = await handle.execute_update(
                        update, arg, id=update_id, result_type=result_type, rpc_timeout=_UPDATE_TIMEOUT
                    )
                else:
                    result = await self._client.execute_update_with_start_workflow(
                        update,
                        arg,
                        id=update_id,
                        start_workflow_operation=_start_operation(start),
                        result_type=result_type,
                        rpc_timeout=_UPDATE_TIMEOUT,
                    )
            except RPCError as error:
                if error.status not in _TRANSIENT or attempt == _BUSY_RETRIES - 1:
                    raise _translate(error, ticket_id) from error
                await asyncio.sleep(min(0.05 * 2 ** min(attempt, 5), 1.0) * random.uniform(0.5, 1.5))
            except (WorkflowUpdateFailedError, WorkflowAlreadyStartedError) as error:
                raise _translate(error, ticket_id) from error
            else:
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")
