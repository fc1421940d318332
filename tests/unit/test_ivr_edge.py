"""The IVR RPCs' edge: requests checked field by field, turns to protobuf with every name the flow has."""

from __future__ import annotations

import pytest

from desk.errors import InvalidArgument
from helpdesk.v1 import intake_pb2
from services.intake.ivr import edge as ivr_edge
from services.intake.ivr.calls import update_id
from workflows.contract import IvrInput, IvrPromptView, IvrTurnView
from workflows.ivr_contract import Collect, EndReason


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in error.value.violations]


def test_every_end_reason_and_collect_has_its_proto_enum_value() -> None:
    for reason in EndReason:
        assert intake_pb2.IvrEndReason.Value(f"IVR_END_REASON_{reason}")
    for collect in [*Collect, "NONE"]:
        assert intake_pb2.IvrAwaiting.Value(f"IVR_AWAITING_{collect}")


def test_a_turn_in_protobuf() -> None:
    prompt = IvrPromptView(
        "V2", "您输入的电话号码为:83001234…", "You entered 83001234…", {"number": "83001234"}
    )
    waiting = ivr_edge.turn_to_proto(IvrTurnView("c-1", 2, [prompt], "KEY", 10))
    assert (waiting.turn, waiting.awaiting, waiting.timeout_seconds) == (2, intake_pb2.IVR_AWAITING_KEY, 10)
    assert waiting.prompts[0].params["number"] == "83001234" and not waiting.ended
    ended = ivr_edge.turn_to_proto(
        IvrTurnView("c-1", 9, [], "NONE", ended=True, end_reason="AGENT_REQUESTED", transfer_to_agent=True)
    )
    assert (ended.awaiting, ended.end_reason) == (
        intake_pb2.IVR_AWAITING_NONE,
        intake_pb2.IVR_END_REASON_AGENT_REQUESTED,
    )


def test_requests_are_checked_field_by_field() -> None:
    with pytest.raises(InvalidArgument) as start:
        ivr_edge.call_input(intake_pb2.StartIvrCallRequest(call_id="has space", caller_number="abc"))
    assert fields(start) == ["call_id", "caller_number"]
    with pytest.raises(InvalidArgument) as both:
        ivr_edge.ivr_input(intake_pb2.SendIvrInputRequest(call_id="c-1", turn=1, input="1", no_input=True))
    assert fields(both) == ["input"]
    with pytest.raises(InvalidArgument) as neither:
        ivr_edge.ivr_input(intake_pb2.SendIvrInputRequest(call_id="", turn=0))
    assert fields(neither) == ["call_id", "turn", "input"]
    assert ivr_edge.ivr_input(
        intake_pb2.SendIvrInputRequest(call_id="c-1", turn=3, no_input=True)
    ) == IvrInput(3, "", no_input=True)
    assert ivr_edge.call_input(intake_pb2.StartIvrCallRequest(call_id="sw:1.2_3-4")).caller_number == ""


def test_an_input_retried_as_written_differently_is_the_same_update() -> None:
    assert update_id(IvrInput(2, "1")) == update_id(IvrInput(2, " 1# "))
    assert update_id(IvrInput(2, "1")) != update_id(IvrInput(2, "2")) != update_id(IvrInput(2, no_input=True))
    assert update_id(IvrInput(2, "1")) != update_id(IvrInput(3, "1"))
