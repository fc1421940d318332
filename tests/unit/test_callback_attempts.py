"""Callback attempts as pure transitions: spacing, the last attempt allowed, and the callback queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.errors import TransitionNotAllowed
from domain import callback_attempts as attempts
from domain import ticket_state as ts
from domain.aftercare_policy import CUSTOMER_UNREACHABLE, AftercarePolicy
from domain.commands import RecordCallbackInput
from domain.deadlines import DeadlineKind, DeadlineState
from domain.ticket import TicketStatus
from domain.work_orders import DispatchKind, WorkOrderStatus
from tests.unit.test_ticket_state import T0, deadline, dispatched, give_back, resolved

HOUR = timedelta(hours=1)
RESOLVED_AT = T0 + 3 * HOUR  # the callback deadline is 24 h later
POLICY = AftercarePolicy(callback_attempts=3, callback_interval_seconds=2 * 3600)


def not_reached(request_id: str = "") -> RecordCallbackInput:
    return RecordCallbackInput(False, False, "no answer", "", "surveyor-1", request_id=request_id)


def test_an_attempt_not_reached_keeps_the_ticket_resolved_and_sets_the_next_allowed_time() -> None:
    state = resolved()
    callback, events = attempts.record_attempt(state, not_reached("r1"), POLICY, RESOLVED_AT + HOUR)

    assert (state.view.status, state.view.callback_attempts) == (TicketStatus.RESOLVED, 1)
    assert state.view.next_callback_at == RESOLVED_AT + 3 * HOUR
    assert (callback.attempt, callback.request_id) == (1, "r1")
    assert [e.type for e in events] == ["survey.callback_recorded"]
    assert events[0].payload["outcome"] == "not_reached"


def test_an_attempt_before_the_spacing_has_passed_is_refused() -> None:
    state = resolved()
    attempts.record_attempt(state, not_reached(), POLICY, RESOLVED_AT + HOUR)
    with pytest.raises(TransitionNotAllowed, match="next callback attempt"):
        attempts.check_attempt(state, not_reached(), RESOLVED_AT + 2 * HOUR)
    reached = RecordCallbackInput(True, True, "", "", "surveyor-1")
    attempts.check_attempt(state, reached, RESOLVED_AT + 2 * HOUR)  # a customer who calls back is welcome


def test_the_last_attempt_allowed_closes_the_ticket_as_unreachable() -> None:
    state = resolved()
    for hours in (1, 3, 5):
        _, events = attempts.record_attempt(state, not_reached(), POLICY, RESOLVED_AT + hours * HOUR)

    assert (state.view.status, state.view.close_reason) == (TicketStatus.CLOSED, CUSTOMER_UNREACHABLE)
    assert deadline(state, DeadlineKind.CALLBACK).state == DeadlineState.MET
    assert [e.type for e in events] == ["survey.callback_recorded", "ticket.closed"]
    assert events[0].payload["outcome"] == "unreachable"


def test_an_attempt_whose_successor_would_miss_the_deadline_is_the_last() -> None:
    state = resolved()
    attempts.record_attempt(state, not_reached(), POLICY, RESOLVED_AT + 23 * HOUR)
    assert (state.view.status, state.view.callback_attempts) == (TicketStatus.CLOSED, 1)


def test_not_fixed_reopens_for_a_second_dispatch_and_restarts_the_attempts() -> None:
    state = resolved()
    attempts.record_attempt(state, not_reached(), POLICY, RESOLVED_AT + HOUR)
    not_fixed = RecordCallbackInput(True, False, "", "still down", "surveyor-1")
    attempts.record_attempt(state, not_fixed, POLICY, RESOLVED_AT + 4 * HOUR)
    assert (state.view.status, state.view.callback_attempts) == (TicketStatus.OPEN, 0)


def test_the_queue_entry_follows_the_ticket_into_and_out_of_resolved() -> None:
    before, _ = dispatched()
    after = resolved()
    assert attempts.callback_queue_changed(before.view, after.view)
    entry = attempts.pending_callback(after, POLICY)
    assert (entry.pending, entry.due_at, entry.max_attempts) == (True, RESOLVED_AT + 24 * HOUR, 3)
    assert not attempts.callback_queue_changed(after.view, after.view)


def test_a_work_order_says_why_it_was_made() -> None:
    state, first = dispatched()
    give_back(state, first.work_order_id, T0 + HOUR)
    again = ts.new_work_order(state, team_id="software", now=T0 + 2 * HOUR, actor="a", reason="r")
    second = ts.new_work_order(
        state, team_id="network", now=T0, actor="a", reason="r", kind=DispatchKind.SECOND_DISPATCH
    )
    assert (first.dispatch_kind, again.dispatch_kind) == (DispatchKind.INITIAL, DispatchKind.AFTER_RETURN)
    assert (second.dispatch_kind, state.view.second_dispatches) == (DispatchKind.SECOND_DISPATCH, 1)
    assert first.status == WorkOrderStatus.RETURNED
