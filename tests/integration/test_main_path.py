"""One ticket's main path on the real stack: create → team sees it → accept → resolve → callback → CLOSED."""

from __future__ import annotations

import asyncio

import nats
import pytest

from desk.events import STREAM, team_consumer_name
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    events_pb2,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import auth, report, ticket_events, types
from tests.stack import RunningDesk

S = common_pb2


async def _team_receives(desk: RunningDesk, team: str, ticket_id: str) -> events_pb2.EventEnvelope:
    """Read the team's durable consumer until this ticket's work order arrives; ack what is read."""
    nc = await nats.connect(desk.endpoints["nats"])
    try:
        sub = await nc.jetstream().pull_subscribe_bind(team_consumer_name(team), stream=STREAM)
        for _ in range(50):
            for msg in await sub.fetch(10, timeout=5):
                await msg.ack()
                envelope = events_pb2.EventEnvelope.FromString(msg.data)
                if envelope.ticket_id == ticket_id:
                    assert msg.subject == f"helpdesk.dispatch.{team}.created"
                    return envelope
        raise AssertionError(f"team {team} never received {ticket_id}")
    finally:
        await nc.close()


async def test_main_path_end_to_end(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))

    created = await intake.CreateTicket(report(category="network"), metadata=agent)
    ticket = created.ticket
    assert created.outcome == intake_pb2.CREATE_OUTCOME_CREATED
    assert ticket.status == S.TICKET_STATUS_DISPATCHED
    assert ticket.assigned_team_id == "network"
    [work_order] = ticket.work_orders
    assert {d.kind for d in ticket.deadlines} == {S.DEADLINE_KIND_RESPONSE, S.DEADLINE_KIND_RESOLUTION}
    resolution = next(d for d in ticket.deadlines if d.kind == S.DEADLINE_KIND_RESOLUTION)
    assert resolution.due_at.ToSeconds() - ticket.created_at.ToSeconds() == pytest.approx(24 * 3600, abs=1)

    envelope = await _team_receives(desk, "network", ticket.ticket_id)
    assert envelope.payload["work_order_id"] == work_order.work_order_id

    accepted = await dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order.work_order_id, engineer="Wang Wu"),
        metadata=ops,
    )
    assert accepted.status == S.WORK_ORDER_STATUS_ACCEPTED
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert seen.status == S.TICKET_STATUS_IN_PROGRESS
    response = next(d for d in seen.deadlines if d.kind == S.DEADLINE_KIND_RESPONSE)
    assert response.state == S.DEADLINE_STATE_MET

    resolved = await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=work_order.work_order_id,
            cause="corroded jumper",
            action="replaced jumper",
            engineer="Wang Wu",
            onsite=S.OnsiteReport(
                departed_at=accepted.accepted_at,
                arrived_at=accepted.accepted_at,
                restored_at=accepted.accepted_at,
                test_result=S.TEST_RESULT_NORMAL,
                customer_signed=True,
                parts=[S.Part(name="jumper wire", unit="m", quantity=2)],
            ),
        ),
        metadata=ops,
    )
    assert resolved.status == S.WORK_ORDER_STATUS_RESOLVED
    assert resolved.onsite.parts[0].name == "jumper wire"
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert seen.status == S.TICKET_STATUS_RESOLVED
    callback_deadline = next(d for d in seen.deadlines if d.kind == S.DEADLINE_KIND_CALLBACK)
    assert callback_deadline.due_at.ToSeconds() - resolved.resolved_at.ToSeconds() == pytest.approx(
        86400, abs=1
    )

    callback = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=True),
        metadata=auth(desk.token("surveyor")),
    )
    assert callback.ticket_status == S.TICKET_STATUS_CLOSED
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert seen.status == S.TICKET_STATUS_CLOSED
    assert all(d.state == S.DEADLINE_STATE_MET for d in seen.deadlines)
    timeline = [e.type for e in seen.timeline]
    # The line test runs once the ticket is recorded, beside the team's work: its place may vary.
    assert timeline.count("ticket.line_tested") == 1 and seen.line_test.tester == "simulator"
    assert [t for t in timeline if t != "ticket.line_tested"] == [
        "ticket.created",
        "ticket.acknowledged",
        "dispatch.created",
        "dispatch.accepted",
        "dispatch.resolved",
        "ticket.resolved",
        "survey.callback_recorded",
        "ticket.closed",
    ]
    assert [e.sequence for e in seen.timeline] == list(range(1, len(timeline) + 1))

    events = await ticket_events(desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: len(ev) >= 9)
    assert types(events) == timeline
    assert all(e.msg_id == e.envelope.event_id for e in events)


async def test_a_return_sends_the_ticket_to_dispatch_again(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    agent = auth(desk.token("agent"))
    ticket = (await intake.CreateTicket(report(category="software"), metadata=agent)).ticket
    [first] = ticket.work_orders

    returned = await dispatch.ReturnWorkOrder(
        dispatch_pb2.ReturnWorkOrderRequest(work_order_id=first.work_order_id, reason="not a software fault"),
        metadata=auth(desk.token("ops_engineer:software")),
    )
    assert returned.status == S.WORK_ORDER_STATUS_RETURNED
    waiting = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert waiting.status == S.TICKET_STATUS_OPEN  # no other team takes "software": it waits at the desk

    second = await dispatch.DispatchTicket(
        dispatch_pb2.DispatchTicketRequest(
            ticket_id=ticket.ticket_id, team_id="machine-room", reason="server room"
        ),
        metadata=auth(desk.token("senior_agent")),  # a junior agent's dispatch would wait for review
    )
    assert (second.team_id, second.sequence, second.status) == (
        "machine-room",
        2,
        S.WORK_ORDER_STATUS_DISPATCHED,
    )
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert seen.status == S.TICKET_STATUS_DISPATCHED and seen.assigned_team_id == "machine-room"
    responses = [d for d in seen.deadlines if d.kind == S.DEADLINE_KIND_RESPONSE]
    assert [d.work_order_id for d in responses] == [first.work_order_id, second.work_order_id]
    assert responses[1].state == S.DEADLINE_STATE_PENDING


async def test_not_fixed_callback_is_a_second_dispatch_reviewed_before_the_team_sees_it(
    desk: RunningDesk,
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:automation"))
    ticket = (await intake.CreateTicket(report(category="automation"), metadata=agent)).ticket
    wo = ticket.work_orders[0].work_order_id
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=wo, cause="script", action="rerun", engineer="Zhao"
        ),
        metadata=ops,
    )
    callback = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(
            ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=False, note="still failing"
        ),
        metadata=auth(desk.token("surveyor")),
    )
    assert callback.ticket_status == S.TICKET_STATUS_PENDING_REVIEW
    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert [(w.team_id, w.sequence, w.status, w.dispatch_kind) for w in seen.work_orders] == [
        ("automation", 1, S.WORK_ORDER_STATUS_RESOLVED, S.DISPATCH_KIND_INITIAL),
        ("automation", 2, S.WORK_ORDER_STATUS_PENDING_REVIEW, S.DISPATCH_KIND_SECOND_DISPATCH),
    ]
    assert seen.second_dispatch_count == 1
    approved = await dispatch.ReviewWorkOrder(
        dispatch_pb2.ReviewWorkOrderRequest(work_order_id=seen.work_orders[1].work_order_id, approve=True),
        metadata=auth(desk.token("senior_agent")),
    )
    assert (approved.status, approved.dispatch_kind) == (
        S.WORK_ORDER_STATUS_DISPATCHED,
        S.DISPATCH_KIND_SECOND_DISPATCH,
    )


async def test_reads_see_each_change_as_soon_as_the_rpc_returns(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))
    tickets = await asyncio.gather(*(intake.CreateTicket(report(), metadata=agent) for _ in range(5)))
    for created in tickets:
        wo = created.ticket.work_orders[0].work_order_id
        await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=wo, engineer="E"), metadata=ops
        )
        listed = await dispatch.ListWorkOrders(
            dispatch_pb2.ListWorkOrdersRequest(ticket_id=created.ticket.ticket_id), metadata=ops
        )
        assert [w.status for w in listed.work_orders] == [S.WORK_ORDER_STATUS_ACCEPTED]
