"""SQL of the dispatch schema. Keyword-only functions over a pool or connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from desk.db import Executor
from desk.records import from_json, to_json
from services.dispatch.contract import RecordViolationInput, SlaPolicyRecord, WorkOrderRecord


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


async def teams_for_category(*, db: Executor, category: str) -> list[str]:
    rows = await db.fetch(
        "SELECT team_id FROM dispatch.teams WHERE active AND $1 = ANY(categories) ORDER BY team_id", category
    )
    return [r["team_id"] for r in rows]


async def team_exists(*, db: Executor, team_id: str) -> bool:
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM dispatch.teams WHERE team_id = $1 AND active)", team_id
        )
    )


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
    """Record a missed deadline once; False when this violation id is already in the ledger."""
    status = await db.execute(
        "INSERT INTO dispatch.violations (violation_id, ticket_id, team_id, deadline_kind, work_order_id,"
        " due_at, recorded_at, chased) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        violation.violation_id,
        violation.ticket_id,
        violation.team_id,
        violation.deadline_kind,
        violation.work_order_id,
        violation.due_at,
        violation.recorded_at,
        bool(violation.work_order_id),
    )
    return bool(status == "INSERT 0 1")
