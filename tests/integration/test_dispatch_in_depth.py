"""Dispatch in depth on the real stack: teams, routing rules, review, chases, returns, on-site sign-off.

Each test names its own categories and teams (suffix ``_tag()``) so tests sharing the session's desk
cannot route each other's tickets.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import asyncpg
import grpc
import nats
import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from desk.events import STREAM, team_consumer_name
from desk.records import from_json
from domain.deadlines import derive
from domain.ticket import TicketView
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, bad_fields, report, ticket_events, types
from tests.stack import RunningDesk

S = common_pb2
D = dispatch_pb2


def _tag() -> str:
    return uuid.uuid4().hex[:6]


def _hours(value: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromSeconds(int(value * 3600))
    return d


class Desk:
    """Stubs and tokens for one test."""

    def __init__(self, desk: RunningDesk) -> None:
        self.desk = desk
        self.intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        self.dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))

    def as_(self, role: str) -> tuple[tuple[str, str], ...]:
        return auth(self.desk.token(role))

    async def team(self, team_id: str, categories: list[str], **fields: object) -> S.Team:
        team = S.Team(team_id=team_id, name=f"team {team_id}", categories=categories, active=True, **fields)  # type: ignore[arg-type]
        saved: S.Team = await self.dispatch.UpsertTeam(
            D.UpsertTeamRequest(team=team), metadata=self.as_("manager")
        )
        return saved

    async def create(self, **fields: object) -> S.Ticket:
        response = await self.intake.CreateTicket(report(**fields), metadata=self.as_("agent"))
        ticket: S.Ticket = response.ticket
        return ticket

    async def ticket(self, ticket_id: str) -> S.Ticket:
        request = intake_pb2.GetTicketRequest(ticket_id=ticket_id)
        ticket: S.Ticket = await self.intake.GetTicket(request, metadata=self.as_("agent"))
        return ticket


async def test_teams_and_routing_rules_decide_where_a_ticket_goes(desk: RunningDesk) -> None:
    d, tag = Desk(desk), _tag()
    category = f"tv-{tag}"
    await d.team(f"tv-all-{tag}", [category])
    south = await d.team(f"tv-south-{tag}", [category], regions=["south"], time_zone="Asia/Urumqi")
    assert (list(south.regions), south.time_zone, south.calendar) == (
        ["south"],
        "Asia/Urumqi",
        S.CALENDAR_24X7,
    )
    listed = await d.dispatch.ListTeams(D.ListTeamsRequest(), metadata=d.as_("agent"))
    assert {f"tv-all-{tag}", f"tv-south-{tag}"} <= {t.team_id for t in listed.teams}
    nc = await nats.connect(desk.endpoints["nats"])
    try:  # a new team has its durable consumer before any work order is published to it
        consumer = await nc.jetstream().consumer_info(STREAM, team_consumer_name(f"tv-south-{tag}"))
    finally:
        await nc.close()
    assert consumer.config.filter_subject == f"helpdesk.dispatch.tv-south-{tag}.>"

    # Coverage: the team naming the region wins over the one covering every region.
    assert (await d.create(category=category, region="south")).assigned_team_id == f"tv-south-{tag}"
    assert (await d.create(category=category, region="north")).assigned_team_id == f"tv-all-{tag}"

    # Rules come first: most specific wins; a rule without a team keeps tickets at the desk.
    manager = d.as_("manager")
    rules = [
        S.RoutingRule(rule_id=f"east-{tag}", category=category, region="east", team_id="software"),
        S.RoutingRule(
            rule_id=f"east-vip-{tag}",
            category=category,
            region="east",
            customer_tier=S.CUSTOMER_TIER_VIP,
            team_id="network",
        ),
        S.RoutingRule(rule_id=f"west-{tag}", category=category, region="west", team_id=""),
    ]
    for rule in rules:
        await d.dispatch.PutRoutingRule(D.PutRoutingRuleRequest(rule=rule), metadata=manager)
    assert (await d.create(category=category, region="east")).assigned_team_id == "software"
    vip = await d.create(category=category, region="east", customer_tier=S.CUSTOMER_TIER_VIP)
    assert (vip.status, vip.work_orders[0].team_id) == (S.TICKET_STATUS_PENDING_REVIEW, "network")
    held = await d.create(category=category, region="west")
    assert (held.status, held.assigned_team_id, list(held.work_orders)) == (S.TICKET_STATUS_OPEN, "", [])

    await d.dispatch.DeleteRoutingRule(D.DeleteRoutingRuleRequest(rule_id=f"west-{tag}"), metadata=manager)
    assert (await d.create(category=category, region="west")).assigned_team_id == f"tv-all-{tag}"
    listed_rules = await d.dispatch.ListRoutingRules(D.ListRoutingRulesRequest(), metadata=d.as_("agent"))
    assert {f"east-{tag}", f"east-vip-{tag}"} <= {r.rule_id for r in listed_rules.rules}


async def test_bad_teams_and_rules_are_refused_naming_the_field(desk: RunningDesk) -> None:
    d, tag = Desk(desk), _tag()
    with pytest.raises(grpc.aio.AioRpcError) as bad_zone:
        await d.team(f"x-{tag}", ["x"], time_zone="Mars/Olympus")
    assert bad_zone.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(bad_zone.value) == ["team.time_zone"]
    with pytest.raises(grpc.aio.AioRpcError) as unknown_team:
        rule = S.RoutingRule(rule_id=f"r-{tag}", category="network", region="x", team_id=f"nobody-{tag}")
        await d.dispatch.PutRoutingRule(D.PutRoutingRuleRequest(rule=rule), metadata=d.as_("manager"))
    assert bad_fields(unknown_team.value) == ["rule.team_id"]
    with pytest.raises(grpc.aio.AioRpcError) as not_a_manager:
        await d.team(f"y-{tag}", ["y"])  # as the manager, but an agent may not:
        await d.dispatch.UpsertTeam(
            D.UpsertTeamRequest(team=S.Team(team_id=f"z-{tag}", name="z")), metadata=d.as_("agent")
        )
    assert not_a_manager.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_junior_agents_dispatch_is_reviewed_by_a_senior_agent(desk: RunningDesk) -> None:
    d = Desk(desk)
    ticket = await d.create(category=f"nobody-{_tag()}")  # no team takes it: at the desk
    proposed = await d.dispatch.DispatchTicket(
        D.DispatchTicketRequest(ticket_id=ticket.ticket_id, team_id="network", reason="line fault"),
        metadata=d.as_("agent"),
    )
    assert (proposed.status, proposed.dispatched_by) == (S.WORK_ORDER_STATUS_PENDING_REVIEW, "dev-agent")
    assert (await d.ticket(ticket.ticket_id)).status == S.TICKET_STATUS_PENDING_REVIEW

    approve = D.ReviewWorkOrderRequest(work_order_id=proposed.work_order_id, approve=True, team_id="software")
    with pytest.raises(grpc.aio.AioRpcError) as junior:
        await d.dispatch.ReviewWorkOrder(approve, metadata=d.as_("agent"))
    assert junior.value.code() == grpc.StatusCode.PERMISSION_DENIED
    approved = await d.dispatch.ReviewWorkOrder(approve, metadata=d.as_("senior_agent"))
    assert (approved.status, approved.team_id, approved.reviewed_by) == (
        S.WORK_ORDER_STATUS_DISPATCHED,
        "software",
        "dev-senior_agent",
    )
    again = await d.dispatch.ReviewWorkOrder(approve, metadata=d.as_("senior_agent"))  # a retry: same answer
    assert again == approved
    seen = await d.ticket(ticket.ticket_id)
    assert (seen.status, seen.assigned_team_id) == (S.TICKET_STATUS_DISPATCHED, "software")
    assert [t.type for t in seen.timeline][-3:] == ["review.requested", "review.approved", "dispatch.created"]

    other = await d.create(category=f"nobody-{_tag()}")
    senior_dispatch = await d.dispatch.DispatchTicket(
        D.DispatchTicketRequest(ticket_id=other.ticket_id, team_id="network", reason="known fault"),
        metadata=d.as_("senior_agent"),
    )
    assert senior_dispatch.status == S.WORK_ORDER_STATUS_DISPATCHED  # a senior agent needs no review


async def test_a_hundred_concurrent_chases_count_exactly_a_hundred(desk: RunningDesk) -> None:
    d = Desk(desk)
    ticket = await d.create(category="network")
    work_order_id = ticket.work_orders[0].work_order_id

    async def chase(request_id: str) -> S.WorkOrder:
        request = D.ChaseWorkOrderRequest(
            work_order_id=work_order_id, note="customer waiting", request_id=request_id
        )
        chased: S.WorkOrder = await d.dispatch.ChaseWorkOrder(request, metadata=d.as_("agent"))
        return chased

    results = await asyncio.gather(*(chase(f"chase-{i}") for i in range(100)))
    assert sorted(r.chase_count for r in results) == list(range(1, 101))
    assert (await chase("chase-7")).chase_count == results[7].chase_count  # a retry counts once
    seen = await d.ticket(ticket.ticket_id)
    assert seen.work_orders[0].chase_count == 100
    events = await ticket_events(
        desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: types(ev).count("dispatch.chased") >= 100
    )
    chased = [e for e in events if e.envelope.type == "dispatch.chased"]
    assert len(chased) == 100 and len({e.msg_id for e in chased}) == 100
    assert {e.subject for e in chased} == {"helpdesk.dispatch.network.chased"}


async def test_a_return_goes_to_the_desk_and_a_second_team_gets_fresh_deadlines(desk: RunningDesk) -> None:
    d = Desk(desk)
    ticket = await d.create(category="network")
    first = ticket.work_orders[0]
    returned = await d.dispatch.ReturnWorkOrder(
        D.ReturnWorkOrderRequest(work_order_id=first.work_order_id, reason="not our equipment"),
        metadata=d.as_("ops_engineer:network"),
    )
    assert returned.status == S.WORK_ORDER_STATUS_RETURNED
    at_desk = await d.ticket(ticket.ticket_id)
    assert (at_desk.status, at_desk.assigned_team_id) == (S.TICKET_STATUS_OPEN, "")

    second = await d.dispatch.DispatchTicket(
        D.DispatchTicketRequest(ticket_id=ticket.ticket_id, team_id="software", reason="gateway"),
        metadata=d.as_("senior_agent"),
    )
    assert (second.sequence, second.team_id, second.status) == (2, "software", S.WORK_ORDER_STATUS_DISPATCHED)
    seen = await d.ticket(ticket.ticket_id)
    responses = {x.work_order_id: x for x in seen.deadlines if x.kind == S.DEADLINE_KIND_RESPONSE}
    assert responses[first.work_order_id].state == S.DEADLINE_STATE_MET
    fresh = responses[second.work_order_id]
    assert fresh.state == S.DEADLINE_STATE_PENDING and fresh.started_at == second.created_at
    assert fresh.due_at.ToDatetime() > responses[first.work_order_id].due_at.ToDatetime()
    assert Counter(t.type for t in seen.timeline)["dispatch.created"] == 2


async def test_a_policy_change_applies_to_later_work_orders_and_deadlines_re_derive_exactly(
    desk: RunningDesk,
) -> None:
    d, tag = Desk(desk), _tag()
    team_id = f"biz-{tag}"
    await d.team(team_id, [team_id], calendar=S.CALENDAR_BUSINESS_5X8, time_zone="Asia/Shanghai")
    policy = S.SlaPolicy(
        priority=S.PRIORITY_P4,
        team_id=team_id,
        response_target=_hours(3),
        resolution_target=_hours(20),
        callback_target=_hours(8),
    )
    v1 = await d.dispatch.SetSlaPolicy(D.SetSlaPolicyRequest(policy=policy), metadata=d.as_("manager"))
    ticket = await d.create(category=team_id, priority=S.PRIORITY_P4)
    assert ticket.work_orders[0].sla_policy_version == v1.version

    policy.response_target.CopyFrom(_hours(1))
    v2 = await d.dispatch.SetSlaPolicy(D.SetSlaPolicyRequest(policy=policy), metadata=d.as_("manager"))
    assert v2.version == v1.version + 1
    await d.dispatch.ReturnWorkOrder(
        D.ReturnWorkOrderRequest(work_order_id=ticket.work_orders[0].work_order_id, reason="wrong team"),
        metadata=d.as_("admin"),
    )
    second = await d.dispatch.DispatchTicket(
        D.DispatchTicketRequest(ticket_id=ticket.ticket_id, team_id=team_id, reason="it is theirs after all"),
        metadata=d.as_("senior_agent"),
    )
    assert second.sla_policy_version == v2.version
    seen = await d.ticket(ticket.ticket_id)
    by_order = {x.work_order_id: x for x in seen.deadlines if x.kind == S.DEADLINE_KIND_RESPONSE}
    assert [by_order[w.work_order_id].target.ToSeconds() for w in seen.work_orders] == [3 * 3600, 3600]
    assert {x.calendar for x in seen.deadlines} == {S.CALENDAR_BUSINESS_5X8}

    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        stored = await conn.fetchval("SELECT view FROM intake.tickets WHERE ticket_id = $1", ticket.ticket_id)
    finally:
        await conn.close()
    view = from_json(stored, TicketView)
    assert [derive(x) for x in view.deadlines] == [(x.warn_at, x.due_at) for x in view.deadlines]


async def test_an_onsite_resolution_needs_its_report_and_the_customers_sign_off(desk: RunningDesk) -> None:
    d = Desk(desk)
    ticket = await d.create(category="machine-room")
    work_order_id = ticket.work_orders[0].work_order_id
    ops = d.as_("ops_engineer:machine-room")
    now = ticket.created_at.ToSeconds()

    def at(minutes: int) -> timestamp_pb2.Timestamp:
        return timestamp_pb2.Timestamp(seconds=now + minutes * 60)

    def resolve(**fields: object) -> D.ResolveWorkOrderRequest:
        return D.ResolveWorkOrderRequest(
            work_order_id=work_order_id,
            cause="PSU failed",
            action="replaced PSU",
            engineer="Wang",
            **fields,  # type: ignore[arg-type]
        )

    def onsite(**fields: Any) -> S.OnsiteReport:
        return S.OnsiteReport(
            departed_at=at(5), arrived_at=at(35), test_result=S.TEST_RESULT_NORMAL, **fields
        )

    parts = [S.Part(name="PSU", model="DPS-500", unit="pc", quantity=1)]
    with pytest.raises(grpc.aio.AioRpcError) as incomplete:
        await d.dispatch.ResolveWorkOrder(resolve(onsite=onsite()), metadata=ops)
    assert incomplete.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(incomplete.value) == ["onsite.restored_at"]
    with pytest.raises(grpc.aio.AioRpcError) as no_report:
        await d.dispatch.ResolveWorkOrder(resolve(onsite_visit=True), metadata=ops)
    assert bad_fields(no_report.value) == ["onsite"]

    unsigned = onsite(restored_at=at(80), parts=parts, customer_signed=False)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await d.dispatch.ResolveWorkOrder(resolve(onsite=unsigned), metadata=ops)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "sign-off" in (refused.value.details() or "")
    assert (await d.ticket(ticket.ticket_id)).status == S.TICKET_STATUS_DISPATCHED  # nothing changed

    signed = onsite(restored_at=at(80), parts=parts, customer_signed=True)
    resolved = await d.dispatch.ResolveWorkOrder(resolve(onsite=signed), metadata=ops)
    assert resolved.status == S.WORK_ORDER_STATUS_RESOLVED
    assert (resolved.onsite.customer_signed, resolved.onsite.parts[0].model) == (True, "DPS-500")
    assert resolved.onsite.restored_at == at(80)


async def test_the_violations_ledger_has_one_record_per_missed_deadline_with_its_chase(
    desk: RunningDesk,
) -> None:
    d, tag = Desk(desk), _tag()
    team_id, engineer = f"ledger-{tag}", f"Wang-{tag}"
    await d.team(team_id, [team_id])
    seconds = duration_pb2.Duration
    policy = S.SlaPolicy(
        priority=S.PRIORITY_P4,
        team_id=team_id,
        response_target=seconds(seconds=3),
        resolution_target=seconds(seconds=4),
        callback_target=seconds(seconds=600),
        warning_percent=50,
    )
    await d.dispatch.SetSlaPolicy(D.SetSlaPolicyRequest(policy=policy), metadata=d.as_("manager"))
    ticket = await d.create(category=team_id, priority=S.PRIORITY_P4)
    work_order_id = ticket.work_orders[0].work_order_id
    await d.dispatch.AcceptWorkOrder(  # in time for the response; the resolution will be missed
        D.AcceptWorkOrderRequest(work_order_id=work_order_id, engineer=engineer), metadata=d.as_("admin")
    )
    await ticket_events(desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: "sla.overdue" in types(ev))
    await asyncio.sleep(2)  # time for anything that should not happen: a second record

    ledger = await d.dispatch.ListViolations(
        D.ListViolationsRequest(team_id=team_id), metadata=d.as_("manager")
    )
    [missed] = ledger.violations
    assert (missed.ticket_id, missed.work_order_id, missed.agent_id) == (
        ticket.ticket_id,
        work_order_id,
        engineer,
    )
    assert (missed.deadline_kind, missed.chased, missed.chase_count) == (S.DEADLINE_KIND_RESOLUTION, True, 1)
    by_agent = await d.dispatch.ListViolations(
        D.ListViolationsRequest(agent_id=engineer), metadata=d.as_("manager")
    )
    assert [v.violation_id for v in by_agent.violations] == [missed.violation_id]
    before = D.ListViolationsRequest(team_id=team_id, period_end=ticket.created_at)
    assert list((await d.dispatch.ListViolations(before, metadata=d.as_("manager"))).violations) == []
    with pytest.raises(grpc.aio.AioRpcError) as other_team:
        await d.dispatch.ListViolations(
            D.ListViolationsRequest(team_id=team_id), metadata=d.as_("ops_engineer:network")
        )
    assert other_team.value.code() == grpc.StatusCode.PERMISSION_DENIED
