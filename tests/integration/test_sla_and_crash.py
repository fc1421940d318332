"""Deadlines held by timers on the real stack, and a worker killed mid-lifecycle that loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import Counter

import asyncpg
import grpc
from google.protobuf import duration_pb2

from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import Event, auth, report, ticket_events, types
from tests.stack import RunningDesk

S = common_pb2


def _seconds(value: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(value * 1e9))
    return d


def _both_alarmed_and_chased(events: list[Event]) -> bool:
    """Each overdue's chase follows it on the stream: wait for both, not only the second overdue."""
    seen = types(events)
    return seen.count("sla.overdue") >= 2 and seen.count("dispatch.chased") >= 2


async def test_a_seconds_long_policy_warns_then_alarms_chases_and_records_a_violation(
    desk: RunningDesk,
) -> None:
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    policy = S.SlaPolicy(
        priority=S.PRIORITY_P1,
        team_id="automation",
        response_target=_seconds(2),
        resolution_target=_seconds(4),
        callback_target=_seconds(60),
        warning_percent=50,
    )
    saved = await dispatch.SetSlaPolicy(
        dispatch_pb2.SetSlaPolicyRequest(policy=policy), metadata=auth(desk.token("manager"))
    )
    assert saved.version >= 1
    in_force = await dispatch.GetSlaPolicy(
        dispatch_pb2.GetSlaPolicyRequest(
            priority=S.PRIORITY_P1, customer_tier=S.CUSTOMER_TIER_STANDARD, team_id="automation"
        ),
        metadata=auth(desk.token("agent")),
    )
    assert in_force.response_target.ToSeconds() == 2 and in_force.team_id == "automation"

    created = await intake.CreateTicket(
        report(category="automation", priority=S.PRIORITY_P1), metadata=auth(desk.token("agent"))
    )
    ticket_id = created.ticket.ticket_id
    events = await ticket_events(desk.endpoints["nats"], ticket_id, until=_both_alarmed_and_chased, within=30)
    counted = Counter(types(events))
    assert counted["sla.warning"] == 2 and counted["sla.overdue"] == 2 and counted["dispatch.chased"] == 2

    await asyncio.sleep(2)  # nothing more may fire: each deadline alarms exactly once
    again = await ticket_events(desk.endpoints["nats"], ticket_id, until=lambda ev: True)
    assert Counter(types(again))["sla.overdue"] == 2

    seen = await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=auth(desk.token("agent"))
    )
    assert {d.state for d in seen.deadlines} == {S.DEADLINE_STATE_OVERDUE}
    assert seen.work_orders[0].chase_count == 2
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        rows = await conn.fetch(
            "SELECT deadline_kind, team_id FROM dispatch.violations WHERE ticket_id = $1", ticket_id
        )
    finally:
        await conn.close()
    assert sorted((r["deadline_kind"], r["team_id"]) for r in rows) == [
        ("RESOLUTION", "automation"),
        ("RESPONSE", "automation"),
    ]


async def test_worker_killed_mid_lifecycle_carries_on(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))
    ticket = (await intake.CreateTicket(report(category="network"), metadata=agent)).ticket
    wo = ticket.work_orders[0].work_order_id

    killed = desk.worker_pid()
    accepting = asyncio.ensure_future(
        dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=wo, engineer="E"), metadata=ops
        )
    )
    await asyncio.sleep(0)  # the update is on its way when the worker dies
    os.kill(killed, signal.SIGKILL)
    assert (await accepting).status == S.WORK_ORDER_STATUS_ACCEPTED
    await desk.worker_restarted(killed)

    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(work_order_id=wo, cause="c", action="a", engineer="E"),
        metadata=ops,
    )
    killed = desk.worker_pid()
    os.kill(killed, signal.SIGKILL)
    closed = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=True),
        metadata=auth(desk.token("surveyor")),
    )
    assert closed.ticket_status == S.TICKET_STATUS_CLOSED
    await desk.worker_restarted(killed)

    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    events = await ticket_events(
        desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: len(ev) >= len(seen.timeline)
    )
    assert [e.envelope.sequence for e in events] == [e.sequence for e in seen.timeline]
    assert len({e.envelope.event_id for e in events}) == len(events)  # no event published twice under two ids
    assert types(events) == [e.type for e in seen.timeline]


async def test_intake_killed_mid_create_then_a_retry_gives_one_ticket(desk: RunningDesk) -> None:
    request = report(category="software")
    agent = auth(desk.token("agent"))
    killed = desk.pid("intake")
    creating = asyncio.ensure_future(
        intake_pb2_grpc.IntakeServiceStub(desk.channel("intake")).CreateTicket(request, metadata=agent)
    )
    await asyncio.sleep(0.02)  # the claim or the workflow start may or may not have happened
    os.kill(killed, signal.SIGKILL)
    with contextlib.suppress(grpc.aio.AioRpcError):
        await creating
    await desk.restarted("intake", killed)
    async with grpc.aio.insecure_channel(desk.endpoints["services"]["intake"]) as channel:
        intake = intake_pb2_grpc.IntakeServiceStub(channel)
        for _ in range(100):  # until the new process serves
            try:
                retried = await intake.CreateTicket(request, metadata=agent)
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the restarted intake never answered")
        seen = await intake.GetTicket(
            intake_pb2.GetTicketRequest(ticket_id=retried.ticket.ticket_id), metadata=agent
        )
    assert [e.type for e in seen.timeline].count("ticket.created") == 1
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM intake.tickets WHERE request_id = $1", request.request_id
        )
    finally:
        await conn.close()
    assert count == 1
