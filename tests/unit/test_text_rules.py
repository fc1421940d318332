"""The edge's one rule set for text: what any string of any request may hold, and how a refusal names it."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from desk.errors import InvalidArgument
from desk.text_rules import TEXT_LIMITS, TextLimits, check_text
from helpdesk.v1 import common_pb2, dispatch_pb2, intake_pb2


def _refused(request: Message, limits: TextLimits = TEXT_LIMITS) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        check_text(request, limits)
    return {v.field: v.description for v in caught.value.violations}


def _resolution(note: str, *, cause: str = "corroded jumper") -> dispatch_pb2.ResolveWorkOrderRequest:
    return dispatch_pb2.ResolveWorkOrderRequest(
        work_order_id="TK20260101000001-W1",
        cause=cause,
        onsite=common_pb2.OnsiteReport(
            parts=[common_pb2.Part(name="jumper", quantity=1), common_pb2.Part(name="ONT", note=note)]
        ),
    )


def test_a_nul_deep_in_a_request_is_refused_by_its_path() -> None:
    assert _refused(_resolution("swapped\x00")) == {
        "onsite.parts[1].note": "contains the control character U+0000 at position 7;"
        " only newline, carriage return and tab are allowed"
    }


@pytest.mark.parametrize("control", ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"])
def test_every_other_control_character_is_refused_too(control: str) -> None:
    assert list(_refused(_resolution("ok", cause=f"fibre{control}cut"))) == ["cause"]


def test_newline_carriage_return_and_tab_are_text() -> None:
    check_text(_resolution("line one\r\nline two\tend", cause="cut\nby roadworks"))
    check_text(intake_pb2.AddSupplementRequest(ticket_id="TK1", text="第二条线路也断了 ☎"))


def test_every_bad_string_is_named_at_once_in_repeated_strings_too() -> None:
    outage = intake_pb2.DeclareOutageRequest(request_id="cut\x00", exchanges=["021", "0\x1b22"], cause="ok")
    assert set(_refused(outage)) == {"request_id", "exchanges[1]"}


def test_a_map_is_checked_by_key_and_by_value() -> None:
    prompt = intake_pb2.IvrPrompt(code="V1", params={"number": "021\x00", "bad\x00key": "x"})
    assert set(_refused(prompt)) == {'params["number"]', "params"}


def test_an_over_long_string_is_refused_and_one_at_the_limit_taken() -> None:
    check_text(intake_pb2.AddSupplementRequest(ticket_id="TK1", text="x" * 10_000))
    refused = _refused(intake_pb2.AddSupplementRequest(ticket_id="TK1", text="x" * 10_001))
    assert refused == {"text": "is 10001 characters long; at most 10000 are allowed"}


def test_a_field_limit_of_its_own_overrides_the_default_the_full_name_first() -> None:
    limits = TextLimits(
        max_chars={"note": 10, "helpdesk.v1.ChaseWorkOrderRequest.note": 20}, max_request_chars=1_000
    )
    chase = dispatch_pb2.ChaseWorkOrderRequest(work_order_id="W1", note="x" * 15)
    check_text(chase, limits)
    assert list(_refused(_resolution("x" * 15), limits)) == ["onsite.parts[1].note"]
    assert list(_refused(dispatch_pb2.ChaseWorkOrderRequest(note="x" * 21), limits)) == ["note"]


def test_a_request_carries_at_most_so_much_text_in_all() -> None:
    """Many strings each within its limit still cannot add up to an event over NATS's 1 MB."""
    outage = intake_pb2.DeclareOutageRequest(request_id="cut-1", regions=["x" * 10_000] * 11)
    assert _refused(outage) == {"request": "carries 110005 characters of text; at most 100000"}
