"""SQL of the intake schema. Keyword-only functions over a pool or connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from desk.db import Executor
from desk.events import EventSpec
from desk.records import from_json, to_json
from domain.ticket import TicketDraft, TicketStatus, TicketView
from services.intake.opening import pending_tickets
from services.intake.outages.matching import (
    CATEGORY,
    EXCHANGE,
    REGION,
    KnownOutage,
    OutageRecord,
    report_terms,
    scope_terms,
)


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


async def find_claim(*, db: Executor, request_id: str) -> Claim | None:
    row = await db.fetchrow(
        "SELECT ticket_id, fingerprint, created_at FROM intake.requests WHERE request_id = $1", request_id
    )
    return None if row is None else Claim(row["ticket_id"], bytes(row["fingerprint"]), row["created_at"])


async def record_ticket(
    *, db: Executor, view: TicketView, events: list[EventSpec], trace: str, release_keys: bool
) -> None:
    """The view (only ever forward in time) and its new timeline events, in one round trip.

    The events newly on the timeline are also queued in intake's outbox for the relay, with ``trace``
    (a W3C trace context, as JSON); ``release_keys``: the ticket takes no more repeats.
    See migrations/006_record_ticket.sql.
    """
    draft = view.draft
    await db.execute(
        "SELECT intake.record_ticket($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10::jsonb, $11)",
        draft.ticket_id,
        draft.request_id,
        view.status.value,
        view.assigned_team_id,
        draft.created_at,
        view.updated_at,
        to_json(view),
        to_json(events),
        True,  # p_outbox: every ticket's events go through intake's outbox
        trace,
        release_keys,
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
    """Newest first, keyset-paged on (created_at, ticket_id); empty filters match everything.

    Accepted tickets not opened yet are among them, as received (OPEN, at no team).
    """
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
    recorded = [from_json(r["view"], TicketView) for r in rows]
    if (status and status != TicketStatus.OPEN.value) or team_id:
        return recorded  # an accepted ticket not opened yet is OPEN at no team
    pending = await pending_tickets.list_pending(db, created_after, created_before, after, limit)
    return _newest_first(recorded, pending, limit)


def _newest_first(recorded: list[TicketView], pending: list[TicketView], limit: int) -> list[TicketView]:
    """One page from both; a ticket in both (recorded a moment ago) counts as recorded."""
    seen = {view.draft.ticket_id for view in recorded}
    merged = recorded + [view for view in pending if view.draft.ticket_id not in seen]
    merged.sort(key=lambda view: (view.draft.created_at, view.draft.ticket_id), reverse=True)
    return merged[:limit]


@dataclass
class ReportClaim:
    """The ticket a request stands for, and whether the request was a repeat of an open ticket."""

    ticket_id: str
    fingerprint: bytes
    created_at: datetime
    repeat: bool
    fresh: bool = False  # claimed by this call; False when the request id was claimed before
    outage_id: str = ""  # a new ticket linked to this known outage


async def accept_report(
    *,
    db: Executor,
    request_id: str,
    fingerprint: bytes,
    now: datetime,
    keys: list[str],
    draft: TicketDraft,
    outage_id: str,
    leased_until: datetime,
) -> ReportClaim:
    """Claim the request id and the report's keys; a new ticket gets its number and is accepted.

    One round trip to ``intake.accept_report`` (migration 004, where the locking is explained): the
    open ticket already holding a key makes the report a repeat of it; a request id claimed before
    answers as it did then (``fresh`` False). A new ticket's draft, numbered and linked to the
    outage if it is still active, is then pending (see :func:`add_pending`).
    """
    row = await db.fetchrow(
        "SELECT * FROM intake.accept_report($1, $2, $3, $4, $5::jsonb, $6, $7)",
        request_id,
        fingerprint,
        now,
        sorted(keys),
        to_json(draft),
        outage_id,
        leased_until,
    )
    assert row is not None
    return ReportClaim(
        row["ticket_id"],
        bytes(row["fingerprint"]),
        row["created_at"],
        row["repeat"],
        fresh=row["fresh"],
        outage_id=row["outage_id"],
    )


async def open_report(*, db: Executor, report_key: str) -> str | None:
    """The open ticket holding a report key (``fault:<digits>``, …), if one does."""
    ticket_id: str | None = await db.fetchval(
        "SELECT ticket_id FROM intake.open_reports WHERE report_key = $1", report_key
    )
    return ticket_id


_OUTAGE_COLUMNS = (
    "outage_id, request_id, cause, declared_at, exchanges, categories, regions, eta, active,"
    " resolved_at, resolution"
)


async def declare_outage(*, db: Executor, outage: OutageRecord) -> OutageRecord:
    """Insert the outage and its scope (what it is matched by); a retried declaration (same request id)
    answers with the first."""
    terms = scope_terms(outage)
    row = await db.fetchrow(
        "WITH fresh AS ("
        " INSERT INTO intake.outages (outage_id, request_id, cause, declared_at, exchanges, categories,"
        " regions, eta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_id) DO NOTHING"
        f" RETURNING {_OUTAGE_COLUMNS}"
        "), scope AS ("
        " INSERT INTO intake.outage_scope (dimension, term, outage_id)"
        " SELECT s.dimension, s.term, fresh.outage_id FROM fresh, unnest($9::text[], $10::text[]) AS s"
        " (dimension, term))"
        f" SELECT {_OUTAGE_COLUMNS} FROM fresh",
        outage.outage_id,
        outage.request_id,
        outage.cause,
        outage.declared_at,
        outage.exchanges,
        outage.categories,
        outage.regions,
        outage.eta,
        [dimension for dimension, _ in terms],
        [term for _, term in terms],
    ) or await db.fetchrow(
        f"SELECT {_OUTAGE_COLUMNS} FROM intake.outages WHERE request_id = $1", outage.request_id
    )
    assert row is not None
    return OutageRecord(**dict(row))


MATCHING_OUTAGE = (
    "SELECT o.outage_id, o.cause, o.declared_at, o.eta FROM intake.outages o"
    " WHERE o.active"
    " AND o.outage_id IN (SELECT outage_id FROM intake.outage_scope"
    "  WHERE dimension = 'exchange' AND term = ANY($1::text[]))"
    " AND o.outage_id IN (SELECT outage_id FROM intake.outage_scope"
    "  WHERE dimension = 'category' AND term = ANY($2::text[]))"
    " AND o.outage_id IN (SELECT outage_id FROM intake.outage_scope"
    "  WHERE dimension = 'region' AND term = ANY($3::text[]))"
    " ORDER BY o.declared_at, o.outage_id LIMIT 1"
)
"""The earliest active outage with one of the report's terms in every dimension (each an index probe)."""


async def matching_outage(
    *, db: Executor, fault_number: str, category: str, region: str
) -> KnownOutage | None:
    """The active outage a report falls in (services/intake/outages/matching.py), found through its
    scope's index: only the outages with a term of the report in every dimension are read, and only
    their heads."""
    terms = report_terms(fault_number=fault_number, category=category, region=region)
    row = await db.fetchrow(MATCHING_OUTAGE, terms[EXCHANGE], terms[CATEGORY], terms[REGION])
    return None if row is None else KnownOutage(**dict(row))


async def get_outage(*, db: Executor, outage_id: str) -> OutageRecord | None:
    row = await db.fetchrow(f"SELECT {_OUTAGE_COLUMNS} FROM intake.outages WHERE outage_id = $1", outage_id)
    return None if row is None else OutageRecord(**dict(row))


async def link_to_outage(*, db: Executor, outage_id: str, ticket_id: str) -> bool:
    """Link a new ticket to the outage if it is still active (its resolution waits for this row lock)."""
    linked = await db.fetchval(
        "WITH still AS (SELECT outage_id FROM intake.outages WHERE outage_id = $1 AND active FOR SHARE)"
        " INSERT INTO intake.outage_tickets (outage_id, ticket_id) SELECT outage_id, $2 FROM still"
        " ON CONFLICT DO NOTHING RETURNING ticket_id",
        outage_id,
        ticket_id,
    )
    return linked is not None or bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM intake.outage_tickets WHERE outage_id = $1 AND ticket_id = $2)",
            outage_id,
            ticket_id,
        )
    )


async def resolve_outage(*, db: Executor, outage_id: str, resolution: str, now: datetime) -> None:
    """Mark it resolved (once: the first resolution stays), so no report matches it any more."""
    await db.execute(
        "WITH resolved AS (UPDATE intake.outages SET active = false, resolved_at = $3, resolution = $2"
        " WHERE outage_id = $1 AND active RETURNING outage_id)"
        " DELETE FROM intake.outage_scope WHERE outage_id IN (SELECT outage_id FROM resolved)",
        outage_id,
        resolution,
        now,
    )


async def linked_tickets(
    *, db: Executor, outage_id: str, after: str = "", limit: int | None = None
) -> list[str]:
    """The tickets linked to the outage, in id order: those after ``after``, at most ``limit`` of them."""
    rows = await db.fetch(
        "SELECT ticket_id FROM intake.outage_tickets WHERE outage_id = $1 AND ticket_id > $2"
        " ORDER BY ticket_id LIMIT $3",
        outage_id,
        after,
        limit,
    )
    return [r["ticket_id"] for r in rows]


async def abandon_unstarted(
    *, db: asyncpg.Pool, ticket_id: str, request_id: str, older_than: timedelta
) -> bool:
    """Release a ticket's keys, and this repeat's claim on it, if it was never recorded in time.

    True when released: the repeat's retry then claims anew. The ticket's own request keeps its claim,
    so its retry still starts that ticket (which then holds no keys: a later report is a new ticket).
    """
    async with db.acquire() as conn, conn.transaction():
        stale = await conn.fetchval(
            "SELECT NOT EXISTS (SELECT 1 FROM intake.tickets WHERE ticket_id = $1)"
            " AND NOT EXISTS (SELECT 1 FROM intake.pending_tickets WHERE ticket_id = $1)"
            " AND EXISTS (SELECT 1 FROM intake.open_reports WHERE ticket_id = $1"
            "             AND held_since < now() - $2::interval)",
            ticket_id,
            older_than,
        )
        if not stale:
            return False
        await conn.execute("DELETE FROM intake.open_reports WHERE ticket_id = $1", ticket_id)
        await conn.execute(
            "DELETE FROM intake.requests WHERE request_id = $1 AND ticket_id = $2 AND repeat",
            request_id,
            ticket_id,
        )
        return True


async def find_ticket(*, db: Executor, ticket_id: str) -> TicketView | None:
    """The ticket as recorded by its workflow, or as accepted if the workflow has not recorded it yet."""
    found = await find_ticket_state(db=db, ticket_id=ticket_id)
    return None if found is None else found[0]


async def find_ticket_state(*, db: Executor, ticket_id: str) -> tuple[TicketView, bool] | None:
    """The ticket and whether its workflow has recorded it (else it is as accepted, with no timeline).

    The pending row goes only once the view is recorded, so a ticket recorded between the two reads
    is found by reading the view again.
    """
    view = await get_view(db=db, ticket_id=ticket_id)
    if view is None:
        draft = await pending_tickets.get_pending(db=db, ticket_id=ticket_id)
        if draft is not None:
            return pending_tickets.received(draft), False
        view = await get_view(db=db, ticket_id=ticket_id)
    return None if view is None else (view, True)
