"""What a caller is told when a servicer meets an error nobody raised on purpose."""

from __future__ import annotations

import asyncpg
import grpc
from temporalio.service import RPCError, RPCStatusCode

from desk.errors import DeskError, FieldViolation, InvalidArgument, Overloaded
from desk.grpc_edge import rich_status, unexpected_error
from desk.rich_errors import explain, field_violations, retry_delay


def _received(error: DeskError) -> grpc.aio.AioRpcError:
    """The error as a client receives it once the edge has aborted the call with its status."""
    status = rich_status(error)
    trailers = grpc.aio.Metadata(*status.trailing_metadata)
    return grpc.aio.AioRpcError(status.code, grpc.aio.Metadata(), trailers, details=status.details)


def _answer(error: Exception) -> tuple[grpc.StatusCode, str, grpc.aio.AioRpcError]:
    received = _received(unexpected_error(error, "/helpdesk.v1.IntakeService/CreateTicket"))
    return received.code(), received.details(), received


def test_an_unreachable_backing_server_is_unavailable_with_a_retry_hint_and_no_class_name() -> None:
    for error, server in [
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 15432)"), "backing services"),
        (asyncpg.InterfaceError("connection is closed"), "database"),
        (RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""), "workflow engine"),
    ]:
        code, message, received = _answer(error)
        assert code == grpc.StatusCode.UNAVAILABLE
        assert message == f"the desk cannot reach its {server} now; retry shortly"
        assert retry_delay(received) == 1.0


def test_data_the_database_refuses_is_the_callers_to_change() -> None:
    refused = asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence")
    code, message, _ = _answer(refused)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be stored" in message and "Untranslatable" not in message


def test_a_defect_is_internal_and_tells_nothing_of_the_code() -> None:
    code, message, received = _answer(KeyError("secret internals"))
    assert code == grpc.StatusCode.INTERNAL
    assert "KeyError" not in message and "secret" not in message
    assert retry_delay(received) is None


def test_overload_is_resource_exhausted_with_its_retry_delay() -> None:
    received = _received(Overloaded("5000 accepted reports are waiting", retry_after=5.0))
    assert received.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert retry_delay(received) == 5.0
    assert explain(received) == "RESOURCE_EXHAUSTED: 5000 accepted reports are waiting (retry in 5 s)"


def test_each_bad_field_reaches_the_client_in_order() -> None:
    violations = [FieldViolation("reporter.phone", "is required"), FieldViolation("summary", "too long")]
    received = _received(InvalidArgument(violations))
    assert received.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(received) == violations


def test_a_status_that_is_not_the_calls_own_is_not_read() -> None:
    """grpcio-status checks the trailer against the call: a stale or foreign one names no fields."""
    status = rich_status(InvalidArgument.one("summary", "is required"))
    trailers = grpc.aio.Metadata(*status.trailing_metadata)
    other = grpc.aio.AioRpcError(grpc.StatusCode.INTERNAL, grpc.aio.Metadata(), trailers, details="boom")
    assert field_violations(other) == []
