"""EscalationService's proto mapping: requests to commands (every bad field named at once), and the
manager hotline's records back to messages."""

from __future__ import annotations

from desk import proto_fields
from desk.errors import FieldViolation, InvalidArgument
from desk.paging import PageTokens, Position
from domain import escalations
from domain.commands import OpenEscalationInput, ResolveEscalationInput
from domain.hotline import OPENED_BY_THE_DESK, CompensationRule, EscalationRecord, check_rule
from helpdesk.v1 import escalation_pb2, survey_pb2
from services.survey.escalations import QueuePosition

E = escalation_pb2
MAX_NOTE = 2000
_SOURCE, _STATUS, _OUTCOME = "ESCALATION_SOURCE_", "ESCALATION_STATUS_", "ESCALATION_OUTCOME_"
_RESPONSIBILITY = "RESPONSIBILITY_"


def open_command(request: E.OpenEscalationRequest, actor: str) -> OpenEscalationInput:
    violations = _required(ticket_id=request.ticket_id, note=request.note)
    source = proto_fields.enum_name(E.EscalationSource, request.source, _SOURCE)
    if source not in OPENED_BY_THE_DESK:
        allowed = ", ".join(OPENED_BY_THE_DESK)
        violations.append(
            FieldViolation("source", f"must be one of {allowed} (the others open by themselves)")
        )
    violations += _note_length(request.note)
    _raise_if(violations)
    return OpenEscalationInput(source, request.note.strip(), actor, request.request_id.strip())


def resolve_command(
    request: E.ResolveEscalationRequest, actor: str, rule: CompensationRule | None
) -> ResolveEscalationInput:
    """The manager's resolution; the domain's own field checks run here too, so all come at once."""
    violations = _required(escalation_id=request.escalation_id)
    violations += _note_length(request.note)
    if request.HasField("compensation_cents"):
        amount: int | None = request.compensation_cents
    else:
        amount = None
    command = ResolveEscalationInput(
        escalation_id=request.escalation_id.strip(),
        outcome=proto_fields.enum_name(E.EscalationOutcome, request.outcome, _OUTCOME),
        note=request.note.strip(),
        actor=actor,
        request_id=request.request_id.strip(),
        responsibility=proto_fields.enum_name(
            survey_pb2.Responsibility, request.responsibility, _RESPONSIBILITY
        ),
        rule=rule,
        compensation_cents=amount,
    )
    try:
        escalations.check_resolution_fields(command)
    except InvalidArgument as bad:
        violations += bad.violations
    _raise_if(violations)
    return command


def outcome_of(request: E.ResolveEscalationRequest) -> str:
    return proto_fields.enum_name(E.EscalationOutcome, request.outcome, _OUTCOME)


def list_filters(request: E.ListEscalationsRequest) -> tuple[str, str]:
    """The status and source asked for ("" for any); a value this server does not know is refused."""
    status = proto_fields.enum_name(E.EscalationStatus, request.status, _STATUS)
    source = proto_fields.enum_name(E.EscalationSource, request.source, _SOURCE)
    violations = []
    if request.status and not status:
        violations.append(FieldViolation("status", f"unknown escalation status {request.status}"))
    if request.source and not source:
        violations.append(FieldViolation("source", f"unknown escalation source {request.source}"))
    _raise_if(violations)
    return status, source


def page_token(tokens: PageTokens, request: E.ListEscalationsRequest, last: EscalationRecord) -> str:
    return tokens.next(request, last.opened_at, f"{int(not last.is_open)}:{last.escalation_id}")


def queue_position(after: Position | None) -> QueuePosition | None:
    """The escalation queue's place a verified page token left off at."""
    if after is None:
        return None
    at, key = after
    resolved, _, escalation_id = key.partition(":")
    if resolved not in ("0", "1") or not escalation_id:
        raise InvalidArgument.one("page_token", "is not a token this service issued")
    return QueuePosition(resolved == "1", at, escalation_id)


def rule_from_proto(request: E.SetCompensationRuleRequest) -> CompensationRule:
    if not request.HasField("rule"):
        raise InvalidArgument.one("rule", "is required")
    given = request.rule
    rule = CompensationRule(given.amount_per_hour_cents, given.cap_cents, given.currency.strip().upper())
    check_rule(rule)
    return rule


def rule_to_proto(rule: CompensationRule) -> E.CompensationRule:
    return E.CompensationRule(
        amount_per_hour_cents=rule.amount_per_hour_cents,
        cap_cents=rule.cap_cents,
        currency=rule.currency,
        version=rule.version,
        updated_by=rule.updated_by,
        updated_at=proto_fields.timestamp(rule.updated_at),
    )


def escalation_to_proto(e: EscalationRecord) -> E.Escalation:
    return E.Escalation(
        escalation_id=e.escalation_id,
        ticket_id=e.ticket_id,
        source=proto_fields.enum_value(E.EscalationSource, str(e.source), _SOURCE),
        status=proto_fields.enum_value(E.EscalationStatus, str(e.status), _STATUS),
        note=e.note,
        opened_by=e.opened_by,
        opened_at=proto_fields.timestamp(e.opened_at),
        outcome=proto_fields.enum_value(E.EscalationOutcome, e.outcome, _OUTCOME),
        responsibility=proto_fields.enum_value(survey_pb2.Responsibility, e.responsibility, _RESPONSIBILITY),
        resolution_note=e.resolution_note,
        compensation_cents=e.compensation_cents,
        currency=e.currency,
        hours_overdue=e.hours_overdue,
        rule_version=e.rule_version,
        resolved_by=e.resolved_by,
        resolved_at=proto_fields.timestamp(e.resolved_at),
    )


def _required(**fields: str) -> list[FieldViolation]:
    return [FieldViolation(name, "is required") for name, value in fields.items() if not value.strip()]


def _note_length(note: str) -> list[FieldViolation]:
    if len(note) > MAX_NOTE:
        return [FieldViolation("note", f"at most {MAX_NOTE} characters are allowed")]
    return []


def _raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        # One violation per field: the first description of each (a note both empty and required twice).
        seen: dict[str, FieldViolation] = {}
        for violation in violations:
            seen.setdefault(violation.field, violation)
        raise InvalidArgument(list(seen.values()))
