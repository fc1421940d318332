"""The edge's bounds on counts, times, durations and enum numbers, and its table of string lengths."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from desk.errors import InvalidArgument
from desk.request_bounds import check_bounds, desk_text_limits, max_chars_of
from desk.text_rules import check_text
from helpdesk.v1 import dispatch_pb2, intake_pb2


def _refused(request: Message) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        check_bounds(request)
    return {v.field: v.description for v in caught.value.violations}


def test_a_time_outside_2000_to_2100_is_refused_by_name() -> None:
    request = intake_pb2.ListTicketsRequest()
    request.created_after.seconds = 253_402_214_400  # year 9999
    request.created_before.seconds = 1_767_225_600  # 2026: fine
    assert list(_refused(request)) == ["created_after"]


def test_a_negative_duration_is_refused_by_its_path() -> None:
    request = dispatch_pb2.SetSlaPolicyRequest()
    request.policy.response_target.seconds = -5
    assert list(_refused(request)) == ["policy.response_target"]


def test_an_enum_number_outside_its_enum_is_refused() -> None:
    refused = _refused(intake_pb2.ListTicketsRequest(status=99))  # type: ignore[arg-type]
    assert "99" in refused["status"]


def test_a_list_over_its_limit_is_refused_and_one_within_it_taken() -> None:
    check_bounds(intake_pb2.DeclareOutageRequest(exchanges=["EX1"] * 1_000))
    refused = _refused(intake_pb2.DeclareOutageRequest(exchanges=["EX1"] * 10_000))
    assert refused == {"exchanges": "has 10000 elements; at most 1000 are allowed"}


def test_ids_names_titles_and_free_text_have_their_own_lengths() -> None:
    assert (max_chars_of("ticket_id"), max_chars_of("request_id"), max_chars_of("dispatched_by")) == (
        64,
        64,
        64,
    )
    assert (max_chars_of("name"), max_chars_of("summary"), max_chars_of("description")) == (100, 200, 10_000)


def test_the_edge_refuses_a_long_id_but_takes_long_free_text() -> None:
    limits = desk_text_limits()
    with pytest.raises(InvalidArgument) as caught:
        check_text(intake_pb2.AddSupplementRequest(ticket_id="T" * 65, text="x" * 10_000), limits)
    assert [v.field for v in caught.value.violations] == ["ticket_id"]


def test_one_line_fields_refuse_a_newline_and_free_text_keeps_it() -> None:
    limits = desk_text_limits()
    check_text(intake_pb2.AddSupplementRequest(ticket_id="TK1", text="line one\nline two\tend"), limits)
    with pytest.raises(InvalidArgument) as caught:
        check_text(intake_pb2.AddSupplementRequest(ticket_id="TK1\n", text="fine"), limits)
    assert [v.field for v in caught.value.violations] == ["ticket_id"]
