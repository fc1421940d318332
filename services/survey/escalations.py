"""SQL of the manager hotline (经理热线): the escalations queue and the compensation rule, in the
survey schema. Escalations are written only by the ticket workflow's persisting step; the rule by a
manager through EscalationService."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from desk.db import Executor
from domain.hotline import CompensationRule, EscalationRecord, EscalationSource, EscalationStatus

_COLUMNS = (
    "escalation_id, ticket_id, source, status, note, opened_by, opened_at, open_request_id, outcome,"
    " responsibility, resolution_note, compensation_cents, currency, hours_overdue, rule_version,"
    " resolved_by, resolved_at, resolve_request_id"
)


@dataclass(frozen=True)
class QueuePosition:
    """Where a page of the queue ended: open ones first, then newest first."""

    resolved: bool
    opened_at: datetime
    escalation_id: str


async def save_escalation(*, db: Executor, escalation: EscalationRecord) -> None:
    """The escalation as the workflow decided it; the same write again changes nothing."""
    e = escalation
    await db.execute(
        f"INSERT INTO survey.escalations ({_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        " ON CONFLICT (escalation_id) DO UPDATE SET status = EXCLUDED.status, outcome = EXCLUDED.outcome,"
        " responsibility = EXCLUDED.responsibility, resolution_note = EXCLUDED.resolution_note,"
        " compensation_cents = EXCLUDED.compensation_cents, currency = EXCLUDED.currency,"
        " hours_overdue = EXCLUDED.hours_overdue, rule_version = EXCLUDED.rule_version,"
        " resolved_by = EXCLUDED.resolved_by, resolved_at = EXCLUDED.resolved_at,"
        " resolve_request_id = EXCLUDED.resolve_request_id",
        e.escalation_id,
        e.ticket_id,
        str(e.source),
        str(e.status),
        e.note,
        e.opened_by,
        e.opened_at,
        e.open_request_id,
        e.outcome,
        e.responsibility,
        e.resolution_note,
        e.compensation_cents,
        e.currency,
        e.hours_overdue,
        e.rule_version,
        e.resolved_by,
        e.resolved_at,
        e.resolve_request_id,
    )


async def get_escalation(*, db: Executor, escalation_id: str) -> EscalationRecord | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM survey.escalations WHERE escalation_id = $1", escalation_id
    )
    return None if row is None else _record(row)


async def list_escalations(
    *,
    db: Executor,
    status: str,
    source: str,
    ticket_id: str,
    after: QueuePosition | None,
    limit: int,
) -> list[EscalationRecord]:
    """The queue: open ones first, then newest first; keyset-paged on that order."""
    clauses, args = ["TRUE"], list[Any]()
    for clause, value in (("status = $", status), ("source = $", source), ("ticket_id = $", ticket_id)):
        if value:
            args.append(value)
            clauses.append(f"{clause}{len(args)}")
    if after is not None:
        args += [after.resolved, after.opened_at, after.escalation_id]
        r, at, key = len(args) - 2, len(args) - 1, len(args)
        clauses.append(
            f"((status <> 'OPEN') > ${r}"
            f" OR ((status <> 'OPEN') = ${r} AND (opened_at, escalation_id) < (${at}, ${key})))"
        )
    args.append(limit)
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM survey.escalations WHERE {' AND '.join(clauses)}"
        f" ORDER BY (status <> 'OPEN'), opened_at DESC, escalation_id DESC LIMIT ${len(args)}",
        *args,
    )
    return [_record(r) for r in rows]


def _record(row: asyncpg.Record) -> EscalationRecord:
    fields = dict(row)
    fields["source"] = EscalationSource(fields["source"])
    fields["status"] = EscalationStatus(fields["status"])
    return EscalationRecord(**fields)


# --- the compensation rule ---

_RULE_COLUMNS = "version, amount_per_hour_cents, cap_cents, currency, updated_by, updated_at"


async def rule_in_force(*, db: Executor) -> CompensationRule:
    row = await db.fetchrow(
        f"SELECT {_RULE_COLUMNS} FROM survey.compensation_rules ORDER BY version DESC LIMIT 1"
    )
    assert row is not None, "migration 006 seeds the first version"
    return CompensationRule(**dict(row))


async def set_rule(*, pool: asyncpg.Pool, rule: CompensationRule, actor: str) -> CompensationRule:
    """A new version of the rule, unless it is the one in force already (then that one)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE survey.compensation_rules IN SHARE ROW EXCLUSIVE MODE")
        current = await rule_in_force(db=conn)
        same = (current.amount_per_hour_cents, current.cap_cents, current.currency)
        if same == (rule.amount_per_hour_cents, rule.cap_cents, rule.currency):
            return current
        row = await conn.fetchrow(
            "INSERT INTO survey.compensation_rules"
            " (version, amount_per_hour_cents, cap_cents, currency, updated_by)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_RULE_COLUMNS}",
            current.version + 1,
            rule.amount_per_hour_cents,
            rule.cap_cents,
            rule.currency,
            actor,
        )
        assert row is not None
        return CompensationRule(**dict(row))
