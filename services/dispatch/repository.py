"""SQL of the dispatch schema. Keyword-only functions over a pool or connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from desk.db import Executor
from desk.records import from_json, to_json
from domain.work_orders import SlaPolicyRecord, WorkOrderRecord
from services.dispatch.contract import RecordViolationInput, RoutingRuleRecord


@dataclass
class TeamRow:
    team_id: str
    name: str
    categories: list[str]
    regions: list[str]
    calendar: str
    time_zone: str
    on_call_contacts: list[str]
    active: bool


async def upsert_team(*, db: Executor, team: TeamRow) -> None:
    await db.execute(
        "INSERT INTO dispatch.teams (team_id, name, categories, regions, calendar, time_zone,"
        " on_call_contacts, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (team_id) DO UPDATE SET name = $2, categories = $3, regions = $4, calendar = $5,"
        " time_zone = $6, on_call_contacts = $7, active = $8, updated_at = now()",
        team.team_id,
        team.name,
        team.categories,
        team.regions,
        team.calendar,
        team.time_zone,
        team.on_call_contacts,
        team.active,
    )


async def list_teams(*, db: Executor, include_inactive: bool = False) -> list[TeamRow]:
    rows = await db.fetch(
        "SELECT team_id, name, categories, regions, calendar, time_zone, on_call_contacts, active"
        " FROM dispatch.teams WHERE active OR $1 ORDER BY team_id",
        include_inactive,
    )
    return [TeamRow(**dict(r)) for r in rows]


async def get_team(*, db: Executor, team_id: str) -> TeamRow | None:
    row = await db.fetchrow(
        "SELECT team_id, name, categories, regions, calendar, time_zone, on_call_contacts, active"
        " FROM dispatch.teams WHERE team_id = $1",
        team_id,
    )
    return None if row is None else TeamRow(**dict(row))


async def team_exists(*, db: Executor, team_id: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM dispatch.teams WHERE team_id = $1 AND active)", team_id
        )
    )


_RULE_COLUMNS = "rule_id, category, region, customer_tier, team_id, require_review, updated_at"


async def list_routing_rules(*, db: Executor) -> list[RoutingRuleRecord]:
    rows = await db.fetch(f"SELECT {_RULE_COLUMNS} FROM dispatch.routing_rules ORDER BY rule_id")
    return [RoutingRuleRecord(**dict(r)) for r in rows]


async def put_routing_rule(*, db: Executor, rule: RoutingRuleRecord) -> RoutingRuleRecord | None:
    """Insert or replace the rule by id; None when another rule already has the same match."""
    try:
        row = await db.fetchrow(
            "INSERT INTO dispatch.routing_rules (rule_id, category, region, customer_tier, team_id,"
            " require_review) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (rule_id) DO UPDATE SET"
            " category = $2, region = $3, customer_tier = $4, team_id = $5, require_review = $6,"
            f" updated_at = now() RETURNING {_RULE_COLUMNS}",
            rule.rule_id,
            rule.category,
            rule.region,
            rule.customer_tier,
            rule.team_id,
            rule.require_review,
        )
    except asyncpg.UniqueViolationError:
        return None
    assert row is not None
    return RoutingRuleRecord(**dict(row))


async def delete_routing_rule(*, db: Executor, rule_id: str) -> bool:
    status = await db.execute("DELETE FROM dispatch.routing_rules WHERE rule_id = $1", rule_id)
    return bool(status == "DELETE 1")


def _policy(row: asyncpg.Record) -> SlaPolicyRecord:
    return SlaPolicyRecord(**dict(row))


_POLICY_COLUMNS = (
    "priority, customer_tier, team_id, response_seconds, resolution_seconds, callback_seconds,"
    " warning_percent, calendar, version"
)


async def list_policies(*, db: Executor) -> list[SlaPolicyRecord]:
    return [_policy(r) for r in await db.fetch(f"SELECT {_POLICY_COLUMNS} FROM dispatch.sla_policies")]


async def put_policy(*, db: Executor, policy: SlaPolicyRecord) -> SlaPolicyRecord:
    """Insert or replace the policy for its key; each change raises its version."""
    row = await db.fetchrow(
        "INSERT INTO dispatch.sla_policies (priority, customer_tier, team_id, response_seconds,"
        " resolution_seconds, callback_seconds, warning_percent, calendar)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (priority, customer_tier, team_id) DO UPDATE SET response_seconds = $4,"
        " resolution_seconds = $5, callback_seconds = $6, warning_percent = $7, calendar = $8,"
        " version = dispatch.sla_policies.version + 1, updated_at = now()"
        f" RETURNING {_POLICY_COLUMNS}",
        policy.priority,
        policy.customer_tier,
        policy.team_id,
        policy.response_seconds,
        policy.resolution_seconds,
        policy.callback_seconds,
        policy.warning_percent,
        policy.calendar,
    )
    assert row is not None
    return _policy(row)


async def save_work_order(*, db: Executor, work_order: WorkOrderRecord) -> None:
    await db.execute(
        "INSERT INTO dispatch.work_orders (work_order_id, ticket_id, team_id, status, sequence, chase_count,"
        " created_at, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)"
        " ON CONFLICT (work_order_id) DO UPDATE SET status = $4, chase_count = $6, record = $8::jsonb,"
        " updated_at = now()",
        work_order.work_order_id,
        work_order.ticket_id,
        work_order.team_id,
        work_order.status.value,
        work_order.sequence,
        work_order.chase_count,
        work_order.created_at,
        to_json(work_order),
    )


async def get_work_order(*, db: Executor, work_order_id: str) -> WorkOrderRecord | None:
    data = await db.fetchval(
        "SELECT record FROM dispatch.work_orders WHERE work_order_id = $1", work_order_id
    )
    return None if data is None else from_json(data, WorkOrderRecord)


async def list_work_orders(
    *, db: Executor, team_id: str, ticket_id: str, status: str, after: tuple[datetime, str] | None, limit: int
) -> list[WorkOrderRecord]:
    """Newest first, keyset-paged on (created_at, work_order_id); empty filters match everything."""
    clauses, args = ["TRUE"], list[Any]()
    for column, value in (("team_id", team_id), ("ticket_id", ticket_id), ("status", status)):
        if value:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if after is not None:
        args += [after[0], after[1]]
        clauses.append(f"(created_at, work_order_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await db.fetch(
        f"SELECT record FROM dispatch.work_orders WHERE {' AND '.join(clauses)}"
        f" ORDER BY created_at DESC, work_order_id DESC LIMIT ${len(args)}",
        *args,
    )
    return [from_json(r["record"], WorkOrderRecord) for r in rows]


async def insert_violation(*, db: Executor, violation: RecordViolationInput) -> bool:
    """Record a violation once; False when this violation id is already in the ledger."""
    status = await db.execute(
        "INSERT INTO dispatch.violations (violation_id, ticket_id, team_id, deadline_kind, work_order_id,"
        " due_at, recorded_at, chased, agent_id, source, code, note)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT DO NOTHING",
        violation.violation_id,
        violation.ticket_id,
        violation.team_id,
        violation.deadline_kind,
        violation.work_order_id,
        violation.due_at,
        violation.recorded_at,
        bool(violation.work_order_id),
        violation.agent_id,
        str(violation.source),
        violation.code,
        violation.note,
    )
    return bool(status == "INSERT 0 1")


async def set_violation_chase_count(*, db: Executor, violation_id: str, chase_count: int) -> None:
    await db.execute(
        "UPDATE dispatch.violations SET chase_count = $2 WHERE violation_id = $1", violation_id, chase_count
    )


@dataclass
class ViolationRow:
    violation_id: str
    ticket_id: str
    team_id: str
    agent_id: str
    deadline_kind: str
    work_order_id: str
    due_at: datetime
    recorded_at: datetime
    chased: bool
    chase_count: int
    source: str
    code: str
    note: str


async def list_violations(
    *,
    db: Executor,
    team_id: str,
    agent_id: str,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ViolationRow]:
    """Oldest first within the period [since, until), keyset-paged on (recorded_at, violation_id)."""
    clauses, args = ["TRUE"], list[Any]()
    for clause, value in (
        ("team_id = $", team_id),
        ("agent_id = $", agent_id),
        ("recorded_at >= $", since),
        ("recorded_at < $", until),
    ):
        if value:
            args.append(value)
            clauses.append(f"{clause}{len(args)}")
    if after is not None:
        args += [after[0], after[1]]
        clauses.append(f"(recorded_at, violation_id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await db.fetch(
        "SELECT violation_id, ticket_id, team_id, agent_id, deadline_kind, work_order_id, due_at,"
        " recorded_at, chased, chase_count, source, code, note"
        f" FROM dispatch.violations WHERE {' AND '.join(clauses)}"
        f" ORDER BY recorded_at, violation_id LIMIT ${len(args)}",
        *args,
    )
    return [ViolationRow(**dict(r)) for r in rows]
