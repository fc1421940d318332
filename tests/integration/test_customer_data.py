"""Customer data on a need-to-know basis: every development token against every answer carrying a ticket.

The role-by-field matrix of docs/security.md, read on the real stack: GetTicket, ListTickets,
the surveyors' callback queue, the integrator's own CreateTicket answer and the HTTP gateway's
GET /v1/tickets/{id}. A token in endpoints.json without a row here fails the test: a new role is
answered customer data only once someone decides what it needs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2

from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import Metadata, auth, recorded, report
from tests.stack import RunningDesk

FIELDS = ("name", "organization", "phone", "email", "address", "fault_number", "number_in_text")
CLEAR, MASKED, ABSENT = "clear", "masked", "absent"

_ALL = dict.fromkeys(FIELDS, CLEAR)
_RECOGNISE = {
    "name": MASKED,
    "organization": CLEAR,
    "phone": MASKED,
    "email": MASKED,
    "address": ABSENT,
    "fault_number": MASKED,
    "number_in_text": MASKED,
}
_NONE = {**dict.fromkeys(FIELDS, ABSENT), "number_in_text": MASKED}

# The ticket is software's: the software engineer reads it, every other team's engineer is refused.
EXPECTED = {
    "agent": _ALL,
    "senior_agent": _ALL,
    "manager": _ALL,
    "admin": _ALL,
    "surveyor": _ALL,
    "ops_engineer:software": {**_ALL, "email": MASKED},
    "integrator": _RECOGNISE,
    "qa_inspector": _RECOGNISE,
    "statistician": _NONE,
    "knowledge_manager": _NONE,
}
CALLBACK_QUEUE_READERS = {"agent", "senior_agent", "manager", "admin", "surveyor"}


def _digits(n: int) -> str:
    return str(uuid.uuid4().int)[:n]


def _customer() -> dict[str, Any]:
    return {
        "reporter": common_pb2.Reporter(
            name="张三丰",
            organization="ACME",
            phone="138" + _digits(8),
            email="zhang.san@example.com",
            address="1 Wudang Road",
        ),
        "fault_number": "021" + _digits(8),
        "description": f"Call back on 139{_digits(8)} after six.",
        "category": "software",
    }


def _judge(shown: str, recorded_value: str) -> str:
    if shown == recorded_value:
        return CLEAR
    return ABSENT if not shown else MASKED


def exposure(seen: common_pb2.Ticket, original: intake_pb2.CreateTicketRequest) -> dict[str, str]:
    """What the reader was answered of each field: clear, masked (never the value) or absent."""
    r, o = seen.reporter, original.reporter
    number = original.description.split()[3]
    judged = {
        "name": _judge(r.name, o.name),
        "organization": _judge(r.organization, o.organization),
        "phone": _judge(r.phone, o.phone),
        "email": _judge(r.email, o.email),
        "address": _judge(r.address, o.address),
        "fault_number": _judge(seen.fault_number, original.fault_number),
        "number_in_text": CLEAR if number in seen.description else MASKED,
    }
    _assert_masks_hide(seen, original)
    return judged


def _assert_masks_hide(seen: common_pb2.Ticket, original: intake_pb2.CreateTicketRequest) -> None:
    """A masked value shows the agreed shape: 138****1234, 张*, z***@example.com."""
    phone, fault = seen.reporter.phone, seen.fault_number
    if phone and phone != original.reporter.phone:
        assert phone == original.reporter.phone[:3] + "****" + original.reporter.phone[-4:]
    if fault and fault != original.fault_number:
        assert fault == original.fault_number[:3] + "****" + original.fault_number[-4:]
    if seen.reporter.name and seen.reporter.name != original.reporter.name:
        assert seen.reporter.name == "张*"
    if seen.reporter.email and seen.reporter.email != original.reporter.email:
        assert seen.reporter.email == "z***@example.com"


@pytest.fixture
async def http(desk: RunningDesk) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as client:
        yield client


async def _resolved_ticket(desk: RunningDesk, request: intake_pb2.CreateTicketRequest) -> str:
    """A software ticket resolved by its engineer: in the surveyors' callback queue."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ticket = (await intake.CreateTicket(request, metadata=auth(desk.token("agent")))).ticket
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=ticket.work_orders[0].work_order_id, cause="bug", action="patched", engineer="Qian"
        ),
        metadata=auth(desk.token("ops_engineer:software")),
    )
    await recorded(intake, ticket.ticket_id, auth(desk.token("agent")))
    ticket_id: str = ticket.ticket_id
    return ticket_id


async def _listed(
    intake: intake_pb2_grpc.IntakeServiceStub, ticket_id: str, since: datetime, metadata: Metadata
) -> common_pb2.Ticket | None:
    after = timestamp_pb2.Timestamp()
    after.FromDatetime(since)
    token = ""
    while True:
        page = await intake.ListTickets(
            intake_pb2.ListTicketsRequest(created_after=after, page_size=50, page_token=token),
            metadata=metadata,
        )
        found = next((t for t in page.tickets if t.ticket_id == ticket_id), None)
        if found is not None or not page.next_page_token:
            return found
        token = page.next_page_token


async def _queued(
    survey: survey_pb2_grpc.SurveyServiceStub, ticket_id: str, metadata: Metadata
) -> common_pb2.Ticket | None:
    token = ""
    while True:
        page = await survey.ListPendingCallbacks(
            survey_pb2.ListPendingCallbacksRequest(page_size=50, page_token=token), metadata=metadata
        )
        found = next((t for t in page.tickets if t.ticket_id == ticket_id), None)
        if found is not None or not page.next_page_token:
            return found
        token = page.next_page_token


async def test_every_role_is_answered_the_customer_data_it_needs(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    since = datetime.now(UTC) - timedelta(seconds=5)
    request = report(**_customer())
    ticket_id = await _resolved_ticket(desk, request)

    roles = set(desk.endpoints["tokens"])
    other_teams = {r for r in roles if r.startswith("ops_engineer:") and r != "ops_engineer:software"}
    no_tickets = {"sre"}  # the desk's operators: traces and metrics, no ticket RPC
    assert roles - other_teams - no_tickets == set(EXPECTED), (
        "every development token needs a row in EXPECTED"
    )

    for role, expected in EXPECTED.items():
        metadata = auth(desk.token(role))
        got = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=metadata)
        assert exposure(got, request) == expected, f"GetTicket as {role}"
        assert got.timeline, "the timeline is answered to every reader"
        listed = await _listed(intake, ticket_id, since, metadata)
        assert listed is not None, f"ListTickets as {role}"
        assert exposure(listed, request) == expected, f"ListTickets as {role}"
        if role in CALLBACK_QUEUE_READERS:
            queued = await _queued(survey, ticket_id, metadata)
            assert queued is not None and exposure(queued, request) == expected, f"callbacks as {role}"

    for role in other_teams | no_tickets:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await intake.GetTicket(
                intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=auth(desk.token(role))
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        if role in no_tickets:  # not even a list
            with pytest.raises(grpc.aio.AioRpcError) as unlisted:
                await _listed(intake, ticket_id, since, auth(desk.token(role)))
            assert unlisted.value.code() == grpc.StatusCode.PERMISSION_DENIED
        else:  # another team's engineer: a list without this ticket
            assert await _listed(intake, ticket_id, since, auth(desk.token(role))) is None


async def test_the_gateway_answers_the_same_by_token(desk: RunningDesk, http: httpx.AsyncClient) -> None:
    request = report(**_customer())
    ticket_id = await _resolved_ticket(desk, request)
    for role in ("agent", "integrator", "statistician"):
        answer = await http.get(
            f"/v1/tickets/{ticket_id}", headers={"Authorization": f"Bearer {desk.token(role)}"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen = common_pb2.Ticket(
            ticket_id=body["ticket_id"],
            reporter=common_pb2.Reporter(**body["reporter"]),
            fault_number=body["fault_number"],
            description=body["description"],
        )
        assert exposure(seen, request) == EXPECTED[role], f"GET /v1/tickets as {role}"
        assert request.reporter.phone not in answer.text or EXPECTED[role]["phone"] == CLEAR


async def test_an_integrator_is_not_handed_back_the_contact_it_submitted(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    request = report(**_customer(), wait_for_routing=False)
    created = await intake.CreateTicket(request, metadata=auth(desk.token("integrator")))
    assert exposure(created.ticket, request) == EXPECTED["integrator"]
