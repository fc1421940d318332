"""The quality schema's SQL: the workload ledger, runs, spot checks, inspections, reports."""

from __future__ import annotations

from desk.db import Executor
from services.quality.contract import LedgerItem


async def record_item(*, db: Executor, item: LedgerItem) -> int | None:
    """Add an item to the ledger once; its position, or None when the item id is there already."""
    return await db.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO quality.items (item_id, day, post, staff_id, kind, ticket_id, team_id, event_id,"
        " occurred_at, detail, subject_staff_id, outcome)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (item_id) DO NOTHING RETURNING position",
        item.item_id,
        item.day,
        str(item.post),
        item.staff_id,
        str(item.kind),
        item.ticket_id,
        item.team_id,
        item.event_id,
        item.occurred_at,
        item.detail,
        item.subject_staff_id,
        item.outcome,
    )
