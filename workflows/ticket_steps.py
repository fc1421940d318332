"""How the ticket workflow runs its steps: each service's activities by name, and refusals of updates.

Workflow code (deterministic): the activities are local activities, run by the workflow worker
itself, which hosts each service's activity class over that service's schema; the benchmark
measured them at about a third of the server work of regular activities for the same steps.
Publishing stays a regular activity (``outbox``), since a NATS outage may outlast any local retry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from desk.errors import DeskError, InvalidArgument, NotFound
    from services.dispatch import contract as dispatch
    from workflows import ticket_patches as patches
    from workflows import ticket_state as ts
    from workflows.contract import INVALID_ARGUMENT, TRANSITION_NOT_ALLOWED, WORK_ORDER_NOT_FOUND

Result = TypeVar("Result")

PERSIST_TIMEOUT = timedelta(seconds=30)
PERSIST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


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


async def route(state: ts.TicketState, *, exclude_team_ids: list[str]) -> dispatch.RouteTicketResult:
    draft = state.view.draft
    request = dispatch.RouteTicketInput(
        state.ticket_id, draft.category, exclude_team_ids, draft.region, draft.customer_tier
    )
    return await call(dispatch.ROUTE_TICKET, request, dispatch.RouteTicketResult)


async def route_with_policy(
    state: ts.TicketState,
) -> tuple[dispatch.RouteTicketResult, dispatch.SlaPolicyRecord]:
    """Where a new ticket goes and the SLA policy it runs on there (the desk's, when no team takes it)."""
    if not workflow.patched(patches.POLICY_WITH_ROUTE):
        routed = await route(state, exclude_team_ids=[])
        return routed, await find_policy(state, routed.team_id or "")
    draft = state.view.draft
    request = dispatch.RouteTicketInput(
        state.ticket_id, draft.category, [], draft.region, draft.customer_tier, priority=draft.priority
    )
    routed = await call(dispatch.ROUTE_TICKET, request, dispatch.RouteTicketResult)
    assert routed.policy is not None  # asked for by the priority
    return routed, routed.policy


async def find_policy(state: ts.TicketState, team_id: str) -> dispatch.SlaPolicyRecord:
    query = dispatch.FindSlaPolicyInput(state.view.draft.priority, state.view.draft.customer_tier, team_id)
    return await call(dispatch.FIND_SLA_POLICY, query, dispatch.SlaPolicyRecord)


async def save_work_order(work_order: dispatch.WorkOrderRecord) -> None:
    await call(dispatch.SAVE_WORK_ORDER, dispatch.SaveWorkOrderInput(work_order))


def validate(check: Callable[..., None], *args: Any) -> None:
    """Run a pure check for an update validator (which must not change anything)."""
    try:
        check(*args)
    except DeskError as err:
        raise rejection(err) from None


def rejection(err: DeskError) -> ApplicationError:
    """The desk's error as the update's failure; the services' ticket client maps it back."""
    if isinstance(err, NotFound):
        kind = WORK_ORDER_NOT_FOUND
    elif isinstance(err, InvalidArgument):
        kind = INVALID_ARGUMENT
    else:
        kind = TRANSITION_NOT_ALLOWED
    return ApplicationError(str(err), type=kind, non_retryable=True)
