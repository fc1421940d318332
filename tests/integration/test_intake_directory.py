"""Intake's directory on the real desk: exchanges (局向), the owner check (机主资料), VIP (大用户), imports.

The desk is shared by the whole session, so every test registers numbers of its own (random, in
exchanges no other test uses) and never the numbers other tests report.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest

from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc
from services.intake.reference import directory
from services.intake.reference.directory_repository import Exchange
from tests.integration.desk_client import auth, bad_fields, report
from tests.stack import PROJECT_ROOT, RunningDesk

S = common_pb2


def _digits(count: int) -> str:
    return f"{random.randrange(10**count):0{count}d}"


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _report(**fields: Any) -> intake_pb2.CreateTicketRequest:
    """A report by a reporter of its own: none of them repeats another test's report."""
    reporter = S.Reporter(name="Li Lei", phone=f"137{_digits(8)}", organization="ACME")
    return report(**{"reporter": reporter, **fields})


@dataclass
class Imported:
    status: int
    out: str
    err: str


async def _import(desk: RunningDesk, tmp_path: Path, kind: str, text: str) -> Imported:
    """`python -m cli directory import KIND FILE` against the test desk, as an operator runs it."""
    path = tmp_path / f"{kind}-{_tag()}.csv"
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HELPDESK_DATA_DIR"] = str(desk.data_dir)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli", "directory", "import", kind, str(path)),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Imported(process.returncode, out.decode(), err.decode())


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


class Intake:
    def __init__(self, desk: RunningDesk) -> None:
        self.stub = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        self.agent = auth(desk.token("agent"))

    async def create(self, request: intake_pb2.CreateTicketRequest) -> S.Ticket:
        ticket: S.Ticket = (await self.stub.CreateTicket(request, metadata=self.agent)).ticket
        return ticket

    async def refused(self, request: intake_pb2.CreateTicketRequest) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await self.stub.CreateTicket(request, metadata=self.agent)
        return caught.value

    async def get(self, ticket_id: str) -> S.Ticket:
        request = intake_pb2.GetTicketRequest(ticket_id=ticket_id)
        ticket: S.Ticket = await self.stub.GetTicket(request, metadata=self.agent)
        return ticket


async def test_an_unknown_exchange_is_refused_naming_the_fault_number(desk: RunningDesk) -> None:
    intake = Intake(desk)
    request = _report(fault_number=f"59{_digits(9)}")  # no exchange of mainland China starts with 5
    error = await intake.refused(request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(error) == ["fault_number"]
    assert await _count(desk, request.request_id) == (0, 0)
    # The request id was not consumed: the corrected number goes through under it.
    fixed = await intake.create(_report(request_id=request.request_id, fault_number=f"0311{_digits(8)}"))
    assert fixed.ticket_id
    # Reports without a fault number are not checked.
    assert (await intake.create(_report(fault_number=""))).ticket_id


async def test_the_exchange_region_becomes_the_tickets_region(desk: RunningDesk) -> None:
    intake = Intake(desk)
    shenzhen = await intake.create(_report(fault_number=f"0755{_digits(8)}"))
    assert (await intake.get(shenzhen.ticket_id)).region == "440300"
    assert (await intake.create(_report(fault_number=f"010{_digits(8)}"))).region == "110000"
    named = await intake.create(_report(fault_number=f"0755{_digits(8)}", region="south"))
    assert (await intake.get(named.ticket_id)).region == "south"  # the report's own region wins
    mobile = await intake.create(_report(fault_number=f"138{_digits(8)}"))
    assert (await intake.get(mobile.ticket_id)).region == ""  # a mobile segment names no place
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:  # the exchange check alone, as the IVR asks it
        assert await directory.find_exchange(db=conn, number=f"0755{_digits(8)}") == Exchange(
            "0755", "深圳 Shenzhen", "440300"
        )
        assert await directory.find_exchange(db=conn, number=f"59{_digits(9)}") is None
    finally:
        await conn.close()


async def test_only_the_owner_may_report_a_registered_line(desk: RunningDesk, tmp_path: Path) -> None:
    intake, tag = Intake(desk), _tag()
    by_name, by_phone, by_ivr = (f"0571{_digits(8)}" for _ in range(3))
    contact = f"139{_digits(8)}"
    imported = await _import(
        desk,
        tmp_path,
        "subscribers",
        "fault_number,owner_name,contact_phones\n"
        f"{by_name},Zhao  Min {tag},\n"
        f'{by_phone},Qian Hao {tag},"+86 {contact[:3]}-{contact[3:]}; 0571{_digits(8)}"\n'
        f"{by_ivr},Sun Li {tag},\n",
    )
    assert imported.status == 0, imported.err
    assert "3 rows" in imported.out and "3 new" in imported.out

    stranger = S.Reporter(name="Li Lei", phone=f"137{_digits(8)}", organization="ACME")
    request = _report(fault_number=by_name, reporter=stranger)
    error = await intake.refused(request)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "owner must report in person" in (error.details() or "")
    assert await _count(desk, request.request_id) == (0, 0)

    # The owner, however their name is spaced or cased, under the same request id: accepted.
    owner = S.Reporter(name=f"  zhao min {tag.upper()} ", phone=f"137{_digits(8)}")
    accepted = await intake.create(
        _report(request_id=request.request_id, fault_number=by_name, reporter=owner)
    )
    assert accepted.ticket_id and accepted.fault_number == by_name

    # A registered contact phone is the owner too; through IVR nobody is asked.
    relative = S.Reporter(name="Qian Xiaohao", phone=contact)
    assert (await intake.create(_report(fault_number=by_phone, reporter=relative))).ticket_id
    ivr = _report(fault_number=by_ivr, reporter=stranger, channel=S.CHANNEL_IVR)
    assert (await intake.create(ivr)).ticket_id


async def test_a_retry_finds_its_ticket_after_the_line_is_registered(
    desk: RunningDesk, tmp_path: Path
) -> None:
    intake = Intake(desk)
    number = f"0571{_digits(8)}"
    request = _report(fault_number=number)
    first = await intake.create(request)
    registered = await _import(
        desk, tmp_path, "subscribers", f"fault_number,owner_name\n{number},Zhou Qing {_tag()}\n"
    )
    assert registered.status == 0, registered.err
    assert (await intake.create(request)).ticket_id == first.ticket_id  # the same report, retried
    error = await intake.refused(_report(fault_number=number))  # a new report, by a non-owner
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_vip_customers_go_to_a_senior_agent_with_raised_priority(
    desk: RunningDesk, tmp_path: Path
) -> None:
    intake, tag = Intake(desk), _tag()
    vip_phone, vip_line = f"186{_digits(8)}", f"0571{_digits(8)}"
    imported = await _import(
        desk,
        tmp_path,
        "vip",
        "kind,value,note\n"
        f"organization,Big  Bank {tag},head office\n"
        f"phone,+86{vip_phone},CFO\n"
        f"fault_number,{vip_line},dealing room\n",
    )
    assert imported.status == 0, imported.err

    def by(**reporter: str) -> S.Reporter:
        return S.Reporter(**{"name": "Li Lei", "phone": f"137{_digits(8)}", **reporter})

    cases = [
        (_report(reporter=by(organization=f"big bank {tag.upper()}")), S.PRIORITY_P2),
        (_report(reporter=by(phone=vip_phone), priority=S.PRIORITY_P4), S.PRIORITY_P3),
        (_report(fault_number=vip_line, priority=S.PRIORITY_P2), S.PRIORITY_P1),
        (_report(customer_tier=S.CUSTOMER_TIER_VIP, priority=S.PRIORITY_P1), S.PRIORITY_P1),
    ]
    for request, priority in cases:
        ticket = await intake.get((await intake.create(request)).ticket_id)
        assert (ticket.customer_tier, ticket.priority) == (S.CUSTOMER_TIER_VIP, priority)
        assert ticket.status == S.TICKET_STATUS_PENDING_REVIEW  # the senior agent's queue
        assert [w.status for w in ticket.work_orders] == [S.WORK_ORDER_STATUS_PENDING_REVIEW]

    plain = await intake.create(_report(reporter=by(organization=f"Small Bank {tag}")))
    assert (plain.customer_tier, plain.priority, plain.status) == (
        S.CUSTOMER_TIER_STANDARD,
        S.PRIORITY_P3,
        S.TICKET_STATUS_DISPATCHED,
    )


async def test_import_upserts_exchanges_and_a_bad_file_imports_nothing(
    desk: RunningDesk, tmp_path: Path
) -> None:
    intake, tag = Intake(desk), _tag()
    prefix, other = f"58{_digits(6)}", f"57{_digits(6)}"  # nothing else starts with 5x
    first = await _import(desk, tmp_path, "exchanges", f"prefix,name,region\n{prefix},Test {tag},r-{tag}\n")
    assert first.status == 0, first.err
    assert "1 new, 0 updated" in first.out
    again = await _import(
        desk, tmp_path, "exchanges", f"name,prefix,region\nRenamed {tag},{prefix},r2-{tag}\n"
    )
    assert again.status == 0, again.err
    assert "0 new, 1 updated" in again.out
    ticket = await intake.create(_report(fault_number=f"{prefix}{_digits(4)}"))
    assert (await intake.get(ticket.ticket_id)).region == f"r2-{tag}"

    bad = await _import(
        desk,
        tmp_path,
        "exchanges",
        f"prefix,name,region\n{other},Fine {tag},r-{tag}\n5x7,Broken,\n{prefix},No name here,\n",
    )
    assert bad.status == 1
    assert "line 3, prefix" in bad.err and "nothing imported" in bad.err
    assert "line 2" not in bad.err
    error = await intake.refused(_report(fault_number=f"{other}{_digits(4)}"))
    assert bad_fields(error) == ["fault_number"]  # the good row of the bad file was not imported
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        assert await conn.fetchval("SELECT name FROM intake.exchanges WHERE prefix = $1", prefix) == (
            f"Renamed {tag}"
        )
    finally:
        await conn.close()
