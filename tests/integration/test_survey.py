"""Surveys over gRPC on the real stack: answering once, the refusals, the investigation's findings,
and one ticket's whole after-care: unsatisfied, OPS_TEAM, a reviewed second dispatch, a new survey,
the archive, with every step's event on the stream exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
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
from services.survey import repository
from tests.integration.desk_client import auth, bad_fields, report, ticket_events, types
from tests.stack import RunningDesk

S = common_pb2
V = survey_pb2


class Desk:
    """The stubs and roles a surveyor's day needs."""

    def __init__(self, desk: RunningDesk) -> None:
        self.intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        self.dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
        self.survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
        self.agent, self.senior = auth(desk.token("agent")), auth(desk.token("senior_agent"))
        self.ops, self.surveyor = auth(desk.token("ops_engineer:software")), auth(desk.token("surveyor"))

    async def resolved(self) -> str:
        ticket = (await self.intake.CreateTicket(report(category="software"), metadata=self.agent)).ticket
        await self.resolve(ticket.work_orders[0].work_order_id)
        return str(ticket.ticket_id)

    async def resolve(self, work_order_id: str) -> None:
        request = dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=work_order_id, cause="bug", action="patched", engineer="Qian"
        )
        await self.dispatch.ResolveWorkOrder(request, metadata=self.ops)

    async def closed(self) -> str:
        ticket_id = await self.resolved()
        await self.call_back(ticket_id, "cb-1")
        return ticket_id

    async def call_back(self, ticket_id: str, request_id: str) -> V.Callback:
        request = V.RecordCallbackRequest(
            ticket_id=ticket_id, reached=True, confirmed_resolved=True, request_id=request_id
        )
        callback: V.Callback = await self.survey.RecordCallback(request, metadata=self.surveyor)
        return callback

    async def submit(self, ticket_id: str, rating: V.Rating.ValueType, request_id: str) -> V.Survey:
        request = V.SubmitSurveyRequest(ticket_id=ticket_id, rating=rating, comment="", request_id=request_id)
        survey: V.Survey = await self.survey.SubmitSurvey(request, metadata=self.surveyor)
        return survey

    async def ticket(self, ticket_id: str) -> common_pb2.Ticket:
        request = intake_pb2.GetTicketRequest(ticket_id=ticket_id)
        ticket: common_pb2.Ticket = await self.intake.GetTicket(request, metadata=self.agent)
        return ticket


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


async def test_a_survey_is_answered_once_and_bad_submissions_are_refused(desk: RunningDesk) -> None:
    d = Desk(desk)
    unknown = await refused(d.submit("T-NO-SUCH", V.RATING_SATISFIED, "x"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    still_resolved = await d.resolved()
    not_closed = await refused(d.submit(still_resolved, V.RATING_SATISFIED, "x"))
    assert not_closed.code() == grpc.StatusCode.FAILED_PRECONDITION

    ticket_id = await d.closed()
    opened = await d.survey.GetSurvey(V.GetSurveyRequest(ticket_id=ticket_id), metadata=d.surveyor)
    assert (opened.round, opened.status) == (1, V.SURVEY_STATUS_OPEN)
    unrated = await refused(d.submit(ticket_id, V.RATING_UNSPECIFIED, "s0"))
    assert bad_fields(unrated) == ["rating"]

    answered = await d.submit(ticket_id, V.RATING_SATISFIED, "s1")
    assert await d.submit(ticket_id, V.RATING_SATISFIED, "s1") == answered
    other = await refused(d.submit(ticket_id, V.RATING_UNSATISFIED, "s2"))
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    stored = await d.survey.GetSurvey(V.GetSurveyRequest(ticket_id=ticket_id), metadata=d.surveyor)
    assert (stored.status, stored.rating, stored.request_id) == (
        V.SURVEY_STATUS_ANSWERED,
        V.RATING_SATISFIED,
        "s1",
    )
    missing = await refused(
        d.survey.GetSurvey(V.GetSurveyRequest(ticket_id="T-NO-SUCH"), metadata=d.surveyor)
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_a_service_desk_finding_is_in_the_violations_ledger_with_its_source(desk: RunningDesk) -> None:
    d = Desk(desk)
    ticket_id = await d.closed()
    await d.submit(ticket_id, V.RATING_UNSATISFIED, "s1")
    empty = await refused(
        d.survey.RecordInvestigation(
            V.RecordInvestigationRequest(ticket_id=ticket_id, responsibility=V.RESPONSIBILITY_SERVICE_DESK),
            metadata=d.surveyor,
        )
    )
    assert bad_fields(empty) == ["finding", "staff_id"]

    found = await d.survey.RecordInvestigation(
        V.RecordInvestigationRequest(
            ticket_id=ticket_id,
            responsibility=V.RESPONSIBILITY_SERVICE_DESK,
            finding="hung up on the customer",
            staff_id="agent-42",
            request_id="i1",
        ),
        metadata=d.surveyor,
    )
    assert (found.responsibility, found.staff_id) == (V.RESPONSIBILITY_SERVICE_DESK, "agent-42")
    ledger = await d.dispatch.ListViolations(
        dispatch_pb2.ListViolationsRequest(agent_id="agent-42"), metadata=d.surveyor
    )
    [violation] = [v for v in ledger.violations if v.ticket_id == ticket_id]
    assert (violation.source, violation.team_id) == (S.VIOLATION_SOURCE_INVESTIGATION, "service-desk")


@pytest.fixture
async def quick_archive(desk: RunningDesk) -> AsyncIterator[None]:
    """The desk files a done ticket a second after (instead of the next day), for this test only."""
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        before = await repository.get_policy(db=conn)
        await repository.put_policy(db=conn, policy=replace(before, archive_delay_seconds=1.0))
        yield
        await repository.put_policy(db=conn, policy=replace(before, version=0))
    finally:
        await conn.close()


async def test_unsatisfied_ops_team_second_dispatch_new_survey_and_archive(
    desk: RunningDesk, quick_archive: None
) -> None:
    d = Desk(desk)
    ticket_id = await d.closed()
    await d.submit(ticket_id, V.RATING_UNSATISFIED, "s1")
    await d.survey.RecordInvestigation(
        V.RecordInvestigationRequest(
            ticket_id=ticket_id, responsibility=V.RESPONSIBILITY_OPS_TEAM, finding="patch incomplete"
        ),
        metadata=d.surveyor,
    )
    reopened = await d.ticket(ticket_id)
    second = reopened.work_orders[-1]
    assert (reopened.status, second.status, second.dispatch_kind) == (
        S.TICKET_STATUS_PENDING_REVIEW,
        S.WORK_ORDER_STATUS_PENDING_REVIEW,
        S.DISPATCH_KIND_SECOND_DISPATCH,
    )
    await d.dispatch.ReviewWorkOrder(
        dispatch_pb2.ReviewWorkOrderRequest(work_order_id=second.work_order_id, approve=True),
        metadata=d.senior,
    )
    await d.resolve(second.work_order_id)
    assert (await d.call_back(ticket_id, "cb-2")).ticket_status == S.TICKET_STATUS_CLOSED
    satisfied = await d.submit(ticket_id, V.RATING_SATISFIED, "s2")
    assert (satisfied.round, satisfied.rating) == (2, V.RATING_SATISFIED)

    for _ in range(100):
        archived = await d.ticket(ticket_id)
        if archived.status == S.TICKET_STATUS_ARCHIVED:
            break
        await asyncio.sleep(0.1)
    assert archived.status == S.TICKET_STATUS_ARCHIVED and archived.second_dispatch_count == 1
    listed = await d.intake.ListTickets(
        intake_pb2.ListTicketsRequest(status=S.TICKET_STATUS_ARCHIVED, page_size=500), metadata=d.agent
    )
    assert ticket_id in {t.ticket_id for t in listed.tickets}

    events = await ticket_events(
        desk.endpoints["nats"], ticket_id, until=lambda e: "ticket.archived" in types(e)
    )
    assert len({e.msg_id for e in events}) == len(events)  # each event once
    counted = Counter(types(events))
    assert {t: counted[t] for t in AFTER_CARE_STEPS} == AFTER_CARE_STEPS


AFTER_CARE_STEPS = {
    "survey.callback_recorded": 2,
    "ticket.closed": 2,
    "survey.submitted": 2,
    "survey.investigated": 1,
    "review.requested": 1,
    "review.approved": 1,
    "dispatch.created": 2,
    "dispatch.resolved": 2,
    "ticket.resolved": 2,
    "ticket.archived": 1,
    "survey.expired": 0,
}


async def test_the_command_line_records_a_callback_and_answers_the_survey(
    desk: RunningDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.client import run_client_command
    from cli.main import build_parser
    from desk.config import load_settings

    settings = load_settings({"HELPDESK_DATA_DIR": str(desk.data_dir)})

    def helpdesk(*argv: str) -> dict[str, object]:
        assert run_client_command(build_parser().parse_args(argv), settings) == 0
        answer: dict[str, object] = json.loads(capsys.readouterr().out)
        return answer

    d = Desk(desk)
    ticket_id = await d.resolved()
    queue = helpdesk("survey", "pending", "--page-size", "500")
    assert ticket_id in {c["ticketId"] for c in queue["callbacks"]}  # type: ignore[attr-defined]
    first = helpdesk("callback", ticket_id, "--not-reached", "--reason", "no answer", "--request-id", "c1")
    assert (
        helpdesk("callback", ticket_id, "--not-reached", "--reason", "no answer", "--request-id", "c1")
        == first
    )
    assert (first["attempt"], first["requestId"]) == (1, "c1")
    helpdesk("callback", ticket_id)
    answered = helpdesk("survey", "submit", ticket_id, "--rating", "NEUTRAL", "--request-id", "q1")
    assert helpdesk("survey", "show", ticket_id) == answered
    assert (answered["rating"], answered["status"]) == ("RATING_NEUTRAL", "SURVEY_STATUS_ANSWERED")
