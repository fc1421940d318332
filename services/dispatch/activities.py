"""Dispatch activities: the workflow's reads and writes of the dispatch schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from temporalio import activity

from desk import metrics
from desk.storage_errors import final_storage_errors
from domain.work_orders import SlaPolicyRecord
from services.dispatch import repository
from services.dispatch.contract import (
    FIND_SLA_POLICY,
    LIST_VIOLATIONS,
    RECORD_VIOLATION,
    ROUTE_TICKET,
    FindSlaPolicyInput,
    ListViolationsInput,
    RecordViolationInput,
    RecordViolationResult,
    RouteTicketInput,
    RouteTicketResult,
    SaveWorkOrderInput,
    ViolationList,
    ViolationRecord,
)
from services.dispatch.policies import policy_in_force
from services.dispatch.routing import route

_VIOLATIONS_PAGE = 1000


class DispatchActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=ROUTE_TICKET)
    @final_storage_errors
    async def route_ticket(self, request: RouteTicketInput) -> RouteTicketResult:
        """The team the ticket goes to; given its priority, also the SLA policy in force for that team."""
        async with self._pool.acquire() as conn:
            rules = await repository.list_routing_rules(db=conn)
            teams = await repository.list_teams(db=conn)
            policies = await repository.list_policies(db=conn) if request.priority else []
        routed = route(request, rules=rules, teams=teams)
        if request.priority:
            team = next((t for t in teams if t.team_id == routed.team_id), None)
            routed.policy = policy_in_force(
                policies,
                priority=request.priority,
                customer_tier=request.customer_tier,
                team_id=routed.team_id or "",
                team=team,
            )
        return routed

    @activity.defn(name=FIND_SLA_POLICY)
    @final_storage_errors
    async def find_sla_policy(self, request: FindSlaPolicyInput) -> SlaPolicyRecord:
        """The policy in force for the team, on the team's calendar and time zone unless it names one."""
        async with self._pool.acquire() as conn:
            policies = await repository.list_policies(db=conn)
            team = await repository.get_team(db=conn, team_id=request.team_id) if request.team_id else None
        return policy_in_force(
            policies,
            priority=request.priority,
            customer_tier=request.customer_tier,
            team_id=request.team_id,
            team=team,
        )

    @final_storage_errors
    async def save_work_order(self, request: SaveWorkOrderInput) -> None:
        """Run inside the ticket's one persisting step (workflows/ticket_persistence.py)."""
        await repository.save_work_order(db=self._pool, work_order=request.work_order)

    @activity.defn(name=RECORD_VIOLATION)
    @final_storage_errors
    async def record_violation(self, request: RecordViolationInput) -> RecordViolationResult:
        """Record the miss and chase its work order, in one transaction, once per violation id."""
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await repository.insert_violation(db=conn, violation=request)
            work_order = (
                await repository.get_work_order(db=conn, work_order_id=request.work_order_id)
                if request.work_order_id
                else None
            )
            if recorded and work_order is not None:
                work_order.chase_count += 1
                work_order.last_chased_at = request.recorded_at
                await repository.save_work_order(db=conn, work_order=work_order)
                await repository.set_violation_chase_count(
                    db=conn, violation_id=request.violation_id, chase_count=work_order.chase_count
                )
        if recorded:
            source, kind = str(request.source), request.deadline_kind
            metrics.VIOLATIONS.labels(source, kind, request.team_id or metrics.NO_TEAM).inc()
        return RecordViolationResult(recorded=recorded, work_order=work_order)

    @activity.defn(name=LIST_VIOLATIONS)
    @final_storage_errors
    async def list_violations(self, request: ListViolationsInput) -> ViolationList:
        """Every violation recorded in [since, until), oldest first, read page by page."""
        found: list[ViolationRecord] = []
        after: tuple[datetime, str] | None = None
        while True:
            page = await repository.list_violations(
                db=self._pool, team_id="", agent_id="", since=request.since, until=request.until,
                after=after, limit=_VIOLATIONS_PAGE,
            )  # fmt: skip
            found += [
                ViolationRecord(v.violation_id, v.source, v.agent_id, v.team_id, v.code, v.recorded_at)
                for v in page
            ]
            if len(page) < _VIOLATIONS_PAGE:
                return ViolationList(found)
            after = (page[-1].recorded_at, page[-1].violation_id)

    def all(self) -> list[Callable[..., Any]]:
        return [self.route_ticket, self.find_sla_policy, self.record_violation, self.list_violations]
