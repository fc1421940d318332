"""A NATS outage delays events and loses none; the desk keeps answering meanwhile."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, report, ticket_events, types
from tests.stack import RunningDesk, leftovers


def _nats_server(data_dir: Path) -> int:
    servers = (pid for pid in leftovers(data_dir) if "nats-server" in " ".join(psutil.Process(pid).cmdline()))
    return next(servers)


async def test_events_decided_while_nats_is_down_arrive_once_it_is_back(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))
    nats = _nats_server(desk.data_dir)

    os.kill(nats, signal.SIGSTOP)  # frozen, not gone: clients see timeouts, as in a network partition
    try:
        started = time.monotonic()
        ticket = (await intake.CreateTicket(report(category="network"), metadata=agent)).ticket
        work_order = ticket.work_orders[0].work_order_id
        accepted = await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order, engineer="E"), metadata=ops
        )
        answered_in = time.monotonic() - started
    finally:
        os.kill(nats, signal.SIGCONT)

    assert accepted.status == common_pb2.WORK_ORDER_STATUS_ACCEPTED
    assert answered_in < 10, f"RPCs waited {answered_in:.1f} s for NATS"
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    expected = [e.type for e in seen.timeline]
    events = await ticket_events(
        desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: len(ev) >= len(expected), within=60
    )
    assert types(events) == expected
    assert len({e.envelope.event_id for e in events}) == len(events)
