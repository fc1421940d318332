"""A refusal only the ticket workflow can decide reaches the caller naming its own field.

Rejecting a work order without a reason passes the dispatch servicer's checks (a reason is needed
only to reject); the ticket workflow's review validator refuses it (workflows/review.py). The caller
must learn the field ``reason``, over gRPC and in the HTTP gateway's answer, and nothing changes.

The HTTP gateway serves only intake's CreateTicket and GetTicket, neither of which meets a
workflow-decided field refusal, so the HTTP half renders this very refusal with the gateway's error
mapping (``services.http.errors.from_rpc_error``), the code every gateway route answers with.
"""

from __future__ import annotations

import json

import grpc
import pytest

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from services.http.errors import from_rpc_error
from tests.integration.desk_client import auth, bad_fields, report
from tests.stack import RunningDesk


async def test_a_review_rejected_without_a_reason_names_reason_over_grpc_and_http(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    agent, senior = auth(desk.token("agent")), auth(desk.token("senior_agent"))
    ticket = (await intake.CreateTicket(report(category="nobody-refusals"), metadata=agent)).ticket
    proposed = await dispatch.DispatchTicket(
        dispatch_pb2.DispatchTicketRequest(
            ticket_id=ticket.ticket_id, team_id="network", reason="line fault"
        ),
        metadata=agent,  # a junior agent's dispatch waits for review
    )
    assert proposed.status == common_pb2.WORK_ORDER_STATUS_PENDING_REVIEW

    reject = dispatch_pb2.ReviewWorkOrderRequest(work_order_id=proposed.work_order_id, approve=False)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await dispatch.ReviewWorkOrder(reject, metadata=senior, timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == ["reason"]

    answer = from_rpc_error(refused.value).response()
    error = json.loads(bytes(answer.body))["error"]
    assert (answer.status_code, error["status"]) == (400, "INVALID_ARGUMENT")
    assert [v["field"] for d in error["details"] for v in d.get("field_violations", [])] == ["reason"]

    seen = await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=agent)
    assert seen.status == common_pb2.TICKET_STATUS_PENDING_REVIEW
    assert [w.status for w in seen.work_orders] == [common_pb2.WORK_ORDER_STATUS_PENDING_REVIEW]
