"""What a caller is told when a servicer meets an error nobody raised on purpose."""

from __future__ import annotations

import asyncpg
import grpc
from google.rpc import error_details_pb2, status_pb2
from temporalio.service import RPCError, RPCStatusCode

from desk.errors import Overloaded
from desk.grpc_edge import rich_status, unexpected_error


def _answer(error: Exception) -> tuple[grpc.StatusCode, str, status_pb2.Status]:
    code, message, trailers = rich_status(unexpected_error(error, "/helpdesk.v1.IntakeService/CreateTicket"))
    return code, message, status_pb2.Status.FromString(dict(trailers)["grpc-status-details-bin"])


def _retry_seconds(status: status_pb2.Status) -> float | None:
    hint = error_details_pb2.RetryInfo()
    for detail in status.details:
        if detail.Unpack(hint):
            return float(hint.retry_delay.ToTimedelta().total_seconds())
    return None


def test_an_unreachable_backing_server_is_unavailable_with_a_retry_hint_and_no_class_name() -> None:
    for error, server in [
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 15432)"), "backing services"),
        (asyncpg.InterfaceError("connection is closed"), "database"),
        (RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""), "workflow engine"),
    ]:
        code, message, status = _answer(error)
        assert code == grpc.StatusCode.UNAVAILABLE
        assert message == f"the desk cannot reach its {server} now; retry shortly"
        assert _retry_seconds(status) == 1.0


def test_data_the_database_refuses_is_the_callers_to_change() -> None:
    refused = asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence")
    code, message, _ = _answer(refused)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be stored" in message and "Untranslatable" not in message


def test_a_defect_is_internal_and_tells_nothing_of_the_code() -> None:
    code, message, status = _answer(KeyError("secret internals"))
    assert code == grpc.StatusCode.INTERNAL
    assert "KeyError" not in message and "secret" not in message
    assert _retry_seconds(status) is None


def test_overload_is_resource_exhausted_with_its_retry_delay() -> None:
    code, _, trailers = rich_status(Overloaded("5000 accepted reports are waiting", retry_after=5.0))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _retry_seconds(status_pb2.Status.FromString(dict(trailers)["grpc-status-details-bin"])) == 5.0
