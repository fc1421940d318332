"""The manager hotline's rules called directly: which repeats open a case, callers' cases, resolutions,
and the compensation rule (seed 002 八)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.errors import InvalidArgument, NotFound, TransitionNotAllowed
from domain import escalations, reports
from domain import ticket_state as ts
from domain.commands import OpenEscalationInput, RecordRepeatInput, RepeatReport, ResolveEscalationInput
from domain.deadlines import DeadlineKind, DeadlineState
from domain.hotline import (
    CompensationRule,
    EscalationSource,
    EscalationStatus,
    check_rule,
    compensation_cents,
    hours_overdue,
)
from domain.ticket import Reporter
from tests.unit.test_ticket_state import T0, opened

RULE = CompensationRule(amount_per_hour_cents=500, cap_cents=10_000, currency="CNY", version=3)
DUE = T0 + timedelta(hours=24)  # the resolution deadline of tests.unit.test_ticket_state.opened()


def repeat(state: ts.TicketState, n: int) -> list[ts.NewEvent]:
    report = RepeatReport(f"req-r{n}", "PHONE", Reporter(name="Li Lei"), "still down", T0)
    return reports.repeat(state, RecordRepeatInput(report, actor="agent-7"))


def complaint(request_id: str = "req-c1", note: str = "the engineer was rude") -> OpenEscalationInput:
    return OpenEscalationInput("COMPLAINT", note, actor="agent-7", request_id=request_id)


def resolution(
    outcome: str = "EXPLAINED", request_id: str = "req-x1", **more: object
) -> ResolveEscalationInput:
    fields: dict[str, object] = {
        "escalation_id": "T-1-E1",
        "outcome": outcome,
        "note": "told the customer why",
        "actor": "manager-1",
        "request_id": request_id,
    }
    return ResolveEscalationInput(**(fields | more))  # type: ignore[arg-type]


def violated(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in error.value.violations]


# --- opened by the ticket ---


def test_the_fourth_repeat_opens_one_case_of_source_repeats() -> None:
    state = opened()
    assert not any(escalations.escalated_by(repeat(state, n)) for n in (1, 2, 3))
    events = repeat(state, 4)
    assert escalations.escalated_by(events)
    case, opened_events = escalations.open_for_repeat(state, T0)
    assert (case.escalation_id, case.source, case.status) == ("T-1-E1", EscalationSource.REPEATS, "OPEN")
    assert [e.subject for e in opened_events] == ["helpdesk.escalation.opened"]
    assert opened_events[0].payload == {"escalation_id": "T-1-E1", "source": "REPEATS"}
    assert not escalations.escalated_by(repeat(state, 5))  # once


def test_a_repeat_on_an_overdue_ticket_opens_an_overdue_recontact_case() -> None:
    state = opened()
    state.view.deadlines[0].state = DeadlineState.OVERDUE
    assert escalations.escalated_by(repeat(state, 1))
    case, _ = escalations.open_for_repeat(state, T0)
    assert case.source == EscalationSource.OVERDUE_RECONTACT


# --- opened by a caller ---


def test_a_complaint_opens_a_case_and_its_retry_answers_the_same_case() -> None:
    state = opened()
    case, events = escalations.open_escalation(state, complaint(), T0)
    assert (case.source, case.opened_by) == ("COMPLAINT", "agent-7")
    assert [e.type for e in events] == ["escalation.opened"]
    again, more = escalations.open_escalation(state, complaint(), T0 + timedelta(minutes=1))
    assert (again, more, len(state.escalations)) == (case, [], 1)


def test_one_open_case_per_source_and_the_others_beside_it() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    with pytest.raises(TransitionNotAllowed, match="T-1-E1"):
        escalations.open_escalation(state, complaint("req-c2"), T0)
    refused = OpenEscalationInput("REFUSED_ANSWER", "wants a visit today", "agent-7", "req-r1")
    case, _ = escalations.open_escalation(state, refused, T0)
    assert case.escalation_id == "T-1-E2"


def test_an_opening_names_every_bad_field_and_a_caller_cannot_open_a_repeats_case() -> None:
    state = opened()
    with pytest.raises(InvalidArgument) as error:
        escalations.open_escalation(state, OpenEscalationInput("REPEATS", "  ", "agent-7"), T0)
    assert violated(error) == ["source", "note"]
    assert state.escalations == []


def test_a_complaint_does_not_keep_a_repeat_on_an_overdue_ticket_from_opening_its_case() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    state.view.deadlines[0].state = DeadlineState.OVERDUE
    assert escalations.escalated_by(repeat(state, 1))
    case, _ = escalations.open_for_repeat(state, T0)
    assert (case.escalation_id, case.source) == ("T-1-E2", EscalationSource.OVERDUE_RECONTACT)


# --- resolved by a manager ---


def test_a_resolution_applies_once_and_another_request_is_refused() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    later = T0 + timedelta(hours=1)
    case, events = escalations.resolve(state, resolution(responsibility="NOT_OURS"), later)
    assert (case.status, case.outcome, case.resolved_by, case.resolved_at) == (
        EscalationStatus.RESOLVED,
        "EXPLAINED",
        "manager-1",
        later,
    )
    assert [(e.subject, e.payload["outcome"]) for e in events] == [
        ("helpdesk.escalation.resolved", "EXPLAINED")
    ]
    same, none = escalations.resolve(state, resolution(responsibility="NOT_OURS"), later + timedelta(hours=1))
    assert (same.resolved_at, none) == (later, [])
    with pytest.raises(TransitionNotAllowed, match="req-x1"):
        escalations.check_resolve(state, resolution("REFERRED", "req-x2"))
    assert not escalations.any_open(state)


def test_a_resolution_names_every_bad_field_and_an_unknown_case_is_not_found() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    with pytest.raises(InvalidArgument) as error:
        escalations.resolve(state, resolution("", note=" ", request_id=""), T0)
    assert violated(error) == ["outcome", "note", "request_id"]
    with pytest.raises(NotFound):
        escalations.resolve(state, resolution(escalation_id="T-1-E9"), T0)
    assert escalations.any_open(state)


# --- compensation ---


def test_compensation_counts_started_hours_past_the_resolution_deadline_until_met_and_is_capped() -> None:
    state = opened()
    [resolution_deadline] = [d for d in state.view.deadlines if d.kind == DeadlineKind.RESOLUTION]
    assert hours_overdue(state.view.deadlines, DUE) == 0
    assert hours_overdue(state.view.deadlines, DUE + timedelta(hours=2, minutes=1)) == 3
    resolution_deadline.met_at = DUE + timedelta(minutes=30)
    assert hours_overdue(state.view.deadlines, DUE + timedelta(days=9)) == 1  # counted until it was met
    assert compensation_cents(RULE, 3) == 1500
    assert compensation_cents(RULE, 100) == 10_000


def test_compensated_by_the_rule_when_ours_and_overdue() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    now = DUE + timedelta(hours=2, minutes=30)
    compensated = resolution("COMPENSATED", responsibility="OPS_TEAM", rule=RULE)
    case, events = escalations.resolve(state, compensated, now)
    assert (case.compensation_cents, case.currency, case.hours_overdue, case.rule_version) == (
        1500,
        "CNY",
        3,
        3,
    )
    assert (events[0].payload["compensation_cents"], events[0].payload["responsibility"]) == (
        1500,
        "OPS_TEAM",
    )


def test_a_managers_own_amount_within_the_cap() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    own = resolution("COMPENSATED", responsibility="SERVICE_DESK", rule=RULE, compensation_cents=700)
    case, _ = escalations.resolve(state, own, T0)  # not overdue: the manager's amount all the same
    assert (case.compensation_cents, case.hours_overdue) == (700, 0)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"responsibility": "NOT_OURS"}, ["responsibility"]),
        ({"responsibility": ""}, ["responsibility"]),
        ({"compensation_cents": -1}, ["compensation_cents"]),
        ({"compensation_cents": 10_001}, ["compensation_cents"]),
        ({"rule": None}, ["rule"]),
        ({"responsibility": "BOTH", "compensation_cents": -5}, ["responsibility", "compensation_cents"]),
    ],
)
def test_compensation_refusals_name_their_fields(changes: dict[str, object], fields: list[str]) -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    fields_given: dict[str, object] = {"outcome": "COMPENSATED", "responsibility": "OPS_TEAM", "rule": RULE}
    request = resolution(**(fields_given | changes))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument) as error:
        escalations.resolve(state, request, DUE + timedelta(hours=5))
    assert violated(error) == fields
    assert escalations.any_open(state)


def test_nothing_due_by_the_rule_is_no_compensation() -> None:
    state = opened()
    escalations.open_escalation(state, complaint(), T0)
    with pytest.raises(TransitionNotAllowed, match="0 h past"):
        escalations.resolve(state, resolution("COMPENSATED", responsibility="OPS_TEAM", rule=RULE), DUE)
    with pytest.raises(InvalidArgument, match="compensation_cents"):
        escalations.resolve(state, resolution("EXPLAINED", compensation_cents=100), DUE)


def test_a_rule_with_negative_amounts_or_no_currency_is_refused_by_field() -> None:
    with pytest.raises(InvalidArgument) as error:
        check_rule(CompensationRule(amount_per_hour_cents=-1, cap_cents=-2, currency="yuan"))
    assert violated(error) == ["rule.amount_per_hour_cents", "rule.cap_cents", "rule.currency"]
    check_rule(RULE)
