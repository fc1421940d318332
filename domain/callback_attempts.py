"""Callback attempts (回访) under the after-care policy, as pure transitions like ``ticket_state``.

A customer not reached is an attempt, not an end: the surveyor tries again, at least the policy's
interval later, while the callback deadline lasts; after the last attempt allowed (the policy's count,
or the last that fits before the deadline) the ticket closes as "customer unreachable". A customer
who says the fault is not fixed sends the ticket back as a second dispatch (二次派单), proposed to the
team that resolved it and reviewed by a senior agent before the team sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from desk.errors import TransitionNotAllowed
from desk.events import survey_subject, ticket_subject
from domain.aftercare_policy import CUSTOMER_UNREACHABLE, AftercarePolicy
from domain.callbacks import CallbackRecord, PendingCallback
from domain.commands import RecordCallbackInput
from domain.deadlines import Deadline, DeadlineKind
from domain.ticket import TicketStatus, TicketView
from domain.ticket_state import NewEvent, TicketState, check_callback, meet_deadlines


def callback_deadline(state: TicketState) -> Deadline | None:
    """The current callback's deadline: the one started by the latest resolution."""
    return next((d for d in reversed(state.view.deadlines) if d.kind == DeadlineKind.CALLBACK), None)


def check_attempt(state: TicketState, request: RecordCallbackInput, now: datetime) -> None:
    """A callback is allowed on a RESOLVED ticket; one not reached, only once the spacing has passed."""
    check_callback(state, request)
    next_at = state.view.next_callback_at
    if not request.reached and next_at is not None and now < next_at:
        raise TransitionNotAllowed(
            f"the next callback attempt is allowed from {next_at.isoformat()} (the callback policy's spacing)"
        )


def record_attempt(
    state: TicketState, request: RecordCallbackInput, policy: AftercarePolicy, now: datetime
) -> tuple[CallbackRecord, list[NewEvent]]:
    """Closed when confirmed; PENDING_REVIEW for the caller's second dispatch when not fixed; when not
    reached, another attempt later, or CLOSED as "customer unreachable" after the last one allowed."""
    check_attempt(state, request, now)
    events: list[NewEvent] = []
    closing_note = request.note
    if request.reached:
        meet_deadlines(state, now, DeadlineKind.CALLBACK)
        state.view.status = TicketStatus.CLOSED if request.confirmed_resolved else TicketStatus.OPEN
        state.view.next_callback_at = None
    else:
        state.view.callback_attempts += 1
        next_at = now + timedelta(seconds=policy.callback_interval_seconds)
        if _last_attempt(state, policy, next_at):
            meet_deadlines(state, now, DeadlineKind.CALLBACK)
            state.view.status, state.view.close_reason = TicketStatus.CLOSED, CUSTOMER_UNREACHABLE
            state.view.next_callback_at, closing_note = None, CUSTOMER_UNREACHABLE
        else:
            state.view.next_callback_at = next_at
    callback = CallbackRecord(
        ticket_id=state.ticket_id,
        reached=request.reached,
        confirmed_resolved=request.confirmed_resolved,
        termination_reason=request.termination_reason,
        note=request.note,
        surveyor=request.actor,
        recorded_at=now,
        ticket_status=state.view.status,
        request_id=request.request_id,
        attempt=state.view.callback_attempts + (1 if request.reached else 0),
    )
    events.append(_recorded(state, callback, policy))
    if state.view.status == TicketStatus.OPEN:  # not fixed: the next resolution's callback starts afresh
        start_callback(state)
    if state.view.status == TicketStatus.CLOSED:
        facts = {"close_reason": state.view.close_reason}
        events.append(NewEvent("ticket.closed", ticket_subject("closed"), request.actor, closing_note, facts))
    return callback, events


def start_callback(state: TicketState) -> None:
    """A new callback (after a resolution): its attempts count from none."""
    state.view.callback_attempts, state.view.next_callback_at = 0, None


def pending_callback(state: TicketState, policy: AftercarePolicy | None) -> PendingCallback:
    """The ticket's entry in the surveyors' queue, as the ticket stands now."""
    deadline = callback_deadline(state)
    return PendingCallback(
        ticket_id=state.ticket_id,
        pending=state.view.status == TicketStatus.RESOLVED,
        due_at=deadline.due_at if deadline else None,
        attempts=state.view.callback_attempts,
        max_attempts=policy.callback_attempts if policy else AftercarePolicy().callback_attempts,
        next_attempt_at=state.view.next_callback_at,
        ticket=state.view,
    )


def callback_queue_changed(before: TicketView, after: TicketView) -> bool:
    """Whether a change moves the ticket in the callback queue: into it, out of it, or its attempts."""
    awaiting = (before.status == TicketStatus.RESOLVED, after.status == TicketStatus.RESOLVED)
    attempts = (before.callback_attempts, before.next_callback_at)
    return awaiting[0] != awaiting[1] or attempts != (after.callback_attempts, after.next_callback_at)


def _last_attempt(state: TicketState, policy: AftercarePolicy, next_at: datetime) -> bool:
    """No attempt left: the policy's count is used up, or the next one would fall after the deadline."""
    deadline = callback_deadline(state)
    past_deadline = deadline is not None and next_at > deadline.due_at
    return state.view.callback_attempts >= policy.callback_attempts or past_deadline


def _recorded(state: TicketState, callback: CallbackRecord, policy: AftercarePolicy) -> NewEvent:
    if callback.confirmed_resolved:
        outcome = "confirmed"
    elif callback.reached:
        outcome = "not_fixed"
    else:
        outcome = "unreachable" if state.view.status == TicketStatus.CLOSED else "not_reached"
    facts = {
        "reached": callback.reached,
        "confirmed_resolved": callback.confirmed_resolved,
        "outcome": outcome,
        "attempt": callback.attempt,
        "max_attempts": policy.callback_attempts,
        "request_id": callback.request_id,
    }
    if state.view.next_callback_at is not None:
        facts["next_attempt_at"] = state.view.next_callback_at.isoformat()
    reason = callback.termination_reason or callback.note
    return NewEvent(
        "survey.callback_recorded", survey_subject("callback_recorded"), callback.surveyor, reason, facts
    )
