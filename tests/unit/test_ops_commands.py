"""`helpdesk ops watch`'s typed commands: a line as typed, newline and all, becomes one clean call."""

from __future__ import annotations

from cli.ops import parse_command
from helpdesk.v1 import dispatch_pb2


def test_a_typed_line_carries_no_newline_into_the_request() -> None:
    command = parse_command("accept WO-1 Wang Wu\n")
    assert command == (
        "AcceptWorkOrder",
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id="WO-1", engineer="Wang Wu"),
    )
    assert parse_command("return WO-1 not our exchange\r\n") == (
        "ReturnWorkOrder",
        dispatch_pb2.ReturnWorkOrderRequest(work_order_id="WO-1", reason="not our exchange"),
    )
