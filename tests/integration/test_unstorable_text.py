"""Text no database can store: refused at the edge of every service, and never a poisoned ticket.

Every call is bounded: a change retried for ever inside the desk would answer DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta

import grpc
import pytest
from temporalio.exceptions import ApplicationError

from desk.db import create_pool
from desk.grpc_edge import MAX_REQUEST_BYTES
from desk.storage_errors import UNSTORABLE_DATA
from domain.callbacks import CallbackRecord
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from services.dispatch.activities import DispatchActivities
from services.dispatch.contract import SaveWorkOrderInput
from services.dispatch.repository import get_work_order
from services.intake.activities import IntakeActivities
from services.intake.contract import RecordTicketInput
from services.intake.opening.line_test import SimulatedLineTester
from services.intake.repository import get_view
from services.survey.activities import SurveyActivities
from services.survey.contract import SaveCallbackInput
from tests.integration.desk_client import auth, bad_fields, report
from tests.stack import RunningDesk

AT_ONCE = 10.0  # seconds


async def test_a_nul_in_an_update_is_invalid_argument_and_the_ticket_takes_a_supplement_at_once(
    desk: RunningDesk,
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    ticket = (await intake.CreateTicket(report(), metadata=agent)).ticket

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        poisoned = intake_pb2.AddSupplementRequest(ticket_id=ticket.ticket_id, text="the fax line\x00 too")
        await intake.AddSupplement(poisoned, metadata=agent, timeout=AT_ONCE)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == ["text"]

    supplement = intake_pb2.AddSupplementRequest(ticket_id=ticket.ticket_id, text="the fax line too")
    supplemented = await intake.AddSupplement(supplement, metadata=agent, timeout=AT_ONCE)
    assert supplemented.supplement_count == 1


async def test_a_control_character_deep_in_a_resolution_is_named_by_its_path_and_changes_nothing(
    desk: RunningDesk,
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ops = auth(desk.token("ops_engineer:network"))
    ticket = (await intake.CreateTicket(report(), metadata=auth(desk.token("agent")))).ticket
    work_order_id = ticket.work_orders[0].work_order_id
    accept = dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order_id, engineer="Wang Wu")
    await dispatch.AcceptWorkOrder(accept, metadata=ops, timeout=AT_ONCE)

    parts = [common_pb2.Part(name="jumper", quantity=1), common_pb2.Part(name="ONT", note="swapped\x1b[2J")]
    resolution = dispatch_pb2.ResolveWorkOrderRequest(
        work_order_id=work_order_id,
        cause="corroded jumper",
        action="x" * 10_001,
        engineer="Wang Wu",
        onsite=common_pb2.OnsiteReport(parts=parts, customer_signed=True),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await dispatch.ResolveWorkOrder(resolution, metadata=ops, timeout=AT_ONCE)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == ["action", "onsite.parts[1].note"]

    listed = await dispatch.ListWorkOrders(
        dispatch_pb2.ListWorkOrdersRequest(ticket_id=ticket.ticket_id), metadata=ops, timeout=AT_ONCE
    )
    assert [w.status for w in listed.work_orders] == [common_pb2.WORK_ORDER_STATUS_ACCEPTED]


async def test_what_postgresql_refuses_for_good_fails_each_services_write_for_good(desk: RunningDesk) -> None:
    """The real driver's errors, not a fake's: a retry of these writes could never succeed."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    ticket = (await intake.CreateTicket(report(), metadata=auth(desk.token("agent")))).ticket
    pool = await create_pool(desk.endpoints["postgres"])
    try:
        view = await get_view(db=pool, ticket_id=ticket.ticket_id)
        work_order = await get_work_order(db=pool, work_order_id=ticket.work_orders[0].work_order_id)
        assert view is not None and work_order is not None
        later = view.updated_at + timedelta(seconds=1)
        poisoned_view = dataclasses.replace(view, updated_at=later, cancel_reason="\x00")
        poisoned_work_order = dataclasses.replace(work_order, return_reason="wrong\x00team")
        poisoned_callback = CallbackRecord(ticket.ticket_id, False, False, "", "\x00", "s-1", later)
        intake_activities = IntakeActivities(pool, SimulatedLineTester())
        writes: list[Callable[[], Awaitable[None]]] = [
            lambda: intake_activities.record_ticket(RecordTicketInput(poisoned_view)),
            lambda: DispatchActivities(pool).save_work_order(SaveWorkOrderInput(poisoned_work_order)),
            lambda: SurveyActivities(pool).save_callback(SaveCallbackInput(poisoned_callback)),
        ]
        for write in writes:
            with pytest.raises(ApplicationError) as refused:
                await write()
            assert (refused.value.type, refused.value.non_retryable) == (UNSTORABLE_DATA, True)
        assert await get_view(db=pool, ticket_id=ticket.ticket_id) == view
    finally:
        await pool.close()


async def test_a_request_over_the_size_bound_is_refused_before_it_reaches_the_service(
    desk: RunningDesk,
) -> None:
    """A request larger than the servers' deliberate maximum is refused whole by gRPC (one with a
    single oversized field gets to the edge, which names the field: test_request_bounds.py)."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.CreateTicket(
            report(description="x" * (MAX_REQUEST_BYTES + 1)), metadata=auth(desk.token("agent"))
        )
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
