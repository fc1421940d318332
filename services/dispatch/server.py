"""DispatchService: validate and translate; lifecycle changes go to the ticket's workflow as updates."""

from __future__ import annotations

from grpc import aio

from desk import wire
from desk.auth import ROLES
from desk.db import Executor
from desk.errors import FieldViolation, InvalidArgument, NotFound, Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import decode_token, encode_token, page_size
from desk.ticket_client import TicketWorkflows
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc
from services.dispatch import repository
from services.dispatch.contract import SlaPolicyRecord, WorkOrderRecord
from services.dispatch.policies import default_policies, most_specific
from workflows import contract as wf

DESK = frozenset({"agent", "senior_agent", "manager"})
OPS = frozenset({"ops_engineer"})
EVERYONE = frozenset(ROLES) - {"admin"}  # admin passes every role check anyway

ACCESS = {
    "ListTeams": EVERYONE,
    "DispatchTicket": DESK,
    "AcceptWorkOrder": OPS,
    "ResolveWorkOrder": OPS,
    "ReturnWorkOrder": OPS,
    "ListWorkOrders": DESK | OPS,
    "SetSlaPolicy": frozenset({"manager"}),
    "GetSlaPolicy": DESK | OPS,
    # Built by the dispatch issue; answer UNIMPLEMENTED to any authenticated caller until then.
    "UpsertTeam": EVERYONE,
    "ReviewWorkOrder": EVERYONE,
    "ChaseWorkOrder": EVERYONE,
}


def _require(**fields: str) -> None:
    missing = [FieldViolation(name, "is required") for name, value in fields.items() if not value.strip()]
    if missing:
        raise InvalidArgument(missing)


class DispatchServicer(dispatch_pb2_grpc.DispatchServiceServicer):
    def __init__(self, db: Executor, tickets: TicketWorkflows) -> None:
        self._db = db
        self._tickets = tickets

    async def ListTeams(
        self, request: dispatch_pb2.ListTeamsRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListTeamsResponse:
        teams = await repository.list_teams(db=self._db, include_inactive=request.include_inactive)
        return dispatch_pb2.ListTeamsResponse(
            teams=[
                common_pb2.Team(
                    team_id=t.team_id,
                    name=t.name,
                    categories=t.categories,
                    regions=t.regions,
                    calendar=wire.enum_value(common_pb2.Calendar, t.calendar, "CALENDAR_"),
                    time_zone=t.time_zone,
                    on_call_contacts=t.on_call_contacts,
                    active=t.active,
                )
                for t in teams
            ]
        )

    async def _work_order_of_my_team(self, work_order_id: str) -> WorkOrderRecord:
        _require(work_order_id=work_order_id)
        work_order = await repository.get_work_order(db=self._db, work_order_id=work_order_id)
        if work_order is None:
            raise NotFound("work order", work_order_id)
        current_principal().require_team(work_order.team_id)
        return work_order

    async def _update(self, work_order: WorkOrderRecord, update: str, arg: object) -> common_pb2.WorkOrder:
        # A work order is accepted, resolved or returned at most once, so the update's id says which:
        # a client retrying after a lost answer gets the first answer again, not FAILED_PRECONDITION.
        result = await self._tickets.update(
            work_order.ticket_id,
            update,
            arg,
            wf.WorkOrderResult,
            update_id=f"{update}/{work_order.work_order_id}",
        )
        return wire.work_order_to_proto(result.work_order)

    async def DispatchTicket(
        self, request: dispatch_pb2.DispatchTicketRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        _require(ticket_id=request.ticket_id, team_id=request.team_id, reason=request.reason)
        if not await repository.team_exists(db=self._db, team_id=request.team_id):
            raise InvalidArgument.one("team_id", f"no active team {request.team_id!r}")
        arg = wf.DispatchTicketInput(
            team_id=request.team_id, reason=request.reason, actor=current_principal().principal_id
        )
        result = await self._tickets.update(request.ticket_id, wf.DISPATCH_TICKET, arg, wf.WorkOrderResult)
        return wire.work_order_to_proto(result.work_order)

    async def AcceptWorkOrder(
        self, request: dispatch_pb2.AcceptWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order_of_my_team(request.work_order_id)
        _require(engineer=request.engineer)
        arg = wf.AcceptWorkOrderInput(
            request.work_order_id, request.engineer, current_principal().principal_id
        )
        return await self._update(work_order, wf.ACCEPT_WORK_ORDER, arg)

    async def ResolveWorkOrder(
        self, request: dispatch_pb2.ResolveWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order_of_my_team(request.work_order_id)
        _require(cause=request.cause, action=request.action, engineer=request.engineer)
        arg = wf.ResolveWorkOrderInput(
            work_order_id=request.work_order_id,
            cause=request.cause,
            action=request.action,
            engineer=request.engineer,
            actor=current_principal().principal_id,
            onsite=wire.onsite_from_proto(request.onsite) if request.HasField("onsite") else None,
        )
        return await self._update(work_order, wf.RESOLVE_WORK_ORDER, arg)

    async def ReturnWorkOrder(
        self, request: dispatch_pb2.ReturnWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        work_order = await self._work_order_of_my_team(request.work_order_id)
        _require(reason=request.reason)
        arg = wf.ReturnWorkOrderInput(request.work_order_id, request.reason, current_principal().principal_id)
        return await self._update(work_order, wf.RETURN_WORK_ORDER, arg)

    async def ListWorkOrders(
        self, request: dispatch_pb2.ListWorkOrdersRequest, context: aio.ServicerContext
    ) -> dispatch_pb2.ListWorkOrdersResponse:
        principal = current_principal()
        team_id = request.team_id
        if not principal.has_any(DESK):
            team_id = team_id or principal.team_id
            principal.require_team(team_id)
        limit = page_size(request.page_size)
        status = wire.enum_name(common_pb2.WorkOrderStatus, request.status, "WORK_ORDER_STATUS_")
        if request.status and not status:
            raise InvalidArgument.one("status", f"unknown work order status {request.status}")
        rows = await repository.list_work_orders(
            db=self._db,
            team_id=team_id,
            ticket_id=request.ticket_id,
            status=status,
            after=decode_token(request.page_token),
            limit=limit + 1,
        )
        token = (
            encode_token(rows[limit - 1].created_at, rows[limit - 1].work_order_id)
            if len(rows) > limit
            else ""
        )
        return dispatch_pb2.ListWorkOrdersResponse(
            work_orders=[wire.work_order_to_proto(w) for w in rows[:limit]], next_page_token=token
        )

    async def SetSlaPolicy(
        self, request: dispatch_pb2.SetSlaPolicyRequest, context: aio.ServicerContext
    ) -> common_pb2.SlaPolicy:
        policy = _policy_from_proto(request.policy)
        if policy.team_id and not await repository.team_exists(db=self._db, team_id=policy.team_id):
            raise InvalidArgument.one("policy.team_id", f"no active team {policy.team_id!r}")
        return wire.policy_to_proto(await repository.put_policy(db=self._db, policy=policy))

    async def GetSlaPolicy(
        self, request: dispatch_pb2.GetSlaPolicyRequest, context: aio.ServicerContext
    ) -> common_pb2.SlaPolicy:
        priority = wire.enum_name(common_pb2.Priority, request.priority, "PRIORITY_")
        tier = wire.enum_name(common_pb2.CustomerTier, request.customer_tier, "CUSTOMER_TIER_")
        if not priority:
            raise InvalidArgument.one("priority", "is required (P1..P4)")
        policies = await repository.list_policies(db=self._db) or default_policies()
        found = most_specific(
            policies, priority=priority, customer_tier=tier or "STANDARD", team_id=request.team_id
        )
        if found is None:
            raise NotFound("SLA policy", f"{priority}/{tier}/{request.team_id}")
        return wire.policy_to_proto(found)

    async def UpsertTeam(
        self, request: dispatch_pb2.UpsertTeamRequest, context: aio.ServicerContext
    ) -> common_pb2.Team:
        raise Unimplemented("UpsertTeam")

    async def ReviewWorkOrder(
        self, request: dispatch_pb2.ReviewWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        raise Unimplemented("ReviewWorkOrder")

    async def ChaseWorkOrder(
        self, request: dispatch_pb2.ChaseWorkOrderRequest, context: aio.ServicerContext
    ) -> common_pb2.WorkOrder:
        raise Unimplemented("ChaseWorkOrder")


def _policy_from_proto(p: common_pb2.SlaPolicy) -> SlaPolicyRecord:
    violations = [
        FieldViolation(f"policy.{name}", "must be a positive duration")
        for name in ("response_target", "resolution_target", "callback_target")
        if getattr(p, name).ToNanoseconds() <= 0
    ]
    if not 0 <= p.warning_percent <= 99:
        violations.append(FieldViolation("policy.warning_percent", "must be between 1 and 99 (0 means 80)"))
    calendar = wire.enum_name(common_pb2.Calendar, p.calendar, "CALENDAR_") or "24X7"
    if calendar != "24X7":
        violations.append(FieldViolation("policy.calendar", "only CALENDAR_24X7 is supported yet"))
    if violations:
        raise InvalidArgument(violations)
    return SlaPolicyRecord(
        priority=wire.enum_name(common_pb2.Priority, p.priority, "PRIORITY_"),
        customer_tier=wire.enum_name(common_pb2.CustomerTier, p.customer_tier, "CUSTOMER_TIER_"),
        team_id=p.team_id,
        response_seconds=p.response_target.ToNanoseconds() / 1e9,
        resolution_seconds=p.resolution_target.ToNanoseconds() / 1e9,
        callback_seconds=p.callback_target.ToNanoseconds() / 1e9,
        warning_percent=p.warning_percent or 80,
        calendar=calendar,
    )


def binding(servicer: DispatchServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, dispatch_pb2, dispatch_pb2_grpc, "DispatchService")
