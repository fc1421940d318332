"""How the ticket workflow runs its steps: each service's activities by name, and refusals of updates.

Workflow code (deterministic): the activities are local activities, run by the workflow worker
itself, which hosts each service's activity class over that service's schema; the benchmark
measured them at about a third of the server work of regular activities for the same steps.
The workflow publishes nothing itself: its events are recorded with the ticket, and intake's relay
publishes them, so a NATS outage holds no workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from desk.errors import AlreadyExists, DeskError, FieldViolation, InvalidArgument, NotFound
    from desk.storage_errors import STORAGE_REFUSALS, UNSTORABLE_DATA
    from domain import ticket_state as ts
    from domain.callbacks import CallbackRecord, PendingCallback
    from domain.hotline import EscalationRecord
    from domain.surveys import SurveyRecord
    from domain.work_orders import SlaPolicyRecord, WorkOrderRecord
    from services.dispatch import contract as dispatch
    from services.intake import contract as intake
    from workflows import contract as wf
Result = TypeVar("Result")

PERSIST_TIMEOUT = timedelta(seconds=30)
PERSIST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
"""Unbounded: a database or a worker that is down delays a change, never loses it. An error that a
retry cannot fix fails the activity for good instead (desk/storage_errors.py)."""


async def call(activity: str, arg: object, result_type: type[Result] | None = None) -> Result:
    """Run a short persisting activity, retried with backoff until it succeeds or fails for good."""
    result: Result = await workflow.execute_local_activity(
        activity,
        arg,
        result_type=result_type,
        start_to_close_timeout=PERSIST_TIMEOUT,
        retry_policy=PERSIST_RETRY,
    )
    return result


async def route_with_policy(
    state: ts.TicketState,
) -> tuple[dispatch.RouteTicketResult, SlaPolicyRecord]:
    """Where a new ticket goes and the SLA policy it runs on there (the desk's, when no team takes it)."""
    draft = state.view.draft
    request = dispatch.RouteTicketInput(
        state.ticket_id, draft.category, [], draft.region, draft.customer_tier, priority=draft.priority
    )
    routed = await call(dispatch.ROUTE_TICKET, request, dispatch.RouteTicketResult)
    assert routed.policy is not None  # asked for by the priority
    return routed, routed.policy


async def find_policy(state: ts.TicketState, team_id: str) -> SlaPolicyRecord:
    query = dispatch.FindSlaPolicyInput(state.view.draft.priority, state.view.draft.customer_tier, team_id)
    return await call(dispatch.FIND_SLA_POLICY, query, SlaPolicyRecord)


class ChangeWrites:
    """A change's writes: its work orders, callback, callback queue entry and escalations, stored with
    the ticket's record in one step (one local activity, ``ticket_persistence``), once the change is
    decided."""

    def __init__(self) -> None:
        self._work_orders: list[WorkOrderRecord] = []
        self._callback: CallbackRecord | None = None
        self._escalations: list[EscalationRecord] = []
        self._pending_callback: PendingCallback | None = None
        self._survey: SurveyRecord | None = None

    def save_work_order(self, work_order: WorkOrderRecord) -> None:
        self._work_orders.append(work_order)

    def save_callback(self, callback: CallbackRecord) -> None:
        self._callback = callback

    def save_escalation(self, escalation: EscalationRecord) -> None:
        self._escalations.append(escalation)

    def save_pending_callback(self, entry: PendingCallback) -> None:
        self._pending_callback = entry

    def save_survey(self, survey: SurveyRecord) -> None:
        self._survey = survey

    async def record(self, record: intake.RecordTicketInput) -> None:
        """Store the ticket's record, after the change's other writes, in the same step."""
        change = wf.PersistChangeInput(
            record,
            self._work_orders,
            self._callback,
            escalations=self._escalations,
            pending_callback=self._pending_callback,
            survey=self._survey,
        )
        self.discard()
        await call(wf.PERSIST_CHANGE, change)

    def discard(self) -> None:
        """Forget writes of a change that will not be kept (rejected or failed)."""
        self._work_orders, self._callback, self._escalations = [], None, []
        self._pending_callback, self._survey = None, None


def validate(check: Callable[..., None], *args: Any) -> None:
    """Run a pure check for an update validator (which must not change anything)."""
    try:
        check(*args)
    except DeskError as err:
        raise rejection(err) from None


def refusal(error: Exception) -> ApplicationError | None:
    """How a change's failure refuses its update, or None when it is no refusal (it fails the task).

    Refusals are the desk's own errors (a transition not allowed now) and writes refused for good.
    """
    if isinstance(error, DeskError):
        return rejection(error)
    if isinstance(error, ActivityError | ApplicationError):
        return refusal_to_store(error)
    return None


def rejection(err: DeskError) -> ApplicationError:
    """The desk's error as the update's failure, with the details wf.INVALID_ARGUMENT and
    wf.WORK_ORDER_NOT_FOUND promise, so the services' ticket client rebuilds the same error."""
    if isinstance(err, NotFound) and err.kind == "escalation":
        return ApplicationError(str(err), err.key, type=wf.ESCALATION_NOT_FOUND, non_retryable=True)
    if isinstance(err, NotFound):
        return ApplicationError(str(err), err.key, type=wf.WORK_ORDER_NOT_FOUND, non_retryable=True)
    if isinstance(err, InvalidArgument):
        return ApplicationError(str(err), *err.violations, type=wf.INVALID_ARGUMENT, non_retryable=True)
    if isinstance(err, AlreadyExists):
        return ApplicationError(str(err), type=wf.ALREADY_EXISTS, non_retryable=True)
    return ApplicationError(str(err), type=wf.TRANSITION_NOT_ALLOWED, non_retryable=True)


def refusal_to_store(error: ActivityError | ApplicationError) -> ApplicationError | None:
    """A persisting activity's failure for good, as the refusal of the change; None for any other.

    Data the database cannot store (a NUL in a text, a value out of range) is the caller's to change:
    INVALID_ARGUMENT. A clash with what is stored (a constraint) is not about the request's fields but
    about the ticket's records as they are: FAILED_PRECONDITION.
    """
    cause = error.cause if isinstance(error, ActivityError) else error  # local ones come unwrapped too
    if not isinstance(cause, ApplicationError) or cause.type not in STORAGE_REFUSALS:
        return None
    if cause.type == UNSTORABLE_DATA:
        message = f"the change could not be stored: {cause.message}"
        unstorable = FieldViolation("request", message)  # the database does not say which field
        return ApplicationError(message, unstorable, type=wf.INVALID_ARGUMENT, non_retryable=True)
    message = f"the change clashes with the stored records: {cause.message}"
    return ApplicationError(message, type=wf.TRANSITION_NOT_ALLOWED, non_retryable=True)
