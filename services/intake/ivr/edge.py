"""The IVR RPCs' edge: requests checked and turned into the call workflow's records, turns into protobuf."""

from __future__ import annotations

import re

from desk import proto_fields
from desk.errors import FieldViolation, InvalidArgument
from helpdesk.v1 import intake_pb2
from workflows import contract as wf

MAX_INPUT = 500  # keys, a transcript of the symptom, or a recording's reference
_CALL_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,120}$")  # it makes the request id of the call's report
_CALLER = re.compile(r"^\+?[0-9]{3,20}$")


def call_id(value: str) -> str:
    _raise([_call_id_violation(value)])
    return value


def call_input(request: intake_pb2.StartIvrCallRequest) -> wf.IvrCallInput:
    caller = request.caller_number.strip()
    violations = [_call_id_violation(request.call_id)]
    if caller and not _CALLER.match(caller):
        violations.append(FieldViolation("caller_number", "is not a telephone number"))
    _raise(violations)
    return wf.IvrCallInput(request.call_id, caller)


def ivr_input(request: intake_pb2.SendIvrInputRequest) -> wf.IvrInput:
    violations = [_call_id_violation(request.call_id)]
    if request.turn < 1:
        violations.append(FieldViolation("turn", "is required: the number of the turn this input answers"))
    if request.no_input and request.input:
        violations.append(FieldViolation("input", "must be empty when no_input is set"))
    elif not request.no_input and not request.input.strip():
        violations.append(FieldViolation("input", "is required unless no_input is set"))
    elif len(request.input) > MAX_INPUT:
        violations.append(FieldViolation("input", f"is {len(request.input)} characters; at most {MAX_INPUT}"))
    _raise(violations)
    return wf.IvrInput(request.turn, request.input, request.no_input)


def turn_to_proto(turn: wf.IvrTurnView) -> intake_pb2.IvrTurn:
    return intake_pb2.IvrTurn(
        call_id=turn.call_id,
        turn=turn.turn,
        prompts=[
            intake_pb2.IvrPrompt(code=p.code, text=p.text, gloss=p.gloss, params=p.params)
            for p in turn.prompts
        ],
        awaiting=proto_fields.enum_value(intake_pb2.IvrAwaiting, turn.awaiting, "IVR_AWAITING_"),
        timeout_seconds=turn.timeout_seconds,
        ended=turn.ended,
        end_reason=proto_fields.enum_value(intake_pb2.IvrEndReason, turn.end_reason, "IVR_END_REASON_"),
        transfer_to_agent=turn.transfer_to_agent,
        ticket_id=turn.ticket_id,
        to_main_menu=turn.to_main_menu,
        fault_number=turn.fault_number,
    )


def _call_id_violation(value: str) -> FieldViolation | None:
    if not value:
        return FieldViolation("call_id", "is required")
    if not _CALL_ID.match(value):
        return FieldViolation("call_id", "is not 1-120 of A-Z a-z 0-9 . _ : -")
    return None


def _raise(violations: list[FieldViolation | None]) -> None:
    found = [v for v in violations if v is not None]
    if found:
        raise InvalidArgument(found)
