"""gRPC status → HTTP answer, so an HTTP caller learns exactly what a gRPC caller would.

The body is google.rpc.Status in its JSON shape over HTTP (Google AIP-193):
``{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "…", "details": [{"@type":
"type.googleapis.com/google.rpc.BadRequest", "field_violations": [{"field": "reporter.phone",
"description": "is required"}]}]}}``. The details are the gRPC status's own (read with grpcio-status:
desk/rich_errors.py), so a 400 names the very fields the gRPC BadRequest names. The gateway's own
refusals (no token, an unreadable body) use the same shape.

FAILED_PRECONDITION becomes 409 Conflict: the request is valid but clashes with the ticket's current
state. 412 is left to HTTP's own preconditions (If-Match), which the gateway does not use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2
from starlette.responses import JSONResponse

from desk.rich_errors import retry_delay, status_details

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
"""Anything else (INTERNAL, UNKNOWN, DATA_LOSS, CANCELLED) is a 500."""

_BEARER = 'Bearer realm="helpdesk"'


class HttpError(Exception):
    """An answer other than success; raised by the routes, rendered by :func:`render`."""

    def __init__(
        self,
        http_status: int,
        status: str,
        message: str,
        *,
        details: Sequence[dict[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = {"code": self.http_status, "status": self.status, "message": self.message}
        return JSONResponse({"error": {**body, "details": self.details}}, self.http_status, self.headers)


def from_rpc_error(error: grpc.aio.AioRpcError) -> HttpError:
    code: grpc.StatusCode = error.code()
    http_status = HTTP_STATUS.get(code, 500)
    headers = {}
    if code == grpc.StatusCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = f'{_BEARER}, error="invalid_token"'
    elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
        headers["Retry-After"] = str(_retry_after(error))
    return HttpError(
        http_status, code.name, error.details() or code.name, details=_details(error), headers=headers
    )


def _details(error: grpc.aio.AioRpcError) -> list[dict[str, Any]]:
    return [rendered for detail in status_details(error) if (rendered := _detail(detail))]


def _retry_after(error: grpc.aio.AioRpcError) -> int:
    """Whole seconds to wait: the status's google.rpc.RetryInfo, rounded up; 1 when it has none."""
    return max(1, math.ceil(retry_delay(error) or 1))


def _detail(detail: any_pb2.Any) -> dict[str, Any] | None:
    try:
        return json_format.MessageToDict(detail, preserving_proto_field_name=True)
    except (json_format.Error, TypeError):  # a detail type this gateway does not know: leave it out
        return None


def bad_request(violations: Iterable[tuple[str, str]], message: str = "") -> HttpError:
    """A 400 of the gateway's own, with a BadRequest shaped like intake's."""
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in violations
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad)
    text = message or "; ".join(f"{v.field}: {v.description}" for v in bad.field_violations)
    return HttpError(
        400,
        "INVALID_ARGUMENT",
        text,
        details=[json_format.MessageToDict(detail, preserving_proto_field_name=True)],
    )


def from_validation(errors: Sequence[Any]) -> HttpError:
    """Pydantic's or FastAPI's validation errors: each names its place in the body, or the header."""
    return bad_request(
        (_place(error.get("loc", ())), str(error.get("msg", "is invalid"))) for error in errors
    )


def _place(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "path", "query", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def unauthenticated(message: str) -> HttpError:
    return HttpError(401, "UNAUTHENTICATED", message, headers={"WWW-Authenticate": _BEARER})


def unsupported_media_type(content_type: str, accepted: Iterable[str]) -> HttpError:
    return HttpError(
        415, "INVALID_ARGUMENT", f"{content_type or 'no content type'}; send one of {', '.join(accepted)}"
    )


def too_large(limit: int) -> HttpError:
    return HttpError(413, "INVALID_ARGUMENT", f"the body is larger than {limit} bytes")


def length_required() -> HttpError:
    return HttpError(411, "INVALID_ARGUMENT", "a body needs a Content-Length header")


def from_http_status(http_status: int, message: str) -> HttpError:
    """Starlette's own answers (unknown route, wrong method) in the same shape."""
    status = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "UNIMPLEMENTED"}.get(http_status, "UNKNOWN")
    return HttpError(http_status, status, message)
