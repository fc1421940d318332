"""Callback attempts over gRPC: a retry counts once, attempts are spaced, and the surveyors' queue."""

from __future__ import annotations

import grpc
import pytest

from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import Metadata, auth, bad_fields, report
from tests.stack import RunningDesk

S = common_pb2


async def _resolved_ticket(desk: RunningDesk) -> common_pb2.Ticket:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    created = await intake.CreateTicket(report(category="software"), metadata=auth(desk.token("agent")))
    ticket: common_pb2.Ticket = created.ticket
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=ticket.work_orders[0].work_order_id, cause="bug", action="patched", engineer="Qian"
        ),
        metadata=auth(desk.token("ops_engineer:software")),
    )
    return ticket


async def _queued(
    survey: survey_pb2_grpc.SurveyServiceStub, ticket_id: str, surveyor: Metadata
) -> tuple[survey_pb2.PendingCallback, common_pb2.Ticket] | None:
    """The ticket's place in the callback queue, read page by page (other tests' tickets are there too)."""
    token = ""
    while True:
        page = await survey.ListPendingCallbacks(
            survey_pb2.ListPendingCallbacksRequest(page_size=20, page_token=token), metadata=surveyor
        )
        due = [c.callback_due_at.ToDatetime() for c in page.callbacks]
        assert due == sorted(due)  # earliest deadline first
        for entry, ticket in zip(page.callbacks, page.tickets, strict=True):
            if entry.ticket_id == ticket_id:
                return entry, ticket
        if not page.next_page_token:
            return None
        token = page.next_page_token


async def test_a_callback_retry_counts_once_and_the_queue_shows_the_attempts(desk: RunningDesk) -> None:
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    surveyor = auth(desk.token("surveyor"))
    ticket = await _resolved_ticket(desk)
    queued = await _queued(survey, ticket.ticket_id, surveyor)
    assert queued is not None and (queued[0].attempts, queued[0].max_attempts) == (0, 3)
    assert queued[1].status == S.TICKET_STATUS_RESOLVED

    attempt = survey_pb2.RecordCallbackRequest(
        ticket_id=ticket.ticket_id, reached=False, termination_reason="no answer", request_id="cb-1"
    )
    first = await survey.RecordCallback(attempt, metadata=surveyor)
    again = await survey.RecordCallback(attempt, metadata=surveyor)
    assert first == again
    assert (first.attempt, first.ticket_status) == (1, S.TICKET_STATUS_RESOLVED)
    assert first.next_attempt_at.ToSeconds() - first.recorded_at.ToSeconds() == pytest.approx(7200, abs=1)

    queued = await _queued(survey, ticket.ticket_id, surveyor)
    assert queued is not None
    assert (queued[0].attempts, queued[0].next_attempt_at) == (1, first.next_attempt_at)

    with pytest.raises(grpc.aio.AioRpcError) as too_soon:
        await survey.RecordCallback(
            survey_pb2.RecordCallbackRequest(
                ticket_id=ticket.ticket_id, reached=False, termination_reason="busy", request_id="cb-2"
            ),
            metadata=surveyor,
        )
    assert too_soon.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await survey.RecordCallback(
            survey_pb2.RecordCallbackRequest(ticket_id=ticket.ticket_id, reached=False, request_id="cb-3"),
            metadata=surveyor,
        )
    assert bad_fields(no_reason.value) == ["termination_reason"]

    reached = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(
            ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=True, request_id="cb-4"
        ),
        metadata=surveyor,
    )
    assert (reached.attempt, reached.ticket_status) == (2, S.TICKET_STATUS_CLOSED)
    assert await _queued(survey, ticket.ticket_id, surveyor) is None
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    seen = await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket.ticket_id), metadata=auth(desk.token("agent"))
    )
    assert seen.callback_attempts == 1
