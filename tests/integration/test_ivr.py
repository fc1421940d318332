"""IVR self-service on the real desk (seed 002 一): scripted calls over gRPC, as a switch makes them.

Fault numbers are Shanghai lines (exchange 021) with random digits ending in 9999, which the line test
simulator finds ABNORMAL (open circuit); numbers starting with 5 belong to no exchange. Contact numbers
are random too: a report from the same phone about the same category repeats that caller's open ticket.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, bad_fields
from tests.stack import RunningDesk

S = common_pb2
I = intake_pb2  # noqa: E741


def _line() -> str:
    return "021" + "".join(random.choices("0123456789", k=4)) + "9999"


def _contact() -> str:
    return "138" + "".join(random.choices("0123456789", k=8))


def codes(turn: I.IvrTurn) -> list[str]:
    return [p.code for p in turn.prompts]


class Call:
    """One call through the switch: every input answers the turn the call is at."""

    def __init__(self, desk: RunningDesk, role: str = "integrator") -> None:
        self.stub = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        self.metadata = auth(desk.token(role))
        self.call_id = f"sw1-{uuid.uuid4().hex}"
        self.turn = I.IvrTurn()

    async def dial(self) -> I.IvrTurn:
        request = I.StartIvrCallRequest(call_id=self.call_id, caller_number="02187654321")
        self.turn = await self.stub.StartIvrCall(request, metadata=self.metadata)
        return self.turn

    async def press(self, keys: str) -> I.IvrTurn:
        return await self._send(I.SendIvrInputRequest(call_id=self.call_id, input=keys, turn=self.turn.turn))

    async def silence(self) -> I.IvrTurn:
        return await self._send(
            I.SendIvrInputRequest(call_id=self.call_id, no_input=True, turn=self.turn.turn)
        )

    async def _send(self, request: I.SendIvrInputRequest) -> I.IvrTurn:
        self.turn = await self.stub.SendIvrInput(request, metadata=self.metadata)
        assert self.turn.turn == request.turn + 1
        return self.turn


async def report_by_phone(desk: RunningDesk, number: str) -> I.IvrTurn:
    """A whole call reporting the number's fault; ends at V7 (the offer to leave a message)."""
    call = Call(desk)
    assert codes(await call.dial()) == ["V1"]
    assert codes(await call.press(f"{number}#")) == ["V2"]
    assert codes(await call.press("1")) == ["V5"]  # exchange known, no outage, no open ticket, tested
    assert codes(await call.press(f"{_contact()}*no dial tone#")) == ["V6"]
    v9 = await call.press("1")
    assert codes(v9) == ["V9", "TEST_RESULT", "V7"]
    assert v9.prompts[1].params["variant"] == "ABNORMAL" and v9.ticket_id
    return v9


async def test_a_call_reports_a_fault_and_leaves_a_message(desk: RunningDesk) -> None:
    call, number, contact = Call(desk), _line(), _contact()
    assert (codes(await call.dial()), call.turn.turn, call.turn.awaiting) == (["V1"], 1, I.IVR_AWAITING_ENTRY)
    assert await call.dial() == call.turn  # the switch retried: the same call, the same turn
    v2 = await call.press(f"{number}#")
    assert (codes(v2), v2.prompts[0].params["number"]) == (["V2"], number)
    assert number in v2.prompts[0].text and v2.prompts[0].gloss.startswith("You entered")
    assert codes(await call.press("1")) == ["V5"]
    assert codes(await call.press(f"{contact}*no dial tone#")) == ["V6"]
    v9 = await call.press("1")
    assert codes(v9) == ["V9", "TEST_RESULT", "V7"] and "断线" in v9.prompts[1].text
    assert codes(await call.press("1")) == ["V8"] and call.turn.awaiting == I.IVR_AWAITING_RECORDING
    assert codes(await call.press("rec-42: please call before coming#")) == ["MESSAGE_PLAYBACK", "V10"]
    assert codes(await call.press("1")) == ["V11"]
    done = await call.press("2")
    assert (done.ended, done.end_reason, done.transfer_to_agent) == (True, I.IVR_END_REASON_DONE, False)
    assert await call.dial() == done  # starting an ended call again answers with its last turn
    got = await call.stub.GetIvrCall(I.GetIvrCallRequest(call_id=call.call_id), metadata=call.metadata)
    assert got == done
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await call.press("1")
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    agent = auth(desk.token("agent"))
    ticket = await call.stub.GetTicket(I.GetTicketRequest(ticket_id=v9.ticket_id), metadata=agent)
    assert (ticket.channel, ticket.handling, ticket.kind) == (
        S.CHANNEL_IVR,
        S.HANDLING_AUTOMATIC,
        S.TICKET_KIND_FAULT,
    )
    assert (ticket.fault_number, ticket.reporter.phone, ticket.category) == (number, contact, "network")
    assert (
        ticket.line_test.result == S.LINE_TEST_RESULT_ABNORMAL
        and ticket.line_test.fault_code == "OPEN_CIRCUIT"
    )
    assert "no dial tone" in ticket.summary and ticket.status == S.TICKET_STATUS_DISPATCHED
    timeline = {t.type: t for t in ticket.timeline}
    assert timeline["ticket.line_tested"].reason == ticket.line_test.detail
    assert "please call before coming" in timeline["ticket.supplemented"].reason
    assert ticket.supplement_count == 1


async def test_a_second_call_is_a_repeat_told_the_test_result_then_the_repairmans_word(
    desk: RunningDesk,
) -> None:
    number = _line()
    ticket_id = (await report_by_phone(desk, number)).ticket_id
    again = Call(desk)
    await again.dial()
    await again.press(number)
    offer = await again.press("1")
    assert (codes(offer), offer.ticket_id) == (["LAST_TEST_RESULT", "AGENT_OFFER"], ticket_id)
    assert "断线" in offer.prompts[0].text
    ended = await again.press("2")
    assert (ended.ended, ended.end_reason) == (True, I.IVR_END_REASON_REPEAT_ACKNOWLEDGED)

    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    ticket = await intake.GetTicket(I.GetTicketRequest(ticket_id=ticket_id), metadata=agent)
    assert ticket.repeat_count == 1
    [repeated] = [t for t in ticket.timeline if t.type == "ticket.repeated"]
    assert "channel=IVR" in repeated.detail

    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ops = auth(desk.token("ops_engineer:network"))
    [work_order] = ticket.work_orders
    await dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order.work_order_id, engineer="Wang Wu"),
        metadata=ops,
    )
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=work_order.work_order_id,
            cause="corroded jumper",
            action="replaced the jumper",
            engineer="Wang Wu",
        ),
        metadata=ops,
    )
    third = Call(desk)
    await third.dial()
    await third.press(number)
    offer = await third.press("1")
    assert codes(offer) == ["REPAIRMAN_MESSAGE", "AGENT_OFFER"]
    assert offer.prompts[0].params["message"] == "Wang Wu: replaced the jumper"
    agent_call = await third.press("1")
    assert (agent_call.end_reason, agent_call.transfer_to_agent) == (I.IVR_END_REASON_AGENT_REQUESTED, True)
    assert agent_call.ticket_id == ticket_id and agent_call.fault_number == number


async def test_a_line_in_an_active_outage_hears_v4(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    manager, number = auth(desk.token("manager")), _line()
    eta = timestamp_pb2.Timestamp()
    eta.FromDatetime(datetime.now(UTC) + timedelta(hours=2))
    outage = await intake.DeclareOutage(
        I.DeclareOutageRequest(
            request_id=f"out-{uuid.uuid4()}", exchanges=[number], cause="光缆施工", eta=eta
        ),
        metadata=manager,
    )
    try:
        call = Call(desk, role="manager")
        await call.dial()
        await call.press(number)
        v4 = await call.press("1")
        assert (v4.ended, v4.end_reason, v4.to_main_menu) == (True, I.IVR_END_REASON_KNOWN_OUTAGE, True)
        assert codes(v4) == ["V4"] and v4.prompts[0].params["variant"] == "outage"
        assert "光缆施工" in v4.prompts[0].text and "电信工程" in v4.prompts[0].text
    finally:
        await intake.ResolveOutage(
            I.ResolveOutageRequest(outage_id=outage.outage_id, resolution="spliced"), metadata=manager
        )


async def test_an_unknown_exchange_hears_v3_and_silence_goes_to_an_agent(desk: RunningDesk) -> None:
    call = Call(desk, role="agent")
    await call.dial()
    unknown = "5" + "".join(random.choices("0123456789", k=10))
    await call.press(f"{unknown}#")
    v3 = await call.press("1")
    assert (codes(v3), v3.awaiting) == (["V3"], I.IVR_AWAITING_ENTRY)
    assert codes(await call.silence()) == ["V1"]
    agent = await call.silence()
    assert (agent.end_reason, agent.transfer_to_agent) == (I.IVR_END_REASON_NUMBER_NOT_CAPTURED, True)


async def test_the_ivr_rpcs_check_their_input_and_callers(desk: RunningDesk) -> None:
    call = Call(desk)
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await call.stub.StartIvrCall(
            I.StartIvrCallRequest(call_id="a b", caller_number="x"), metadata=call.metadata
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(bad.value) == ["call_id", "caller_number"]
    with pytest.raises(grpc.aio.AioRpcError) as no_turn:
        await call.stub.SendIvrInput(I.SendIvrInputRequest(call_id=call.call_id), metadata=call.metadata)
    assert bad_fields(no_turn.value) == ["turn", "input"]
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await call.stub.GetIvrCall(I.GetIvrCallRequest(call_id=call.call_id), metadata=call.metadata)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await Call(desk, role="surveyor").dial()
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
