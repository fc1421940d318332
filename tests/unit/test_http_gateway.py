"""The HTTP gateway without a desk: status mapping, body reading, request ids (intake is a fake stub)."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from desk.errors import Overloaded
from desk.grpc_edge import rich_status
from helpdesk.v1 import common_pb2, intake_pb2
from services.http.app import Channels, build_app
from services.http.errors import from_rpc_error
from services.http.models import InboundEmail


def _rpc_error(code: grpc.StatusCode, *violations: str) -> grpc.aio.AioRpcError:
    status = status_pb2.Status(code=code.value[0], message="bad")
    if violations:
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description="is required")
                    for f in violations
                ]
            )
        )
        status.details.append(detail)
    trailers = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailers, details="bad")


@pytest.mark.parametrize(
    ("code", "http_status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.INTERNAL, 500),
    ],
)
def test_grpc_status_maps_to_http(code: grpc.StatusCode, http_status: int) -> None:
    error = from_rpc_error(_rpc_error(code))
    assert (error.http_status, error.status) == (http_status, code.name)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        assert error.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_request_keeps_each_field_violation() -> None:
    error = from_rpc_error(_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "reporter.phone", "summary"))
    [detail] = error.details
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert [v["field"] for v in detail["field_violations"]] == ["reporter.phone", "summary"]


def test_a_retry_hint_of_the_desk_becomes_whole_seconds_of_retry_after() -> None:
    status = rich_status(Overloaded("5000 accepted reports are waiting", retry_after=2.5))
    trailers = grpc.aio.Metadata(*status.trailing_metadata)
    refused = grpc.aio.AioRpcError(status.code, grpc.aio.Metadata(), trailers, details=status.details)
    error = from_rpc_error(refused)
    assert (error.http_status, error.headers["Retry-After"]) == (429, "3")


def test_an_emails_request_id_is_its_message_id_with_or_without_brackets() -> None:
    body = {"from": "a@example.com", "subject": "s"}
    one = InboundEmail.model_validate({**body, "message_id": "<m1@example.com>"})
    same = InboundEmail.model_validate({**body, "message_id": " m1@example.com "})
    request = one.to_request(default_category="software")
    assert request.request_id == same.to_request(default_category="software").request_id
    assert request.request_id.startswith("email:")
    assert (request.channel, request.category) == (common_pb2.CHANNEL_EMAIL, "software")


class FakeIntake:
    """IntakeServiceStub's CreateTicket: records the request, answers a ticket created now."""

    def __init__(self) -> None:
        self.requests: list[intake_pb2.CreateTicketRequest] = []

    async def CreateTicket(self, request: intake_pb2.CreateTicketRequest, **_: Any) -> Any:
        self.requests.append(request)
        ticket = common_pb2.Ticket(ticket_id="TK1", channel=request.channel)
        ticket.created_at.GetCurrentTime()
        return intake_pb2.CreateTicketResponse(ticket=ticket, outcome=intake_pb2.CREATE_OUTCOME_CREATED)


async def test_a_form_becomes_the_same_request_as_json() -> None:
    intake = FakeIntake()
    app = build_app(Channels(intake, None, channel_category="software"))
    token = {"Authorization": "Bearer t", "Idempotency-Key": "k-1"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        as_json = {"kind": "FAULT", "reporter": {"name": "Li", "phone": "13812346138"}, "summary": "s"}
        form = {"kind": "FAULT", "reporter.name": "Li", "reporter.phone": "13812346138", "summary": "s"}
        answers = [
            await client.post("/v1/tickets", json=as_json, headers=token),
            await client.post("/v1/tickets", data={**form, "priority": ""}, headers=token),
            await client.post("/v1/tickets", content=b"x", headers={**token, "Content-Type": "text/plain"}),
            await client.post("/v1/tickets", json=as_json),
        ]
    assert [a.status_code for a in answers] == [201, 201, 415, 401]
    assert intake.requests[0] == intake.requests[1]
    assert intake.requests[0].channel == common_pb2.CHANNEL_WEB
