"""What a refused gRPC call says beyond its code, read the standard way (grpcio-status).

The desk's edge (desk/grpc_edge.py) answers a refusal with a ``google.rpc.Status``: a
``BadRequest`` naming each bad field, a ``RetryInfo`` saying when to try again. Callers (the command
line, the HTTP gateway, the tests) read it here with ``rpc_status.from_call``, which also checks that
the status matches the call's own code and message.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from desk.errors import FieldViolation


def status_details(error: grpc.RpcError) -> list[any_pb2.Any]:
    """The details of the call's google.rpc.Status; none when it sent no status, or one that is not
    its own (a code or message other than the call's)."""
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        return []
    return [] if status is None else list(status.details)


def field_violations(error: grpc.RpcError) -> list[FieldViolation]:
    """Each bad field the call's google.rpc.BadRequest names, in order."""
    violations = []
    for detail in status_details(error):
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
    return violations


def retry_delay(error: grpc.RpcError) -> float | None:
    """Seconds to wait before trying again, from the call's google.rpc.RetryInfo; None without one."""
    hint = error_details_pb2.RetryInfo()
    for detail in status_details(error):
        if detail.Unpack(hint):
            return float(hint.retry_delay.ToTimedelta().total_seconds())
    return None


def explain(error: grpc.RpcError) -> str:
    """One line for a person: the code, the message, and when to retry if the desk said."""
    text = f"{error.code().name}: {error.details()}"
    delay = retry_delay(error)
    return text if delay is None else f"{text} (retry in {delay:g} s)"
