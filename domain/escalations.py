"""Opening and resolving the manager hotline's escalations (经理热线), as pure transitions.

Like ``ticket_state``: each function mutates the state it is given and returns the events it decided.
An escalation opens on the fourth repeat report or a repeat on an overdue ticket (once, with the
ticket's ``ticket.escalated``), or when a caller opens one (a complaint, a customer who refuses the
normal answer, a disputed investigation). The ticket's ``escalated`` flag stays the repeat rule's own:
a complaint does not keep a later repeat on an overdue ticket from opening its case. A manager
resolves a case once, with an outcome; a resolution sent again with its request id answers the same
and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from desk.errors import FieldViolation, InvalidArgument, NotFound, TransitionNotAllowed
from desk.events import escalation_subject
from domain.commands import OpenEscalationInput, ResolveEscalationInput
from domain.deadlines import DeadlineState
from domain.hotline import (
    COMPENSABLE,
    OPENED_BY_THE_DESK,
    EscalationOutcome,
    EscalationRecord,
    EscalationSource,
    EscalationStatus,
    Responsibility,
    compensation_cents,
    hours_overdue,
)
from domain.ticket_state import SYSTEM_ACTOR, NewEvent, TicketState

ESCALATED = "ticket.escalated"


def any_open(state: TicketState) -> bool:
    return any(e.is_open for e in state.escalations)


def find(state: TicketState, escalation_id: str) -> EscalationRecord:
    for escalation in state.escalations:
        if escalation.escalation_id == escalation_id:
            return escalation
    raise NotFound("escalation", escalation_id)


# --- opened by the ticket: a repeat report ---


def escalated_by(events: list[NewEvent]) -> bool:
    """Whether a repeat's events escalate the ticket (``domain.reports.repeat`` decides when)."""
    return any(e.type == ESCALATED for e in events)


def open_for_repeat(state: TicketState, now: datetime) -> tuple[EscalationRecord, list[NewEvent]]:
    """The queue entry of a ticket a repeat report has just escalated: overdue, or past three repeats."""
    overdue = any(d.state == DeadlineState.OVERDUE for d in state.view.deadlines)
    source = EscalationSource.OVERDUE_RECONTACT if overdue else EscalationSource.REPEATS
    note = (
        "the customer called again on an overdue ticket"
        if overdue
        else f"{state.view.repeat_count} repeat reports"
    )
    return _open(state, source, note, SYSTEM_ACTOR, request_id="", now=now)


def open_for_dispute(
    state: TicketState, finding: str, actor: str, now: datetime
) -> tuple[EscalationRecord, list[NewEvent]]:
    """The queue entry of a customer who disputes a NOT_OURS investigation (seed 002 四.4, 八.1)."""
    note = f"the customer disputes the investigation: {finding}"
    return _open(state, EscalationSource.DISPUTED_INVESTIGATION, note, actor, request_id="", now=now)


# --- opened by a caller ---


def check_open(state: TicketState, request: OpenEscalationInput) -> None:
    if _retried_opening(state, request) is not None:
        return
    violations = []
    if request.source not in OPENED_BY_THE_DESK:
        allowed = ", ".join(OPENED_BY_THE_DESK)
        violations.append(FieldViolation("source", f"must be one of {allowed}"))
    if not request.note.strip():
        violations.append(FieldViolation("note", "is required"))
    if violations:
        raise InvalidArgument(violations)
    already = next((e for e in state.escalations if e.is_open and e.source == request.source), None)
    if already is not None:
        raise TransitionNotAllowed(
            f"escalation {already.escalation_id} ({already.source}) is already open for this ticket"
        )


def open_escalation(
    state: TicketState, request: OpenEscalationInput, now: datetime
) -> tuple[EscalationRecord, list[NewEvent]]:
    """The new escalation and its event; a retried opening answers its escalation and decides nothing."""
    check_open(state, request)
    retried = _retried_opening(state, request)
    if retried is not None:
        return retried, []
    source = EscalationSource(request.source)
    return _open(state, source, request.note.strip(), request.actor, request_id=request.request_id, now=now)


def _retried_opening(state: TicketState, request: OpenEscalationInput) -> EscalationRecord | None:
    if not request.request_id:
        return None
    return next((e for e in state.escalations if e.open_request_id == request.request_id), None)


def _open(
    state: TicketState, source: EscalationSource, note: str, actor: str, *, request_id: str, now: datetime
) -> tuple[EscalationRecord, list[NewEvent]]:
    escalation = EscalationRecord(
        escalation_id=f"{state.ticket_id}-E{len(state.escalations) + 1}",
        ticket_id=state.ticket_id,
        source=source,
        note=note,
        opened_by=actor,
        opened_at=now,
        open_request_id=request_id,
    )
    state.escalations.append(escalation)
    facts = {"escalation_id": escalation.escalation_id, "source": str(source)}
    return escalation, [NewEvent("escalation.opened", escalation_subject("opened"), actor, note, facts)]


# --- resolved by a manager ---


def check_resolve(state: TicketState, request: ResolveEscalationInput) -> None:
    check_resolution_fields(request)
    escalation = find(state, request.escalation_id)
    if escalation.is_open or escalation.resolve_request_id == request.request_id:
        return
    raise TransitionNotAllowed(
        f"escalation {escalation.escalation_id} was resolved {escalation.outcome} already"
        f" (by request {escalation.resolve_request_id!r})"
    )


def resolve(
    state: TicketState, request: ResolveEscalationInput, now: datetime
) -> tuple[EscalationRecord, list[NewEvent]]:
    """The resolved escalation and its event; resolving again with the same request id decides nothing."""
    check_resolve(state, request)
    escalation = find(state, request.escalation_id)
    if not escalation.is_open:
        return escalation, []
    outcome = EscalationOutcome(request.outcome)
    if outcome == EscalationOutcome.COMPENSATED:
        _compensate(state, escalation, request, now)
    escalation.status, escalation.outcome = EscalationStatus.RESOLVED, str(outcome)
    escalation.responsibility = request.responsibility
    escalation.resolution_note = request.note.strip()
    escalation.resolved_by, escalation.resolved_at = request.actor, now
    escalation.resolve_request_id = request.request_id
    facts = {
        "escalation_id": escalation.escalation_id,
        "source": str(escalation.source),
        "outcome": escalation.outcome,
        "responsibility": escalation.responsibility,
        "compensation_cents": escalation.compensation_cents,
        "currency": escalation.currency,
        "hours_overdue": escalation.hours_overdue,
        "rule_version": escalation.rule_version,
    }
    event = NewEvent(
        "escalation.resolved", escalation_subject("resolved"), request.actor, request.note, facts
    )
    return escalation, [event]


def _compensate(
    state: TicketState, escalation: EscalationRecord, request: ResolveEscalationInput, now: datetime
) -> None:
    rule = request.rule
    assert rule is not None, "checked by check_resolution_fields"
    hours = hours_overdue(state.view.deadlines, now)
    amount = request.compensation_cents
    if amount is None:
        amount = compensation_cents(rule, hours)
    if amount == 0:
        raise TransitionNotAllowed(
            f"the compensation rule (v{rule.version}) gives nothing: the ticket is {hours} h past its"
            " resolution deadline; give compensation_cents or another outcome"
        )
    escalation.compensation_cents, escalation.currency = amount, rule.currency
    escalation.hours_overdue, escalation.rule_version = hours, rule.version


def check_resolution_fields(request: ResolveEscalationInput) -> None:
    """Every bad field at once; the same checks as the survey service's edge, for any caller."""
    violations = []
    if request.outcome not in list(EscalationOutcome):
        violations.append(FieldViolation("outcome", f"must be one of {', '.join(EscalationOutcome)}"))
    if not request.note.strip():
        violations.append(FieldViolation("note", "is required"))
    if not request.request_id.strip():
        violations.append(FieldViolation("request_id", "is required"))
    if request.responsibility and request.responsibility not in list(Responsibility):
        violations.append(FieldViolation("responsibility", f"must be one of {', '.join(Responsibility)}"))
    violations += _compensation_violations(request)
    if violations:
        first_of_each = {v.field: v for v in reversed(violations)}  # one per field: its first
        raise InvalidArgument([v for v in violations if first_of_each[v.field] is v])


def _compensation_violations(request: ResolveEscalationInput) -> list[FieldViolation]:
    amount, rule = request.compensation_cents, request.rule
    if request.outcome != EscalationOutcome.COMPENSATED:
        if amount:
            return [FieldViolation("compensation_cents", "is given only with outcome COMPENSATED")]
        return []
    violations = []
    if request.responsibility not in COMPENSABLE:
        violations.append(
            FieldViolation(
                "responsibility", "compensation is due only when SERVICE_DESK or OPS_TEAM was responsible"
            )
        )
    if rule is None:
        violations.append(FieldViolation("rule", "the compensation rule in force is required"))
    if amount is not None and amount <= 0:
        violations.append(FieldViolation("compensation_cents", "must be more than 0 (and not negative)"))
    elif amount is not None and rule is not None and amount > rule.cap_cents:
        violations.append(FieldViolation("compensation_cents", f"at most the rule's cap, {rule.cap_cents}"))
    return violations
