"""SQL of ``intake.pending_tickets``: accepted tickets whose workflow has not recorded them yet.

CreateTicket accepts a ticket into it (in ``intake.accept_report``, migration 004); the starter
(services/intake/opening/starter.py) leases and opens them; reads show them as received until recorded.
"""

from __future__ import annotations

from datetime import datetime

from desk.db import Executor
from desk.records import from_json, to_json
from domain.ticket import TicketDraft, TicketStatus, TicketView


async def add_pending(*, db: Executor, draft: TicketDraft, leased_until: datetime) -> None:
    """Accept the ticket: from here on its workflow will be opened, whatever crashes (idempotent)."""
    await db.execute(
        "INSERT INTO intake.pending_tickets (ticket_id, draft, accepted_at, leased_until)"
        " VALUES ($1, $2::jsonb, $3, $4) ON CONFLICT (ticket_id) DO NOTHING",
        draft.ticket_id,
        to_json(draft),
        draft.created_at,
        leased_until,
    )


async def get_pending(*, db: Executor, ticket_id: str) -> TicketDraft | None:
    data = await db.fetchval("SELECT draft FROM intake.pending_tickets WHERE ticket_id = $1", ticket_id)
    return None if data is None else from_json(data, TicketDraft)


async def lease_pending(
    *, db: Executor, limit: int, now: datetime, leased_until: datetime
) -> list[TicketDraft]:
    """The oldest pending tickets nobody holds a lease on, leased to the caller until ``leased_until``."""
    rows = await db.fetch(
        "UPDATE intake.pending_tickets SET leased_until = $3 WHERE ticket_id IN ("
        " SELECT ticket_id FROM intake.pending_tickets WHERE leased_until <= $2"
        " ORDER BY accepted_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING draft, accepted_at",
        limit,
        now,
        leased_until,
    )
    ordered = sorted(rows, key=lambda r: r["accepted_at"])
    return [from_json(r["draft"], TicketDraft) for r in ordered]


async def pending_backlog(*, db: Executor) -> tuple[int, datetime | None]:
    """How many accepted tickets wait to be opened, and since when the oldest does."""
    row = await db.fetchrow(
        "SELECT count(*) AS n, min(accepted_at) AS oldest FROM intake.pending_tickets WHERE set_aside IS NULL"
    )
    assert row is not None
    return row["n"], row["oldest"]


async def release_pending(*, db: Executor, ticket_id: str, until: datetime) -> None:
    """Opening failed: let any intake process try again from ``until``."""
    await db.execute(
        "UPDATE intake.pending_tickets SET leased_until = $2 WHERE ticket_id = $1", ticket_id, until
    )


async def set_aside(*, db: Executor, ticket_id: str, reason: str) -> None:
    """Its opening was refused for good: keep it, with why, and never lease it again."""
    await db.execute(
        "UPDATE intake.pending_tickets SET set_aside = $2, leased_until = 'infinity' WHERE ticket_id = $1",
        ticket_id,
        reason,
    )


async def drop_pending(*, db: Executor, ticket_id: str) -> None:
    """The workflow has recorded the ticket: it is no longer pending."""
    await db.execute("DELETE FROM intake.pending_tickets WHERE ticket_id = $1", ticket_id)


async def list_pending(
    db: Executor,
    created_after: datetime | None,
    created_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[TicketView]:
    """Accepted tickets their workflows have not recorded yet, as received, newest first."""
    rows = await db.fetch(
        "SELECT draft FROM intake.pending_tickets"
        " WHERE ($1::timestamptz IS NULL OR accepted_at >= $1)"
        " AND ($2::timestamptz IS NULL OR accepted_at < $2)"
        " AND ($3::timestamptz IS NULL OR (accepted_at, ticket_id) < ($3, $4))"
        " ORDER BY accepted_at DESC, ticket_id DESC LIMIT $5",
        created_after,
        created_before,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )
    return [received(from_json(r["draft"], TicketDraft)) for r in rows]


def received(draft: TicketDraft) -> TicketView:
    """An accepted ticket before its workflow has decided anything: OPEN, not routed, no deadlines."""
    return TicketView(draft=draft, status=TicketStatus.OPEN, updated_at=draft.created_at)
