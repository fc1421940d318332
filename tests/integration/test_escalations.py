"""The manager hotline (经理热线) on the real stack: EscalationService in the survey process, its cases
opened by repeats and by desk agents, resolved once by managers, and their events on the stream once."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter
from typing import Any

import grpc
import pytest

from helpdesk.v1 import (
    escalation_pb2,
    escalation_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
)
from tests.integration.desk_client import auth, bad_fields, report, ticket_events, types
from tests.stack import RunningDesk, helpdesk

E = escalation_pb2


class Hotline:
    def __init__(self, desk: RunningDesk) -> None:
        self.desk = desk
        self.stub = escalation_pb2_grpc.EscalationServiceStub(desk.channel("survey"))
        self.intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        self.manager = auth(desk.token("manager"))
        self.agent = auth(desk.token("agent"))

    async def new_ticket(self, fault_number: str = "") -> str:
        fields = {"fault_number": fault_number} if fault_number else {}
        answer = await self.intake.CreateTicket(report(**fields), metadata=self.agent)
        return str(answer.ticket.ticket_id)

    async def open(
        self,
        ticket_id: str,
        source: E.EscalationSource.ValueType = E.ESCALATION_SOURCE_COMPLAINT,
        **more: Any,
    ) -> E.Escalation:
        request = E.OpenEscalationRequest(
            ticket_id=ticket_id, source=source, note="the customer is not satisfied", **more
        )
        opened: E.Escalation = await self.stub.OpenEscalation(request, metadata=self.agent)
        return opened

    async def resolve(self, escalation_id: str, request_id: str, **more: Any) -> E.Escalation:
        fields: dict[str, Any] = {
            "outcome": E.ESCALATION_OUTCOME_EXPLAINED,
            "note": "explained why",
        } | more
        request = E.ResolveEscalationRequest(escalation_id=escalation_id, request_id=request_id, **fields)
        resolved: E.Escalation = await self.stub.ResolveEscalation(request, metadata=self.manager)
        return resolved

    async def of_ticket(self, ticket_id: str, **more: Any) -> list[E.Escalation]:
        request = E.ListEscalationsRequest(ticket_id=ticket_id, **more)
        answer = await self.stub.ListEscalations(request, metadata=self.manager)
        return list(answer.escalations)


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_four_repeats_open_one_case_a_manager_resolves_once_and_each_event_is_on_the_stream_once(
    desk: RunningDesk,
) -> None:
    hotline, line = Hotline(desk), "021" + "".join(random.choices("0123456789", k=8))
    ticket_id = await hotline.new_ticket(line)
    for _ in range(5):
        await hotline.new_ticket(line)  # repeats of the same line: the fourth escalates
    [case] = await hotline.of_ticket(ticket_id)
    assert (case.source, case.status) == (E.ESCALATION_SOURCE_REPEATS, E.ESCALATION_STATUS_OPEN)

    request_id = f"resolve-{uuid.uuid4()}"
    first = await hotline.resolve(case.escalation_id, request_id)
    again = await hotline.resolve(case.escalation_id, request_id, note="a retry, other words")
    assert first == again and first.status == E.ESCALATION_STATUS_RESOLVED
    other = await refused(hotline.resolve(case.escalation_id, f"resolve-{uuid.uuid4()}"))
    assert other.code() == grpc.StatusCode.FAILED_PRECONDITION

    events = await ticket_events(
        desk.endpoints["nats"], ticket_id, until=lambda seen: "escalation.resolved" in types(seen)
    )
    counted = Counter(types(events))
    assert (counted["escalation.opened"], counted["escalation.resolved"], counted["ticket.escalated"]) == (
        1,
        1,
        1,
    )
    resolved = next(e for e in events if e.envelope.type == "escalation.resolved")
    assert resolved.subject == "helpdesk.escalation.resolved"
    assert resolved.envelope.payload["escalation_id"] == case.escalation_id


async def test_only_managers_list_resolve_and_set_the_rule(desk: RunningDesk) -> None:
    hotline = Hotline(desk)
    case = await hotline.open(await hotline.new_ticket())
    for role in ("agent", "senior_agent", "surveyor", "ops_engineer:network"):
        as_role = auth(desk.token(role))
        calls = [
            hotline.stub.ListEscalations(E.ListEscalationsRequest(), metadata=as_role),
            hotline.stub.ResolveEscalation(
                E.ResolveEscalationRequest(
                    escalation_id=case.escalation_id,
                    outcome=E.ESCALATION_OUTCOME_EXPLAINED,
                    note="n",
                    request_id="r",
                ),
                metadata=as_role,
            ),
            hotline.stub.SetCompensationRule(
                E.SetCompensationRuleRequest(rule=E.CompensationRule(cap_cents=1, currency="CNY")),
                metadata=as_role,
            ),
        ]
        for call in calls:
            assert (await refused(call)).code() == grpc.StatusCode.PERMISSION_DENIED, role
    [still] = await hotline.of_ticket(case.ticket_id)
    assert still.status == E.ESCALATION_STATUS_OPEN


async def test_bad_input_is_refused_by_field_and_unknown_ids_are_not_found(desk: RunningDesk) -> None:
    hotline = Hotline(desk)
    ticket_id = await hotline.new_ticket()
    bad_opening = await refused(
        hotline.stub.OpenEscalation(
            E.OpenEscalationRequest(ticket_id=ticket_id, source=E.ESCALATION_SOURCE_REPEATS, note=" "),
            metadata=hotline.agent,
        )
    )
    assert (bad_opening.code(), bad_fields(bad_opening)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["note", "source"],
    )
    unknown_ticket = await refused(hotline.open("TK-NO-SUCH-TICKET"))
    assert unknown_ticket.code() == grpc.StatusCode.NOT_FOUND

    case = await hotline.open(ticket_id)
    bad_resolution = await refused(
        hotline.resolve(case.escalation_id, "", outcome=E.ESCALATION_OUTCOME_UNSPECIFIED, note="")
    )
    assert bad_resolution.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(bad_resolution) == ["outcome", "note", "request_id"]
    negative = await refused(
        hotline.resolve(
            case.escalation_id,
            "r-1",
            outcome=E.ESCALATION_OUTCOME_COMPENSATED,
            responsibility=survey_pb2.RESPONSIBILITY_OPS_TEAM,
            compensation_cents=-100,
        )
    )
    assert bad_fields(negative) == ["compensation_cents"]
    not_ours = await refused(
        hotline.resolve(
            case.escalation_id,
            "r-2",
            outcome=E.ESCALATION_OUTCOME_COMPENSATED,
            responsibility=survey_pb2.RESPONSIBILITY_NOT_OURS,
        )
    )
    assert bad_fields(not_ours) == ["responsibility"]
    unknown = await refused(hotline.resolve("TK-NO-SUCH-E1", "r-3"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    [still] = await hotline.of_ticket(ticket_id)
    assert still.status == E.ESCALATION_STATUS_OPEN


async def test_the_queue_lists_open_cases_first_then_newest_page_by_page(desk: RunningDesk) -> None:
    hotline = Hotline(desk)
    ticket_id = await hotline.new_ticket()
    opening = f"open-{uuid.uuid4()}"
    complaint = await hotline.open(ticket_id, request_id=opening)
    refusal = await hotline.open(ticket_id, E.ESCALATION_SOURCE_REFUSED_ANSWER)
    dispute = await hotline.open(ticket_id, E.ESCALATION_SOURCE_DISPUTED_INVESTIGATION)
    assert await hotline.open(ticket_id, request_id=opening) == complaint  # a retried opening
    await hotline.resolve(refusal.escalation_id, f"resolve-{uuid.uuid4()}")

    first = await hotline.stub.ListEscalations(
        E.ListEscalationsRequest(ticket_id=ticket_id, page_size=2), metadata=hotline.manager
    )
    rest = await hotline.stub.ListEscalations(
        E.ListEscalationsRequest(ticket_id=ticket_id, page_size=2, page_token=first.next_page_token),
        metadata=hotline.manager,
    )
    pages = [[e.escalation_id for e in page.escalations] for page in (first, rest)]
    assert pages == [
        [dispute.escalation_id, complaint.escalation_id],
        [refusal.escalation_id],
    ]  # open, newest
    assert (bool(first.next_page_token), rest.next_page_token) == (True, "")
    resolved = await hotline.of_ticket(ticket_id, status=E.ESCALATION_STATUS_RESOLVED)
    assert [e.escalation_id for e in resolved] == [refusal.escalation_id]
    complaints = await hotline.of_ticket(ticket_id, source=E.ESCALATION_SOURCE_COMPLAINT)
    assert [e.escalation_id for e in complaints] == [complaint.escalation_id]


async def test_compensation_follows_the_rule_a_manager_sets(desk: RunningDesk) -> None:
    hotline = Hotline(desk)
    seeded = await hotline.stub.GetCompensationRule(E.GetCompensationRuleRequest(), metadata=hotline.manager)
    assert (seeded.currency, seeded.version >= 1) == ("CNY", True)
    bad = await refused(
        hotline.stub.SetCompensationRule(
            E.SetCompensationRuleRequest(rule=E.CompensationRule(amount_per_hour_cents=-1, currency="CNY")),
            metadata=hotline.manager,
        )
    )
    assert bad_fields(bad) == ["rule.amount_per_hour_cents"]
    rule = E.CompensationRule(amount_per_hour_cents=800, cap_cents=2000, currency="CNY")
    newer = await hotline.stub.SetCompensationRule(
        E.SetCompensationRuleRequest(rule=rule), metadata=hotline.manager
    )
    assert (newer.version, newer.updated_by != "") == (seeded.version + 1, True)

    case = await hotline.open(await hotline.new_ticket())
    over_cap = await refused(
        hotline.resolve(
            case.escalation_id,
            "r-1",
            outcome=E.ESCALATION_OUTCOME_COMPENSATED,
            responsibility=survey_pb2.RESPONSIBILITY_SERVICE_DESK,
            compensation_cents=2001,
        )
    )
    assert bad_fields(over_cap) == ["compensation_cents"]
    nothing_due = await refused(
        hotline.resolve(
            case.escalation_id,
            "r-2",
            outcome=E.ESCALATION_OUTCOME_COMPENSATED,
            responsibility=survey_pb2.RESPONSIBILITY_SERVICE_DESK,
        )
    )
    assert nothing_due.code() == grpc.StatusCode.FAILED_PRECONDITION  # not past its resolution deadline
    compensated = await hotline.resolve(
        case.escalation_id,
        "r-3",
        outcome=E.ESCALATION_OUTCOME_COMPENSATED,
        responsibility=survey_pb2.RESPONSIBILITY_SERVICE_DESK,
        compensation_cents=1500,
    )
    assert (compensated.compensation_cents, compensated.currency, compensated.rule_version) == (
        1500,
        "CNY",
        newer.version,
    )
    restored = E.CompensationRule(
        amount_per_hour_cents=seeded.amount_per_hour_cents,
        cap_cents=seeded.cap_cents,
        currency=seeded.currency,
    )
    await hotline.stub.SetCompensationRule(
        E.SetCompensationRuleRequest(rule=restored), metadata=hotline.manager
    )
    ticket = await hotline.intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=case.ticket_id), metadata=hotline.agent
    )
    timeline = [(t.type, t.reason) for t in ticket.timeline if t.type.startswith("escalation.")]
    assert timeline == [
        ("escalation.opened", "the customer is not satisfied"),
        ("escalation.resolved", "explained why"),
    ]  # the ticket's record shows the case once the RPC has answered


async def test_a_manager_lists_and_resolves_from_the_command_line(desk: RunningDesk) -> None:
    hotline = Hotline(desk)
    case = await hotline.open(await hotline.new_ticket())
    env = dict(os.environ, HELPDESK_DATA_DIR=str(desk.data_dir))
    status, output = await helpdesk(
        "escalation", "list", "--ticket", case.ticket_id, "--status", "OPEN", env=env
    )
    assert status == 0, output
    [listed] = json.loads(output)["escalations"]
    assert (listed["escalationId"], listed["source"]) == (case.escalation_id, "ESCALATION_SOURCE_COMPLAINT")
    resolve = (
        "escalation",
        "resolve",
        case.escalation_id,
        "--outcome",
        "REFERRED",
        "--note",
        "to the branch",
    )
    status, output = await helpdesk(*resolve, "--request-id", "cli-1", env=env)
    assert (status, json.loads(output)["outcome"]) == (0, "ESCALATION_OUTCOME_REFERRED")
    status, output = await helpdesk(*resolve, "--request-id", "cli-2", env=env)
    assert (status, output.split(":")[0]) == (1, "FAILED_PRECONDITION")
    status, output = await helpdesk("escalation", "list", "--as", "agent", env=env)
    assert (status, output.split(":")[0]) == (1, "PERMISSION_DENIED")
