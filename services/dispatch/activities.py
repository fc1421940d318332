"""Dispatch activities: the workflow's reads and writes of the dispatch schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from services.dispatch import repository
from services.dispatch.contract import (
    FIND_SLA_POLICY,
    RECORD_VIOLATION,
    ROUTE_TICKET,
    SAVE_WORK_ORDER,
    FindSlaPolicyInput,
    RecordViolationInput,
    RecordViolationResult,
    RouteTicketInput,
    RouteTicketResult,
    SaveWorkOrderInput,
    SlaPolicyRecord,
)
from services.dispatch.policies import default_policies, most_specific
from services.dispatch.routing import choose_team


class DispatchActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=ROUTE_TICKET)
    async def route_ticket(self, request: RouteTicketInput) -> RouteTicketResult:
        candidates = await repository.teams_for_category(db=self._pool, category=request.category)
        return RouteTicketResult(team_id=choose_team(candidates, exclude=request.exclude_team_ids))

    @activity.defn(name=FIND_SLA_POLICY)
    async def find_sla_policy(self, request: FindSlaPolicyInput) -> SlaPolicyRecord:
        policies = await repository.list_policies(db=self._pool) or default_policies()
        found = most_specific(
            policies, priority=request.priority, customer_tier=request.customer_tier, team_id=request.team_id
        ) or most_specific(
            default_policies(), priority=request.priority, customer_tier=request.customer_tier, team_id=""
        )
        assert found is not None, f"no default policy for priority {request.priority!r}"
        return found

    @activity.defn(name=SAVE_WORK_ORDER)
    async def save_work_order(self, request: SaveWorkOrderInput) -> None:
        await repository.save_work_order(db=self._pool, work_order=request.work_order)

    @activity.defn(name=RECORD_VIOLATION)
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
                await repository.save_work_order(db=conn, work_order=work_order)
        return RecordViolationResult(recorded=recorded, work_order=work_order)

    def all(self) -> list[Callable[..., Any]]:
        return [self.route_ticket, self.find_sla_policy, self.save_work_order, self.record_violation]
