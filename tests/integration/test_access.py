"""Every RPC needs a token; roles decide what a caller may do; ops engineers act only for their team."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from helpdesk.v1 import (
    dispatch_pb2,
    dispatch_pb2_grpc,
    escalation_pb2,
    intake_pb2,
    intake_pb2_grpc,
    knowledge_pb2,
    quality_pb2,
    stats_pb2,
    survey_pb2,
)
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk


async def test_no_token_is_unauthenticated(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    for metadata in ((), auth("not-a-token")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id="TK1"), metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_wrong_role_is_denied(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(report(), metadata=auth(desk.token("statistician")))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_wrong_teams_engineer_is_denied_and_nothing_changes(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ticket = (
        await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ).ticket
    wo = ticket.work_orders[0].work_order_id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=wo, engineer="X"),
            metadata=auth(desk.token("ops_engineer:software")),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    seen = await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=auth(desk.token("agent"))
    )
    assert seen.work_orders[0].status == ticket.work_orders[0].status


async def test_a_transition_not_allowed_now_is_failed_precondition(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ops = auth(desk.token("ops_engineer:network"))
    ticket = (
        await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ).ticket
    wo = ticket.work_orders[0].work_order_id
    await dispatch.ReturnWorkOrder(
        dispatch_pb2.ReturnWorkOrderRequest(work_order_id=wo, reason="wrong team"), metadata=ops
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id=wo, engineer="X"), metadata=ops
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(work_order_id="nope", engineer="X"), metadata=ops
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("service", ["intake", "dispatch", "survey", "quality", "stats"])
async def test_every_server_has_health_and_reflection(desk: RunningDesk, service: str) -> None:
    channel = desk.channel(service)
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = [s.name async for answer in answers for s in answer.list_services_response.service]
    assert f"helpdesk.v1.{service.capitalize()}Service" in names


@pytest.mark.parametrize("service", ["intake", "dispatch", "survey", "quality", "stats"])
async def test_no_rpc_answers_unimplemented(desk: RunningDesk, service: str) -> None:
    """Every method of every service's contract is served: an empty request gets an answer or a
    refusal of its own, never UNIMPLEMENTED."""
    channel = desk.channel(service)
    protos = {
        "intake": [intake_pb2, knowledge_pb2],
        "dispatch": [dispatch_pb2],
        "survey": [survey_pb2, escalation_pb2],
        "quality": [quality_pb2],
        "stats": [stats_pb2],
    }[service]
    served = [s for proto in protos for s in proto.DESCRIPTOR.services_by_name.values()]
    assert served, f"{service} has no service in its proto"
    for method in (m for s in served for m in s.methods):
        call = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=lambda _: b"",
            response_deserializer=lambda data: data,
        )
        try:
            await call(None, metadata=auth(desk.token("admin")), timeout=30)
        except grpc.aio.AioRpcError as error:
            assert error.code() != grpc.StatusCode.UNIMPLEMENTED, method.full_name


async def test_a_retried_accept_gets_the_first_answer_again(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ops = auth(desk.token("ops_engineer:network"))
    ticket = (
        await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ).ticket
    request = dispatch_pb2.AcceptWorkOrderRequest(
        work_order_id=ticket.work_orders[0].work_order_id, engineer="E"
    )
    first = await dispatch.AcceptWorkOrder(request, metadata=ops)
    again = await dispatch.AcceptWorkOrder(request, metadata=ops)
    assert again == first
    seen = await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=auth(desk.token("agent"))
    )
    assert [e.type for e in seen.timeline].count("dispatch.accepted") == 1
