"""DispatchService: validate and translate; lifecycle changes go to the ticket's workflow as updates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf import empty_pb2
from grpc import aio

from desk import proto_fields
from desk.auth import (
    DESK_AGENTS,
    EVERYONE,
    MANAGERS,
    OPS_ENGINEERS,
    QA_INSPECTORS,
    REVIEWERS,
    STATISTICIANS,
    SURVEYORS,
)
from desk.db import Executor
from desk.errors import InvalidArgument, NotFound
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import PageTokens, page_size
from domain.commands import (
    AcceptWorkOrderInput,
    ChaseWorkOrderInput,
    DispatchTicketInput,
    ResolveWorkOrderInput,
    ReturnWorkOrderInput,
    ReviewWorkOrderInput,
)
from domain.review_policy import manual_dispatch_needs_review
from domain.work_orders import WorkOrderRecord
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc
from services import ticket_messages
from services.dispatch import repository, validation, wire
from services.dispatch.policies import default_policies, most_specific
from services.dispatch.validation import require
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

ACCESS = {
    "ListTeams": EVERYONE,
    "UpsertTeam": MANAGERS,
    "DispatchTicket": DESK_AGENTS,
    "ReviewWorkOrder": REVIEWERS,
    "AcceptWorkOrder": OPS_ENGINEERS,
    "ChaseWorkOrder": DESK_AGENTS | SURVEYORS,
    "ResolveWorkOrder": OPS_ENGINEERS,
    "ReturnWorkOrder": OPS_ENGINEERS,
    "ListWorkOrders": DESK_AGENTS | OPS_ENGINEERS,
    "SetSlaPolicy": MANAGERS,
    "GetSlaPolicy": DESK_AGENTS | OPS_ENGINEERS,
    "PutRoutingRule": MANAGERS,
    "ListRoutingRules": DESK_AGENTS,
    "DeleteRoutingRule": MANAGERS,
    "ListViolations": DESK_AGENTS | OPS_ENGINEERS | SURVEYORS | QA_INSPECTORS | STATISTICIANS,
}


class DispatchServicer(dispatch_pb2_grpc.DispatchServiceServicer):
    def __init__(
        self,
        db: Executor,
        tickets: TicketWorkflows,
        *,
        team_added: Callable[[str], Awaitable[None]],
        page_tokens: PageTokens,
    ) -> None:
        self._db = db
        self._page_tokens = page_tokens
        self._tickets = tickets
        self._team_added = team_added  # gives a team its durable JetStream consumer

    # --- teams, routing rules, SLA policies: data the desk's managers keep ---

    async def ListTeams(
        self, request: dispatch_pb2.ListTeamsRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListTeamsResponse:
        teams = await repository.list_teams(db=self._db, include_inactive=request.include_inactive)
        return dispatch_pb2.ListTeamsResponse(teams=[wire.team_to_proto(t) for t in teams])

    async def UpsertTeam(
        self, request: dispatch_pb2.UpsertTeamRequest, context: aio.ServicerContext
    ) -> common_pb2.Team:
        team = validation.team_from_proto(request.team)
        await self._team_added(team.team_id)  # first, so no work order is published before it exists
        await repository.upsert_team(db=self._db, team=team)
        return wire.team_to_proto(team)

    async def PutRoutingRule(
        self, request: dispatch_pb2.PutRoutingRuleRequest, context: aio.ServicerContext
    ) -> common_pb2.RoutingRule:
        rule = validation.rule_from_proto(request.rule)
        if rule.team_id and await repository.get_team(db=self._db, team_id=rule.team_id) is None:
            raise InvalidArgument.one("rule.team_id", f"no team {rule.team_id!r}")
        saved = await repository.put_routing_rule(db=self._db, rule=rule)
        if saved is None:
            raise InvalidArgument.one("rule", "another rule already matches this category, region and tier")
        return wire.rule_to_proto(saved)

    async def ListRoutingRules(
        self, request: dispatch_pb2.ListRoutingRulesRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListRoutingRulesResponse:
        rules = await repository.list_routing_rules(db=self._db)
        return dispatch_pb2.ListRoutingRulesResponse(rules=[wire.rule_to_proto(r) for r in rules])

    async def DeleteRoutingRule(
        self, request: dispatch_pb2.DeleteRoutingRuleRequest, context: aio.ServicerContext
    ) -> empty_pb2.Empty:
        require(rule_id=request.rule_id)
        if not await repository.delete_routing_rule(db=self._db, rule_id=request.rule_id):
            raise NotFound("routing rule", request.rule_id)
        return empty_pb2.Empty()

    async def SetSlaPolicy(
        self, request: dispatch_pb2.SetSlaPolicyRequest, context: aio.ServicerContext
    ) -> common_pb2.SlaPolicy:
        """A new policy version: work orders dispatched from now on run on it, earlier ones keep theirs."""
        policy = validation.policy_from_proto(request.policy)
        if policy.team_id and not await repository.team_exists(db=self._db, team_id=policy.team_id):
            raise InvalidArgument.one("policy.team_id", f"no active team {policy.team_id!r}")
        return wire.policy_to_proto(await repository.put_policy(db=self._db, policy=policy))

    async def GetSlaPolicy(
        self, request: dispatch_pb2.GetSlaPolicyRequest, context: aio.ServicerContext
    ) -> common_pb2.SlaPolicy:
        priority = proto_fields.enum_name(common_pb2.Priority, request.priority, "PRIORITY_")
        tier = proto_fields.enum_name(common_pb2.CustomerTier, request.customer_tier, "CUSTOMER_TIER_")
        if not priority:
            raise InvalidArgument.one("priority", "is required (P1..P4)")
        policies = await repository.list_policies(db=self._db) or default_policies()
        found = most_specific(
            policies, priority=priority, customer_tier=tier or "STANDARD", team_id=request.team_id
        )
        if found is None:
            raise NotFound("SLA policy", f"{priority}/{tier}/{request.team_id}")
        return wire.policy_to_proto(found)

    # --- the desk's side of a work order: dispatch, review, chase ---

    async def DispatchTicket(
        self, request: dispatch_pb2.DispatchTicketRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        require(ticket_id=request.ticket_id, team_id=request.team_id, reason=request.reason)
        await self._require_active_team("team_id", request.team_id)
        principal = current_principal()
        arg = DispatchTicketInput(
            team_id=request.team_id,
            reason=request.reason,
            actor=principal.principal_id,
            needs_review=manual_dispatch_needs_review(principal.roles),
        )
        result = await self._tickets.update(request.ticket_id, wf.DISPATCH_TICKET, arg, wf.WorkOrderResult)
        return ticket_messages.work_order_to_proto(result.work_order)

    async def ReviewWorkOrder(
        self, request: dispatch_pb2.ReviewWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order(request.work_order_id)
        if request.team_id:
            await self._require_active_team("team_id", request.team_id)
        arg = ReviewWorkOrderInput(
            work_order_id=request.work_order_id,
            approve=request.approve,
            team_id=request.team_id,
            reason=request.reason,
            actor=current_principal().principal_id,
        )
        return await self._update_once(work_order, wf.REVIEW_WORK_ORDER, arg)

    async def ChaseWorkOrder(
        self, request: dispatch_pb2.ChaseWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order(request.work_order_id)
        arg = ChaseWorkOrderInput(request.work_order_id, request.note, current_principal().principal_id)
        # Chases repeat, so only a caller's request_id makes a retry count once.
        update_id = f"{wf.CHASE_WORK_ORDER}/{work_order.work_order_id}/{request.request_id}"
        return await self._update(
            work_order, wf.CHASE_WORK_ORDER, arg, update_id if request.request_id else None
        )

    # --- the team's side: accept, resolve, return ---

    async def AcceptWorkOrder(
        self, request: dispatch_pb2.AcceptWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order(request.work_order_id, of_my_team=True)
        require(engineer=request.engineer)
        arg = AcceptWorkOrderInput(request.work_order_id, request.engineer, current_principal().principal_id)
        return await self._update_once(work_order, wf.ACCEPT_WORK_ORDER, arg)

    async def ResolveWorkOrder(
        self, request: dispatch_pb2.ResolveWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order(request.work_order_id, of_my_team=True)
        require(cause=request.cause, action=request.action, engineer=request.engineer)
        arg = ResolveWorkOrderInput(
            work_order_id=request.work_order_id,
            cause=request.cause,
            action=request.action,
            engineer=request.engineer,
            actor=current_principal().principal_id,
            onsite=validation.onsite_report(request),
        )
        return await self._update_once(work_order, wf.RESOLVE_WORK_ORDER, arg)

    async def ReturnWorkOrder(
        self, request: dispatch_pb2.ReturnWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order(request.work_order_id, of_my_team=True)
        require(reason=request.reason)
        arg = ReturnWorkOrderInput(request.work_order_id, request.reason, current_principal().principal_id)
        return await self._update_once(work_order, wf.RETURN_WORK_ORDER, arg)

    # --- reads ---

    async def ListWorkOrders(
        self, request: dispatch_pb2.ListWorkOrdersRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListWorkOrdersResponse:
        team_id = _team_in_scope(request.team_id)
        limit = page_size(request.page_size)
        status = proto_fields.enum_name(common_pb2.WorkOrderStatus, request.status, "WORK_ORDER_STATUS_")
        if request.status and not status:
            raise InvalidArgument.one("status", f"unknown work order status {request.status}")
        rows = await repository.list_work_orders(
            db=self._db,
            team_id=team_id,
            ticket_id=request.ticket_id,
            status=status,
            after=self._page_tokens.after(request),
            limit=limit + 1,
        )
        last = rows[limit - 1] if len(rows) > limit else None
        token = self._page_tokens.next(request, last.created_at, last.work_order_id) if last else ""
        return dispatch_pb2.ListWorkOrdersResponse(
            work_orders=[ticket_messages.work_order_to_proto(w) for w in rows[:limit]], next_page_token=token
        )

    async def ListViolations(
        self, request: dispatch_pb2.ListViolationsRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListViolationsResponse:
        """The violations ledger: one record per missed deadline, oldest first."""
        team_id = _team_in_scope(request.team_id)
        limit = page_size(request.page_size)
        since = proto_fields.from_timestamp(request, "period_start")
        until = proto_fields.from_timestamp(request, "period_end")
        if since and until and until <= since:
            raise InvalidArgument.one("period_end", "must be after period_start")
        rows = await repository.list_violations(
            db=self._db,
            team_id=team_id,
            agent_id=request.agent_id,
            since=since,
            until=until,
            after=self._page_tokens.after(request),
            limit=limit + 1,
        )
        last = rows[limit - 1] if len(rows) > limit else None
        token = self._page_tokens.next(request, last.recorded_at, last.violation_id) if last else ""
        return dispatch_pb2.ListViolationsResponse(
            violations=[wire.violation_to_proto(v) for v in rows[:limit]], next_page_token=token
        )

    # --- helpers ---

    async def _require_active_team(self, field: str, team_id: str) -> None:
        if not await repository.team_exists(db=self._db, team_id=team_id):
            raise InvalidArgument.one(field, f"no active team {team_id!r}")

    async def _work_order(self, work_order_id: str, *, of_my_team: bool = False) -> WorkOrderRecord:
        require(work_order_id=work_order_id)
        work_order = await repository.get_work_order(db=self._db, work_order_id=work_order_id)
        if work_order is None:
            raise NotFound("work order", work_order_id)
        if of_my_team:
            current_principal().require_team(work_order.team_id)
        return work_order

    async def _update_once(
        self, work_order: WorkOrderRecord, update: str, arg: object
    ) -> common_pb2.WorkOrder:
        # A work order is reviewed, accepted, resolved or returned at most once, so the update's id says
        # which: a client retrying after a lost answer gets the first answer again, not FAILED_PRECONDITION.
        return await self._update(work_order, update, arg, f"{update}/{work_order.work_order_id}")

    async def _update(
        self, work_order: WorkOrderRecord, update: str, arg: object, update_id: str | None = None
    ) -> common_pb2.WorkOrder:
        result = await self._tickets.update(
            work_order.ticket_id, update, arg, wf.WorkOrderResult, update_id=update_id
        )
        return ticket_messages.work_order_to_proto(result.work_order)


def _team_in_scope(team_id: str) -> str:
    """Desk staff may list any team's work; an ops engineer only their own (the default for them)."""
    principal = current_principal()
    if principal.has_any(DESK_AGENTS | SURVEYORS | QA_INSPECTORS | STATISTICIANS):
        return team_id
    team_id = team_id or principal.team_id
    principal.require_team(team_id)
    return team_id


def binding(servicer: DispatchServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, dispatch_pb2, dispatch_pb2_grpc, "DispatchService")
