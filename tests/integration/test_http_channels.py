"""The HTTP channels on the real desk: web form, e-mail and IM webhooks reach the same CreateTicket.

Bodies are built from desk_client.report() through protobuf's JSON mapping, so the web form is posted
exactly what a gRPC caller would send (its `channel` is ignored: the form's channel is always WEB).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from helpdesk.v1 import common_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, bad_fields, recorded, report
from tests.stack import RunningDesk


@pytest.fixture
async def http(desk: RunningDesk) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as client:
        yield client


def bearer(desk: RunningDesk, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {desk.token(role)}"}


def web_form(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = json_format.MessageToDict(report(**overrides), preserving_proto_field_name=True)
    return body


def http_bad_fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    return [
        violation["field"]
        for detail in error["details"]
        if detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
        for violation in detail["field_violations"]
    ]


async def grpc_ticket(desk: RunningDesk, ticket_id: str) -> common_pb2.Ticket:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    return await recorded(intake, ticket_id, auth(desk.token("agent")))


async def test_the_web_form_creates_a_web_ticket_that_grpc_reads(
    desk: RunningDesk, http: httpx.AsyncClient
) -> None:
    created = await http.post(
        "/v1/tickets", json=web_form(wait_for_routing=False), headers=bearer(desk, "agent")
    )
    assert created.status_code == 201, created.text
    answer = created.json()
    ticket_id = answer["ticket"]["ticket_id"]
    assert answer["outcome"] == "CREATE_OUTCOME_CREATED"
    assert answer["ticket"]["channel"] == "CHANNEL_WEB"
    assert answer["ticket"]["status"] == "TICKET_STATUS_OPEN"  # answered on acceptance
    assert created.headers["Location"] == f"/v1/tickets/{ticket_id}"

    seen = await grpc_ticket(desk, ticket_id)
    assert seen.channel == common_pb2.CHANNEL_WEB
    assert seen.summary == answer["ticket"]["summary"] == "No dial tone on the office line"
    read = await http.get(f"/v1/tickets/{ticket_id}", headers=bearer(desk, "agent"))
    assert read.status_code == 200
    assert read.json()["ticket_id"] == ticket_id
    assert read.json()["status"] == common_pb2.TicketStatus.Name(seen.status)


async def test_a_web_form_may_wait_for_the_routing(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    body = web_form(category="network", wait_for_routing=True)
    created = await http.post("/v1/tickets", json=body, headers=bearer(desk, "agent"))
    assert created.status_code == 201, created.text
    ticket = created.json()["ticket"]
    assert ticket["status"] == "TICKET_STATUS_DISPATCHED"
    assert [w["team_id"] for w in ticket["work_orders"]] == ["network"]


async def test_the_same_idempotency_key_twice_gives_one_ticket(
    desk: RunningDesk, http: httpx.AsyncClient
) -> None:
    body = web_form(request_id="")
    headers = {**bearer(desk, "agent"), "Idempotency-Key": f"web-{uuid.uuid4()}"}
    first = await http.post("/v1/tickets", json=body, headers=headers)
    again = await http.post("/v1/tickets", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["ticket"]["ticket_id"] == first.json()["ticket"]["ticket_id"]

    changed = await http.post("/v1/tickets", json={**body, "summary": "Another fault"}, headers=headers)
    assert http_bad_fields(changed) == ["request_id"]


async def test_a_form_encoded_post_creates_a_ticket(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    form = {
        "request_id": f"form-{uuid.uuid4()}",
        "kind": "FAULT",
        "reporter.name": "Han Meimei",
        "reporter.phone": "13912345678",
        "category": "network",
        "priority": "",  # a blank select: not given, so intake's default P3
        "summary": "Internet down at the branch office",
    }
    created = await http.post("/v1/tickets", data=form, headers=bearer(desk, "agent"))
    assert created.status_code == 201, created.text
    ticket = created.json()["ticket"]
    assert ticket["channel"] == "CHANNEL_WEB"
    assert ticket["reporter"]["name"] == "Han Meimei"
    assert ticket["priority"] == "PRIORITY_P3"


BAD_REPORTS = {
    "missing phone": {"reporter": common_pb2.Reporter(name="Li Lei")},
    "100 KB description": {"description": "x" * 100_000},
    "empty summary": {"summary": ""},
    "a NUL in the description": {"description": "line\x00down"},
}


@pytest.mark.parametrize("overrides", BAD_REPORTS.values(), ids=BAD_REPORTS.keys())
async def test_bad_input_is_a_400_naming_the_fields_grpc_names(
    desk: RunningDesk, http: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(report(**overrides), metadata=auth(desk.token("agent")))
    answer = await http.post("/v1/tickets", json=web_form(**overrides), headers=bearer(desk, "agent"))
    # The gateway bounds each field itself (services/http/models.py) and refuses before forwarding, so
    # gRPC's request-wide total ("request": over 100,000 characters) never arises behind it.
    assert http_bad_fields(answer) == [f for f in bad_fields(caught.value) if f != "request"]
    assert bad_fields(caught.value)  # the case is bad at all


async def test_no_token_is_401_and_a_wrong_role_403(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    missing = await http.post("/v1/tickets", json=web_form())
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = await http.post("/v1/tickets", json=web_form(), headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["status"] == "UNAUTHENTICATED"
    denied = await http.post("/v1/tickets", json=web_form(), headers=bearer(desk, "statistician"))
    assert denied.status_code == 403
    assert denied.json()["error"]["status"] == "PERMISSION_DENIED"


async def test_an_unknown_ticket_is_404(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    answer = await http.get("/v1/tickets/TK19990101999999", headers=bearer(desk, "agent"))
    assert answer.status_code == 404
    assert answer.json()["error"]["status"] == "NOT_FOUND"


async def test_an_email_delivered_twice_makes_one_email_ticket(
    desk: RunningDesk, http: httpx.AsyncClient
) -> None:
    mail = {
        "message_id": f"<{uuid.uuid4()}@mail.example.com>",
        "from": "lilei@example.com",
        "from_name": "Li Lei",
        "subject": "Mail server rejects logins",
        "text": "Since 9:00 nobody in finance can log in to the mail server.",
        "phone": "13812346138",
    }
    first = await http.post("/v1/channels/email", json=mail, headers=bearer(desk, "integrator"))
    again = await http.post("/v1/channels/email", json=mail, headers=bearer(desk, "integrator"))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    ticket_id = first.json()["ticket"]["ticket_id"]
    assert again.json()["ticket"]["ticket_id"] == ticket_id

    seen = await grpc_ticket(desk, ticket_id)
    assert seen.channel == common_pb2.CHANNEL_EMAIL
    assert (seen.reporter.email, seen.reporter.name) == ("lilei@example.com", "Li Lei")
    assert seen.summary == "Mail server rejects logins"
    assert seen.description.startswith("Since 9:00")
    assert seen.category == "software"  # the desk's channel category: the mail named none


async def test_an_im_message_makes_an_im_ticket(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    chat = {
        "message_id": str(uuid.uuid4()),
        "conversation_id": "conv-42",
        "sender_id": "wx-lilei",
        "sender_name": "Li Lei",
        "phone": "13812346138",
        "text": "The office line has no dial tone\nsince this morning",
        "category": "network",
    }
    created = await http.post("/v1/channels/im", json=chat, headers=bearer(desk, "integrator"))
    assert created.status_code == 201, created.text
    seen = await grpc_ticket(desk, created.json()["ticket"]["ticket_id"])
    assert seen.channel == common_pb2.CHANNEL_IM
    assert seen.summary == "The office line has no dial tone"
    assert "conversation conv-42" in seen.description
    assert seen.assigned_team_id == "network"


async def test_openapi_lists_the_routes_and_the_bearer_scheme(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    assert {"/v1/tickets", "/v1/tickets/{ticket_id}", "/v1/channels/email", "/v1/channels/im"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "WebTicket" in document["components"]["schemas"]
    assert (await http.get("/docs")).status_code == 200
