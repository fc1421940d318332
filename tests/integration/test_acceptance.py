"""CreateTicket's default answer: on acceptance, before the workflow has opened the ticket.

A report is accepted once its ticket is in PostgreSQL (intake.pending_tickets); the intake process's
starter then opens its workflow. These tests hold users to that promise: the answer and GetTicket
show the ticket at once, it is routed moments later, and nothing accepted is lost when Temporal
stops answering and the intake process dies before it could open what it accepted.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import grpc
import psutil

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import Event, Metadata, auth, recorded, report, ticket_events, types
from tests.stack import RunningDesk, leftovers


def temporal_pid(data_dir: Path) -> int:
    for pid in leftovers(data_dir):
        if "temporal.db" in " ".join(psutil.Process(pid).cmdline()):
            return pid
    raise AssertionError("the desk's Temporal server is not running")


async def test_the_answer_comes_on_acceptance_and_the_ticket_is_routed_moments_later(
    desk: RunningDesk,
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    request = report(category="network", wait_for_routing=False)

    answer = await intake.CreateTicket(request, metadata=agent)
    ticket_id = answer.ticket.ticket_id
    assert answer.outcome == intake_pb2.CREATE_OUTCOME_CREATED
    assert answer.ticket.status == common_pb2.TICKET_STATUS_OPEN
    assert answer.ticket.fault_number == request.fault_number
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=agent)
    assert seen.ticket_id == ticket_id  # read your writes: accepted is visible, routed or not yet

    routed = await recorded(intake, ticket_id, agent)
    assert routed.status == common_pb2.TICKET_STATUS_DISPATCHED
    assert [w.team_id for w in routed.work_orders] == ["network"]
    again = await intake.CreateTicket(request, metadata=agent)
    assert (again.ticket.ticket_id, again.replayed) == (ticket_id, True)
    assert again.ticket.status == common_pb2.TICKET_STATUS_DISPATCHED


async def test_a_supplement_to_a_ticket_not_opened_yet_opens_it_and_is_kept(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    stopped = temporal_pid(desk.data_dir)
    os.kill(stopped, signal.SIGSTOP)  # the starter cannot open it: it stays accepted, not opened
    try:
        answer = await intake.CreateTicket(report(wait_for_routing=False), metadata=agent)
        ticket_id = answer.ticket.ticket_id
        supplement = intake_pb2.AddSupplementRequest(ticket_id=ticket_id, text="The fax line too")
        supplementing = asyncio.ensure_future(intake.AddSupplement(supplement, metadata=agent))
        await asyncio.sleep(0.3)  # it found the ticket pending, and now waits for Temporal
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert (await supplementing).supplement_count == 1
    seen = await recorded(intake, ticket_id, agent)
    assert types_of(seen).count("ticket.created") == 1
    assert "ticket.supplemented" in types_of(seen)


async def test_a_ticket_not_opened_yet_is_listed_open_at_no_team(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    stopped = temporal_pid(desk.data_dir)
    os.kill(stopped, signal.SIGSTOP)
    try:
        answer = await intake.CreateTicket(report(wait_for_routing=False), metadata=agent)
        open_now = await intake.ListTickets(
            intake_pb2.ListTicketsRequest(status=common_pb2.TICKET_STATUS_OPEN), metadata=agent
        )
        at_network = await intake.ListTickets(
            intake_pb2.ListTicketsRequest(team_id="network"), metadata=agent
        )
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert open_now.tickets[0].ticket_id == answer.ticket.ticket_id  # the newest
    assert answer.ticket.ticket_id not in {t.ticket_id for t in at_network.tickets}
    await recorded(intake, answer.ticket.ticket_id, agent)
    listed = await intake.ListTickets(intake_pb2.ListTicketsRequest(page_size=50), metadata=agent)
    ids = [t.ticket_id for t in listed.tickets]
    assert ids.count(answer.ticket.ticket_id) == 1  # once, as recorded
    assert listed.tickets[ids.index(answer.ticket.ticket_id)].status == common_pb2.TICKET_STATUS_DISPATCHED


async def test_reports_accepted_while_temporal_is_stopped_survive_an_intake_crash(desk: RunningDesk) -> None:
    """Temporal stops answering; reports are still accepted; intake dies holding them; all are opened."""
    agent = auth(desk.token("agent"))
    stopped, killed = temporal_pid(desk.data_dir), desk.pid("intake")
    os.kill(stopped, signal.SIGSTOP)
    try:
        intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        answers = await asyncio.gather(
            *(intake.CreateTicket(report(wait_for_routing=False), metadata=agent) for _ in range(8))
        )
        os.kill(killed, signal.SIGKILL)  # before it could open any of them
    finally:
        os.kill(stopped, signal.SIGCONT)
    await desk.restarted("intake", killed)

    async with grpc.aio.insecure_channel(desk.endpoints["services"]["intake"]) as channel:
        intake = intake_pb2_grpc.IntakeServiceStub(channel)
        for answer in answers:
            seen = await _when_serving(intake, answer.ticket.ticket_id, agent)
            assert seen.status == common_pb2.TICKET_STATUS_DISPATCHED, seen
            events = await ticket_events(
                desk.endpoints["nats"], seen.ticket_id, until=at_least(len(seen.timeline))
            )
            assert types(events).count("ticket.created") == 1  # opened once, however often it was tried


async def _when_serving(
    intake: intake_pb2_grpc.IntakeServiceStub, ticket_id: str, metadata: Metadata
) -> common_pb2.Ticket:
    """The ticket once recorded, asking again while the restarted intake process is not serving yet."""
    for _ in range(100):
        try:
            return await recorded(intake, ticket_id, metadata, within=60.0)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
            await asyncio.sleep(0.1)
    raise AssertionError("the restarted intake never answered")


def at_least(count: int) -> Callable[[list[Event]], bool]:
    return lambda events: len(events) >= count


def types_of(ticket: common_pb2.Ticket) -> list[str]:
    return [entry.type for entry in ticket.timeline]


async def test_events_recorded_while_the_relay_is_down_are_published_once_when_it_is_back(
    desk: RunningDesk,
) -> None:
    """Events wait in intake.outbox while intake is frozen and then dies; its successor publishes them."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ticket = (
        await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ).ticket
    frozen = desk.pid("intake")
    os.kill(frozen, signal.SIGSTOP)  # its relay holds the lock and publishes nothing
    try:
        accept = dispatch_pb2.AcceptWorkOrderRequest(
            work_order_id=f"{ticket.ticket_id}-W1", engineer="Wang Wu"
        )
        await dispatch.AcceptWorkOrder(accept, metadata=auth(desk.token("ops_engineer:network")))
        await asyncio.sleep(1.0)
        so_far = await ticket_events(desk.endpoints["nats"], ticket.ticket_id, until=at_least(0), within=1)
        assert "dispatch.accepted" not in types(so_far)  # recorded, queued, not published
    finally:
        os.kill(frozen, signal.SIGKILL)
    await desk.restarted("intake", frozen)
    events = await ticket_events(
        desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: "dispatch.accepted" in types(ev)
    )
    assert types(events).count("dispatch.accepted") == 1
    assert [e.envelope.sequence for e in events] == list(range(1, len(events) + 1))  # in order, no gap
