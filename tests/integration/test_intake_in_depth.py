"""Intake in depth on the real stack: repeats, supplements, first contact, cancel, known outages.

Fault numbers are Shanghai lines (exchange 021) with random digits, so tests sharing the desk never
repeat each other's reports.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import asyncpg
import grpc
import pytest
from google.protobuf import timestamp_pb2

from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc, survey_pb2, survey_pb2_grpc
from tests.integration.desk_client import auth, bad_fields, report
from tests.stack import RunningDesk

S = common_pb2
I = intake_pb2  # noqa: E741


def _line() -> str:
    return "021" + "".join(random.choices("0123456789", k=8))


def _caller() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


class Intake:
    def __init__(self, desk: RunningDesk) -> None:
        self.desk = desk
        self.stub = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))

    def as_(self, role: str) -> tuple[tuple[str, str], ...]:
        return auth(self.desk.token(role))

    async def report(self, **fields: object) -> I.CreateTicketResponse:
        answer: I.CreateTicketResponse = await self.stub.CreateTicket(
            report(**fields), metadata=self.as_("agent")
        )
        return answer

    async def ticket(self, ticket_id: str) -> S.Ticket:
        ticket: S.Ticket = await self.stub.GetTicket(
            I.GetTicketRequest(ticket_id=ticket_id), metadata=self.as_("agent")
        )
        return ticket


async def test_fifty_concurrent_identical_reports_make_one_ticket_with_49_repeats(desk: RunningDesk) -> None:
    intake, line = Intake(desk), _line()
    answers = await asyncio.gather(*(intake.report(fault_number=line) for _ in range(50)))
    assert len({a.ticket.ticket_id for a in answers}) == 1
    assert Counter(a.outcome for a in answers) == {I.CREATE_OUTCOME_CREATED: 1, I.CREATE_OUTCOME_REPEAT: 49}
    ticket = await intake.ticket(answers[0].ticket.ticket_id)
    assert (ticket.repeat_count, ticket.escalated) == (49, True)  # past 3 repeats: the manager hotline
    timeline = Counter(t.type for t in ticket.timeline)
    assert (timeline["ticket.repeated"], timeline["ticket.escalated"]) == (49, 1)


async def test_a_repeat_answers_with_progress_and_a_retry_counts_once(desk: RunningDesk) -> None:
    intake, line, caller = Intake(desk), _line(), _caller()
    first = await intake.report(fault_number=line, reporter=S.Reporter(name="Li Lei", phone=caller))
    assert first.outcome == I.CREATE_OUTCOME_CREATED
    same_caller = report(
        fault_number="", reporter=S.Reporter(name="Li Lei", phone=caller)
    )  # same phone + category
    repeat = await intake.stub.CreateTicket(same_caller, metadata=intake.as_("agent"))
    again = await intake.stub.CreateTicket(
        same_caller, metadata=intake.as_("agent")
    )  # a retry of that request
    assert (repeat.outcome, repeat.ticket.ticket_id) == (I.CREATE_OUTCOME_REPEAT, first.ticket.ticket_id)
    assert again.ticket.repeat_count == repeat.ticket.repeat_count == 1
    assert (first.replayed, repeat.replayed, again.replayed) == (False, False, True)
    assert "team network" in repeat.progress and "line test" in repeat.progress


async def test_a_supplement_is_on_the_record_and_sent_to_the_team(desk: RunningDesk) -> None:
    intake = Intake(desk)
    ticket = (await intake.report(fault_number=_line())).ticket
    supplemented = await intake.stub.AddSupplement(
        I.AddSupplementRequest(ticket_id=ticket.ticket_id, text="the fax line is dead too"),
        metadata=intake.as_("agent"),
    )
    assert supplemented.supplement_count == 1
    types = [t.type for t in supplemented.timeline]
    assert "ticket.supplemented" in types and "dispatch.supplemented" in types
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await intake.stub.AddSupplement(
            I.AddSupplementRequest(ticket_id=ticket.ticket_id), metadata=intake.as_("agent")
        )
    assert bad_fields(empty.value) == ["text"]


async def test_resolved_at_first_contact_then_called_back_and_closed(desk: RunningDesk) -> None:
    intake = Intake(desk)
    ticket = (await intake.report(fault_number=_line())).ticket
    resolved = await intake.stub.ResolveAtFirstContact(
        I.ResolveAtFirstContactRequest(ticket_id=ticket.ticket_id, resolution="reset the ONT together"),
        metadata=intake.as_("agent"),
    )
    assert (resolved.status, resolved.resolved_at_first_contact) == (S.TICKET_STATUS_RESOLVED, True)
    assert resolved.work_orders[0].status == S.WORK_ORDER_STATUS_CANCELLED
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    closed = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(ticket_id=ticket.ticket_id, reached=True, confirmed_resolved=True),
        metadata=intake.as_("surveyor"),
    )
    assert closed.ticket_status == S.TICKET_STATUS_CLOSED
    fresh = await intake.report(fault_number=ticket.fault_number)  # closed: a new report is a new ticket
    assert fresh.outcome == I.CREATE_OUTCOME_CREATED and fresh.ticket.ticket_id != ticket.ticket_id


async def test_a_cancelled_ticket_needs_a_reason_and_takes_no_more_changes(desk: RunningDesk) -> None:
    intake = Intake(desk)
    ticket = (await intake.report(fault_number=_line())).ticket
    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await intake.stub.CancelTicket(
            I.CancelTicketRequest(ticket_id=ticket.ticket_id), metadata=intake.as_("agent")
        )
    assert bad_fields(no_reason.value) == ["reason"]
    cancelled = await intake.stub.CancelTicket(
        I.CancelTicketRequest(ticket_id=ticket.ticket_id, reason="duplicate of a call an hour ago"),
        metadata=intake.as_("agent"),
    )
    assert (cancelled.status, cancelled.cancel_reason) == (
        S.TICKET_STATUS_CANCELLED,
        "duplicate of a call an hour ago",
    )
    with pytest.raises(grpc.aio.AioRpcError) as after:
        await intake.stub.AddSupplement(
            I.AddSupplementRequest(ticket_id=ticket.ticket_id, text="x"), metadata=intake.as_("agent")
        )
    assert after.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_reports_of_a_known_outage_wait_for_its_repair_then_go_to_callback(desk: RunningDesk) -> None:
    intake = Intake(desk)
    prefix = "021" + "".join(random.choices("0123456789", k=4))
    eta = timestamp_pb2.Timestamp()
    eta.GetCurrentTime()
    eta.seconds += 4 * 3600
    outage = await intake.stub.DeclareOutage(
        I.DeclareOutageRequest(
            request_id=f"cut-{prefix}", exchanges=[prefix], cause="fibre cut by roadworks", eta=eta
        ),
        metadata=intake.as_("senior_agent"),
    )
    assert outage.active and outage.eta == eta
    answers = [
        await intake.report(fault_number=prefix + f"{i:04d}", reporter=S.Reporter(name="Li", phone=_caller()))
        for i in range(3)
    ]
    assert {a.outcome for a in answers} == {I.CREATE_OUTCOME_KNOWN_OUTAGE}
    assert all(a.outage.eta == eta and a.ticket.outage_id == outage.outage_id for a in answers)
    assert all(a.ticket.status == S.TICKET_STATUS_OPEN and not a.ticket.work_orders for a in answers)
    elsewhere = await intake.report(fault_number=_line(), reporter=S.Reporter(name="Li", phone=_caller()))
    assert elsewhere.outcome == I.CREATE_OUTCOME_CREATED

    resolved = await intake.stub.ResolveOutage(
        I.ResolveOutageRequest(outage_id=outage.outage_id, resolution="fibre spliced"),
        metadata=intake.as_("senior_agent"),
    )
    assert not resolved.active and sorted(resolved.ticket_ids) == sorted(a.ticket.ticket_id for a in answers)
    for answer in answers:
        seen = await intake.ticket(answer.ticket.ticket_id)
        assert seen.status == S.TICKET_STATUS_RESOLVED
        assert [d.kind for d in seen.deadlines] == [S.DEADLINE_KIND_CALLBACK]
    after = await intake.report(fault_number=prefix + "9998", reporter=S.Reporter(name="Li", phone=_caller()))
    assert after.outcome == I.CREATE_OUTCOME_CREATED  # the outage is over
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await intake.stub.DeclareOutage(
            I.DeclareOutageRequest(request_id="x", cause=""), metadata=intake.as_("manager")
        )
    assert sorted(bad_fields(bad.value)) == ["cause", "exchanges"]


async def test_keys_of_a_ticket_that_never_started_are_let_go(desk: RunningDesk) -> None:
    """A CreateTicket that died between its claim and its workflow, never retried, blocks nothing for long."""
    intake, line = Intake(desk), _line()
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:  # what such a crash leaves: the claim and the keys, long ago, and no ticket
        await conn.execute(
            "INSERT INTO intake.requests (request_id, ticket_id, fingerprint, created_at)"
            " VALUES ($1, $2, '\\x00', now() - interval '1 hour')",
            f"ghost-{line}",
            f"TKGHOST{line}",
        )
        await conn.execute(
            "INSERT INTO intake.open_reports (report_key, ticket_id, held_since)"
            " VALUES ($1, $2, now() - interval '1 hour')",
            f"fault:{line}",
            f"TKGHOST{line}",
        )
    finally:
        await conn.close()
    request = report(fault_number=line)
    with pytest.raises(grpc.aio.AioRpcError) as first:
        await intake.stub.CreateTicket(request, metadata=intake.as_("agent"))
    assert first.value.code() == grpc.StatusCode.UNAVAILABLE
    retried = await intake.stub.CreateTicket(request, metadata=intake.as_("agent"))
    assert retried.outcome == I.CREATE_OUTCOME_CREATED and retried.ticket.fault_number == line
