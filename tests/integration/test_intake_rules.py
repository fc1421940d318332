"""CreateTicket's promises: bad input names its fields and changes nothing; request ids make it idempotent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import timestamp_pb2

from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, bad_fields, report
from tests.stack import RunningDesk


def _past() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) - timedelta(hours=1))
    return ts


BAD_REPORTS: dict[str, tuple[dict[str, Any], str]] = {
    "missing phone": ({"reporter": common_pb2.Reporter(name="Li Lei")}, "reporter.phone"),
    "malformed phone": (
        {"reporter": common_pb2.Reporter(name="Li Lei", phone="call me maybe")},
        "reporter.phone",
    ),
    "too few digits": ({"reporter": common_pb2.Reporter(name="Li Lei", phone="12345")}, "reporter.phone"),
    "unknown enum value": ({"channel": 99}, "channel"),
    "unknown priority": ({"priority": 42}, "priority"),
    "100 KB description": ({"description": "x" * 100_000}, "description"),
    "empty summary": ({"summary": "   "}, "summary"),
    "expected_by in the past": ({"expected_by": _past()}, "expected_by"),
    "missing request id": ({"request_id": ""}, "request_id"),
}


async def _count(desk: RunningDesk, request_id: str) -> tuple[int, int]:
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        requests = await conn.fetchval(
            "SELECT count(*) FROM intake.requests WHERE request_id = $1", request_id
        )
        tickets = await conn.fetchval("SELECT count(*) FROM intake.tickets WHERE request_id = $1", request_id)
        return int(requests), int(tickets)
    finally:
        await conn.close()


@pytest.mark.parametrize("case", BAD_REPORTS)
async def test_bad_input_names_the_field_and_creates_nothing(desk: RunningDesk, case: str) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    overrides, field = BAD_REPORTS[case]
    request = report(**overrides)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in bad_fields(caught.value)
    if request.request_id:
        assert await _count(desk, request.request_id) == (0, 0)
        # The request id was not consumed: the corrected report goes through under the same id.
        fixed = report(request_id=request.request_id)
        created = await intake.CreateTicket(fixed, metadata=auth(desk.token("agent")))
        assert created.ticket.ticket_id


async def test_every_bad_field_is_named_at_once(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(
            report(summary="", category="NOT A CATEGORY"), metadata=auth(desk.token("agent"))
        )
    assert {"summary", "category"} <= set(bad_fields(caught.value))
    # An enum number outside its enum is the edge's (desk/request_bounds.py): refused before the
    # service's own rules run, by name.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(
            report(summary="", kind=77, category="NOT A CATEGORY"), metadata=auth(desk.token("agent"))
        )
    assert "kind" in bad_fields(caught.value)


async def test_same_request_id_twice_gives_one_ticket(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    request = report()
    first = await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    second = await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    assert first.ticket.ticket_id == second.ticket.ticket_id
    assert await _count(desk, request.request_id) == (1, 1)


async def test_twenty_concurrent_retries_give_one_ticket(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    request = report()
    answers = await asyncio.gather(
        *(intake.CreateTicket(request, metadata=auth(desk.token("integrator"))) for _ in range(20))
    )
    assert len({a.ticket.ticket_id for a in answers}) == 1
    assert await _count(desk, request.request_id) == (1, 1)
    [ticket] = {a.ticket.ticket_id for a in answers}
    seen = await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket), metadata=auth(desk.token("agent"))
    )
    assert [e.type for e in seen.timeline].count("ticket.created") == 1


async def test_a_reused_request_id_with_another_report_is_refused(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    request = report()
    await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(
            report(request_id=request.request_id, summary="another fault"), metadata=auth(desk.token("agent"))
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(caught.value) == ["request_id"]


async def test_list_tickets_pages_through_with_filters(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    made = {
        (await intake.CreateTicket(report(category="machine-room"), metadata=agent)).ticket.ticket_id
        for _ in range(5)
    }
    seen: list[str] = []
    token = ""
    while True:
        page = await intake.ListTickets(
            intake_pb2.ListTicketsRequest(team_id="machine-room", page_size=2, page_token=token),
            metadata=agent,
        )
        assert len(page.tickets) <= 2
        seen += [t.ticket_id for t in page.tickets]
        token = page.next_page_token
        if not token:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.ListTickets(intake_pb2.ListTicketsRequest(page_token="garbage"), metadata=agent)
    assert bad_fields(caught.value) == ["page_token"]


async def test_a_retry_after_expected_by_has_passed_still_finds_its_ticket(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    soon = timestamp_pb2.Timestamp()
    soon.FromDatetime(datetime.now(UTC) + timedelta(seconds=2))
    request = report(expected_by=soon)
    first = await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    await asyncio.sleep(2.5)
    again = await intake.CreateTicket(request, metadata=auth(desk.token("agent")))
    assert again.ticket.ticket_id == first.ticket.ticket_id
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # a new report with that time is still refused
        await intake.CreateTicket(report(expected_by=soon), metadata=auth(desk.token("agent")))
    assert bad_fields(caught.value) == ["expected_by"]
