"""Review (审核) of a proposed work order, as pure transitions like ``ticket_state``.

A work order that needs review is created PENDING_REVIEW: the ticket waits at the desk, the team is
not told, and no response deadline runs yet. A senior agent approves it (optionally to another team),
and only then is it sent to the team under that team's policy; or rejects it with a reason, and the
ticket is back at the desk for another dispatch.
"""

from __future__ import annotations

from datetime import datetime

from desk.errors import InvalidArgument, TransitionNotAllowed
from desk.events import review_subject
from domain.commands import ReviewWorkOrderInput
from domain.ticket import TicketStatus
from domain.ticket_state import NewEvent, TicketState, send_to_team
from domain.work_orders import SlaPolicyRecord, WorkOrderRecord, WorkOrderStatus


def request_review(state: TicketState, work_order: WorkOrderRecord) -> list[NewEvent]:
    state.view.status, state.view.assigned_team_id = TicketStatus.PENDING_REVIEW, ""
    facts = _facts(work_order)
    return [
        NewEvent(
            "review.requested",
            review_subject("requested"),
            work_order.dispatched_by,
            work_order.dispatch_reason,
            facts,
        )
    ]


def check_review(state: TicketState, request: ReviewWorkOrderInput) -> None:
    if not request.approve and not request.reason.strip():
        raise InvalidArgument.one("reason", "is required to reject a work order")
    work_order = state.work_order(request.work_order_id)
    if work_order.status != WorkOrderStatus.PENDING_REVIEW:
        raise TransitionNotAllowed(
            f"work order {work_order.work_order_id} is {work_order.status}, not in review"
        )


def approve(
    state: TicketState, request: ReviewWorkOrderInput, policy: SlaPolicyRecord, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    """Send it to ``request.team_id`` (or the proposed team) under ``policy``, that team's."""
    work_order = _decide(state, request, now)
    proposed = work_order.team_id
    work_order.team_id = request.team_id or proposed
    facts = _facts(work_order) | {"proposed": proposed}
    events = [NewEvent("review.approved", review_subject("approved"), request.actor, request.reason, facts)]
    events += send_to_team(
        state, work_order, policy=policy, now=now, actor=request.actor, reason=work_order.dispatch_reason
    )
    return work_order, events


def reject(
    state: TicketState, request: ReviewWorkOrderInput, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    work_order = _decide(state, request, now)
    work_order.status = WorkOrderStatus.REJECTED
    state.view.status, state.view.assigned_team_id = TicketStatus.OPEN, ""
    facts = _facts(work_order)
    return work_order, [
        NewEvent("review.rejected", review_subject("rejected"), request.actor, request.reason, facts)
    ]


def _decide(state: TicketState, request: ReviewWorkOrderInput, now: datetime) -> WorkOrderRecord:
    check_review(state, request)
    work_order = state.work_order(request.work_order_id)
    work_order.reviewed_by, work_order.review_reason = request.actor, request.reason
    work_order.reviewed_at = now
    return work_order


def _facts(work_order: WorkOrderRecord) -> dict[str, str]:
    """What every review.* event says: the work order, its team, and who proposed it (the junior agent
    a senior agent's review grades, seed 002 三.3; the quality ledger's REVIEW items name them)."""
    return {
        "work_order_id": work_order.work_order_id,
        "team_id": work_order.team_id,
        "proposed_by": work_order.dispatched_by,
    }
