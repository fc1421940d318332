"""SQL of the intake schema. Keyword-only functions over a pool or connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json, to_json
from services.intake.contract import TicketView


@dataclass
class Claim:
    ticket_id: str
    fingerprint: bytes
    created_at: datetime


@dataclass
class TimelineRow:
    sequence: int
    type: str
    actor: str
    occurred_at: datetime
    reason: str
    payload: dict[str, Any]


async def claim_request(*, db: Executor, request_id: str, fingerprint: bytes, now: datetime) -> Claim:
    """The ticket a request id stands for: a new number the first time, the same one on every retry.

    The INSERT waits for a concurrent insert of the same id and then does nothing; the SELECT after it
    is a new statement, so it sees the winner's row.
    """
    row = await db.fetchrow(
        "INSERT INTO intake.requests (request_id, ticket_id, fingerprint, created_at)"
        " VALUES ($1, 'TK' || to_char($3 AT TIME ZONE 'UTC', 'YYYYMMDD')"
        "   || lpad(nextval('intake.ticket_number')::text, 6, '0'), $2, $3)"
        " ON CONFLICT (request_id) DO NOTHING RETURNING ticket_id, fingerprint, created_at",
        request_id,
        fingerprint,
        now,
    ) or await db.fetchrow(
        "SELECT ticket_id, fingerprint, created_at FROM intake.requests WHERE request_id = $1", request_id
    )
    assert row is not None
    return Claim(row["ticket_id"], bytes(row["fingerprint"]), row["created_at"])


async def find_claim(*, db: Executor, request_id: str) -> Claim | None:
    row = await db.fetchrow(
        "SELECT ticket_id, fingerprint, created_at FROM intake.requests WHERE request_id = $1", request_id
    )
    return None if row is None else Claim(row["ticket_id"], bytes(row["fingerprint"]), row["created_at"])


async def save_view(*, db: Executor, view: TicketView) -> None:
    draft = view.draft
    await db.execute(
        "INSERT INTO intake.tickets (ticket_id, request_id, status, team_id, created_at, updated_at, view)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (ticket_id) DO UPDATE"
        " SET status = $3, team_id = $4, updated_at = $6, view = $7::jsonb"
        " WHERE intake.tickets.updated_at <= $6",
        draft.ticket_id,
        draft.request_id,
        view.status.value,
        view.assigned_team_id,
        draft.created_at,
        view.updated_at,
        to_json(view),
    )


async def append_timeline(*, db: Executor, events: list[EventSpec]) -> None:
    await db.executemany(
        "INSERT INTO intake.timeline (ticket_id, sequence, event_id, type, actor, occurred_at, reason,"
        " payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT DO NOTHING",
        [
            (
                e.ticket_id,
                e.sequence,
                e.event_id,
                e.type,
                e.actor,
                e.occurred_at,
                e.reason,
                json.dumps(e.payload),
            )
            for e in events
        ],
    )


async def get_view(*, db: Executor, ticket_id: str) -> TicketView | None:
    data = await db.fetchval("SELECT view FROM intake.tickets WHERE ticket_id = $1", ticket_id)
    return None if data is None else from_json(data, TicketView)


async def get_timeline(*, db: Executor, ticket_id: str) -> list[TimelineRow]:
    rows = await db.fetch(
        "SELECT sequence, type, actor, occurred_at, reason, payload FROM intake.timeline"
        " WHERE ticket_id = $1 ORDER BY sequence",
        ticket_id,
    )
    return [TimelineRow(**{**dict(r), "payload": json.loads(r["payload"])}) for r in rows]


async def list_views(
    *,
    db: Executor,
    status: str,
    team_id: str,
    created_after: datetime | None,
    created_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[TicketView]:
    """Newest first, keyset-paged on (created_at, ticket_id); empty filters match everything."""
    clauses, args = ["TRUE"], list[Any]()

    def where(sql: str, *values: Any) -> None:
        placeholders = [f"${len(args) + i + 1}" for i in range(len(values))]
        args.extend(values)
        clauses.append(sql.format(*placeholders))

    if status:
        where("status = {}", status)
    if team_id:
        where("team_id = {}", team_id)
    if created_after:
        where("created_at >= {}", created_after)
    if created_before:
        where("created_at < {}", created_before)
    if after:
        where("(created_at, ticket_id) < ({}, {})", *after)
    args.append(limit)
    rows = await db.fetch(
        f"SELECT view FROM intake.tickets WHERE {' AND '.join(clauses)}"
        f" ORDER BY created_at DESC, ticket_id DESC LIMIT ${len(args)}",
        *args,
    )
    return [from_json(r["view"], TicketView) for r in rows]
