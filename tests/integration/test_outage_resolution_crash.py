"""ResolveOutage over 200 linked tickets survives intake and the workflow workers killed half-way.

A desk of its own: its intake and workers are killed (SIGKILL) while the outage's tickets are being
resolved, and the desk's supervisor starts them again. The resolution is the outage's workflow's
(workflows/outage.py), not the RPC's: it carries on, and every ticket ends resolved exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import Metadata, auth, report
from tests.stack import RunningDesk, running_desk

LINKED = 200
RESOLVED_WITHIN = 120.0


@pytest.fixture(scope="module")
async def own_desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningDesk]:
    async with running_desk(tmp_path_factory.mktemp("outage-crash")) as desk:
        yield desk


async def _linked_tickets(
    intake: intake_pb2_grpc.IntakeServiceStub, metadata: Metadata, prefix: str
) -> list[str]:
    """LINKED reports in the outage's exchange, each answered once its ticket is recorded."""
    callers = asyncio.Semaphore(16)

    async def one(n: int) -> str:
        async with callers:
            answer = await intake.CreateTicket(report(fault_number=f"{prefix}{n:04d}"), metadata=metadata)
        assert answer.outcome == intake_pb2.CREATE_OUTCOME_KNOWN_OUTAGE
        return str(answer.ticket.ticket_id)

    return list(await asyncio.gather(*(one(n) for n in range(LINKED))))


async def _resolved(conn: asyncpg.Connection, outage_id: str) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM intake.outage_tickets o JOIN intake.tickets t USING (ticket_id)"
            " WHERE o.outage_id = $1 AND t.status = 'RESOLVED'",
            outage_id,
        )
    )


async def _half_resolved(conn: asyncpg.Connection, outage_id: str) -> None:
    """Past half: inside the third batch of 50, with luck, so some of its updates are sent twice."""
    for _ in range(int(RESOLVED_WITHIN / 0.02)):
        if await _resolved(conn, outage_id) > LINKED // 2:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("half the tickets were not resolved")


def _kill(desk: RunningDesk, names: list[str]) -> dict[str, int]:
    pids = {name: desk.pid(name) for name in names}
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    return pids


async def _all_resolved(conn: asyncpg.Connection, outage_id: str) -> None:
    for _ in range(int(RESOLVED_WITHIN / 0.5)):
        if await _resolved(conn, outage_id) == LINKED:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"{await _resolved(conn, outage_id)} of {LINKED} resolved in {RESOLVED_WITHIN:.0f} s"
    )


async def test_a_resolution_killed_half_way_resolves_every_ticket_once(own_desk: RunningDesk) -> None:
    desk = own_desk
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    manager = auth(desk.token("manager"))
    prefix = "0215550"
    outage = await intake.DeclareOutage(
        intake_pb2.DeclareOutageRequest(request_id="crash-cut", exchanges=[prefix], cause="fibre cut"),
        metadata=manager,
    )
    tickets = await _linked_tickets(intake, auth(desk.token("agent")), prefix)
    request = intake_pb2.ResolveOutageRequest(outage_id=outage.outage_id, resolution="fibre spliced")
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        resolving = asyncio.ensure_future(intake.ResolveOutage(request, metadata=manager))
        await _half_resolved(conn, outage.outage_id)
        killed = _kill(desk, ["intake", *(name for name in desk.endpoints["processes"] if "worker" in name)])
        at_kill = await _resolved(conn, outage.outage_id)
        assert 0 < at_kill < LINKED, "the resolution was not caught half-way"
        with pytest.raises(grpc.aio.AioRpcError) as cut:
            await resolving  # its intake died: nobody drives the loop but the workflow
        assert cut.value.code() == grpc.StatusCode.UNAVAILABLE
        for name, pid in killed.items():
            await desk.restarted(name, pid, within=60)
        await _all_resolved(conn, outage.outage_id)
    finally:
        await conn.close()

    for ticket_id in tickets:
        ticket = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=manager)
        assert ticket.status == common_pb2.TICKET_STATUS_RESOLVED
        resolutions = [entry for entry in ticket.timeline if entry.type == "ticket.resolved"]
        assert [(r.reason, r.detail) for r in resolutions] == [
            ("fibre spliced", f"outage_id={outage.outage_id}")
        ]
    again = await intake.ResolveOutage(request, metadata=manager)  # a retry answers with the whole outage
    assert not again.active and sorted(again.ticket_ids) == sorted(tickets)
