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
    app = build_app(Channels(intake, channel_category="software"))
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


class BrokenIntake:
    """A stub that fails as no stub should: the gateway's own failure, not a gRPC status."""

    async def GetTicket(self, request: intake_pb2.GetTicketRequest, **_: Any) -> Any:
        raise RuntimeError("secret detail of the failure")


def _gateway(intake: Any) -> httpx.AsyncClient:
    app = build_app(Channels(intake, channel_category="software"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gw")


def _error_of(answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers["content-type"] == "application/json", answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == answer.status_code
    return error


async def test_every_refusal_of_the_gateway_is_json() -> None:
    token = {"Authorization": "Bearer t", "Idempotency-Key": "k-1"}
    async with _gateway(BrokenIntake()) as client:
        failed = await client.get("/v1/tickets/TK1", headers=token)
        missing = await client.get("/v1/nowhere", headers=token)
        wrong_method = await client.delete("/v1/tickets/TK1", headers=token)
        malformed = await client.post(
            "/v1/tickets", content=b'{"summary": ', headers={**token, "Content-Type": "application/json"}
        )
        oversized = await client.post(
            "/v1/tickets", content=b"x" * 1_000_001, headers={**token, "Content-Type": "application/json"}
        )

        async def chunks() -> Any:
            for _ in range(20):
                yield b" " * 100_000

        chunked = await client.post(
            "/v1/tickets", content=chunks(), headers={**token, "Content-Type": "application/json"}
        )
    assert [a.status_code for a in (failed, missing, wrong_method, malformed, oversized, chunked)] == [
        500, 404, 405, 400, 413, 413,
    ]  # fmt: skip
    assert "secret" not in failed.text and _error_of(failed)["status"] == "INTERNAL"
    assert [_error_of(a)["status"] for a in (missing, oversized, chunked)] == ["NOT_FOUND"] + [
        "INVALID_ARGUMENT"
    ] * 2
    assert _error_of(wrong_method)
    assert [v["field"] for v in _error_of(malformed)["details"][0]["field_violations"]] == ["body"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"summary": "x" * 201}, "summary"),
        ({"reporter": {"name": "a\x00b"}}, "reporter.name"),
        ({"region": "one\ntwo"}, "region"),
        ({"description": "\x1b[31mred"}, "description"),
    ],
    ids=["long summary", "NUL in a name", "newline in one line", "ANSI escape"],
)
async def test_the_web_form_bounds_its_fields_as_the_grpc_edge_does(body: dict[str, Any], field: str) -> None:
    intake = FakeIntake()
    token = {"Authorization": "Bearer t", "Idempotency-Key": "k-1"}
    async with _gateway(intake) as client:
        answer = await client.post("/v1/tickets", json=body, headers=token)
    assert answer.status_code == 400
    assert [v["field"] for v in _error_of(answer)["details"][0]["field_violations"]] == [field]
    assert len(answer.text) < 2_000 and not intake.requests


async def test_a_webhooks_fields_are_named_as_sent_not_as_the_proto_fields_they_become() -> None:
    intake = FakeIntake()
    token = {"Authorization": "Bearer t"}
    async with _gateway(intake) as client:
        mail = {"message_id": "m1", "from": "a@example.com", "subject": "x" * 201, "from_name": "\x07"}
        chat = {"message_id": "m1", "conversation_id": "c" * 257, "sender_id": "s", "text": "t" * 9_700}
        answers = [
            await client.post("/v1/channels/email", json=mail, headers=token),
            await client.post("/v1/channels/im", json=chat, headers=token),
        ]
    named = [{v["field"] for v in _error_of(a)["details"][0]["field_violations"]} for a in answers]
    assert named == [{"subject", "from_name"}, {"conversation_id", "text"}]
    assert not intake.requests
