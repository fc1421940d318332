"""The quality schema's SQL: the workload ledger, runs, spot checks, inspections, reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from desk.db import Executor
from services.quality.contract import LedgerItem
from services.quality.sampling import Count, Draw
from services.quality.scorecards import ItemKind, Post


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


# --- daily sampling (定期检查): the ledger as a run sees it, the runs and their samples ---

_SAMPLING_LOCK = 0x7173_6D70  # pg_advisory_xact_lock(_SAMPLING_LOCK, day): one run of a day at a time
_EPOCH = date(2000, 1, 1)

_ITEM_COLUMNS = (
    "i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome"
)


@dataclass(frozen=True)
class LedgerRow:
    """A ledger item with its place in the ledger and, once inspected, its inspection."""

    item: LedgerItem
    position: int
    inspection_id: str = ""
    score: int = 0


@dataclass(frozen=True)
class StoredRun:
    day: date
    key_id: str
    rate_per_mille: int
    ledger_position: int
    population: tuple[Count, ...]
    ran_at: datetime


def _ledger_row(row: asyncpg.Record) -> LedgerRow:
    item = LedgerItem(
        item_id=row["item_id"],
        day=row["day"],
        post=Post(row["post"]),
        staff_id=row["staff_id"],
        kind=ItemKind(row["kind"]),
        event_id=row["event_id"],
        occurred_at=row["occurred_at"],
        ticket_id=row["ticket_id"],
        team_id=row["team_id"],
        detail=row["detail"],
        subject_staff_id=row["subject_staff_id"],
        outcome=row["outcome"],
    )
    return LedgerRow(item, row["position"], row.get("inspection_id") or "", row.get("score") or 0)


async def hold_day_for_sampling(*, db: Executor, day: date) -> None:
    """In the caller's transaction: one run of ``day`` at a time, and a ledger that stands still.

    Positions come from a sequence, so an item being recorded now may hold a smaller position than one
    already committed: a run reading "up to the largest position" could miss it and yet claim it. The
    SHARE lock waits for the ledger's writes under way and holds new ones back until the run commits,
    so every item up to the position the run reads is one it sees, and every later one is late.
    """
    await db.execute("SELECT pg_advisory_xact_lock($1, $2)", _SAMPLING_LOCK, (day - _EPOCH).days)
    await db.execute("LOCK TABLE quality.items IN SHARE MODE")


async def ledger_position(*, db: Executor) -> int:
    """The ledger's last position (0 when empty)."""
    return int(await db.fetchval("SELECT coalesce(max(position), 0) FROM quality.items"))


async def day_items(*, db: Executor, day: date, up_to: int) -> list[LedgerRow]:
    rows = await db.fetch(
        f"SELECT {_ITEM_COLUMNS} FROM quality.items i"
        " WHERE i.day = $1 AND i.position <= $2 ORDER BY i.position",
        day,
        up_to,
    )
    return [_ledger_row(row) for row in rows]


def _count_to_json(count: Count) -> dict[str, object]:
    return {
        "post": str(count.post),
        "staff_id": count.staff_id,
        "items": count.items,
        "sampled": count.sampled,
    }


def _count_from_json(raw: dict[str, Any]) -> Count:
    return Count(Post(raw["post"]), str(raw["staff_id"]), int(raw["items"]), int(raw["sampled"]))


async def insert_run(*, db: Executor, drawn: Draw, ledger_position: int, ran_at: datetime) -> None:
    await db.execute(
        "INSERT INTO quality.runs (day, key_id, rate_per_mille, ledger_position, population, ran_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
        drawn.day,
        drawn.key_id,
        drawn.rate_per_mille,
        ledger_position,
        json.dumps([_count_to_json(c) for c in drawn.population]),
        ran_at,
    )
    await db.executemany(
        "INSERT INTO quality.samples (day, item_id) VALUES ($1, $2)", [(drawn.day, i) for i in drawn.item_ids]
    )


async def get_run(*, db: Executor, day: date) -> StoredRun | None:
    row = await db.fetchrow(
        "SELECT day, key_id, rate_per_mille, ledger_position, population, ran_at"
        " FROM quality.runs WHERE day = $1",
        day,
    )
    if row is None:
        return None
    population = json.loads(row["population"]) if isinstance(row["population"], str) else row["population"]
    return StoredRun(
        day=row["day"],
        key_id=row["key_id"],
        rate_per_mille=row["rate_per_mille"],
        ledger_position=row["ledger_position"],
        population=tuple(_count_from_json(c) for c in population),
        ran_at=row["ran_at"],
    )


async def run_samples(*, db: Executor, day: date) -> list[LedgerRow]:
    """The items a day's run drew, with their inspections, in item id order."""
    rows = await db.fetch(
        f"SELECT {_ITEM_COLUMNS}, n.inspection_id, n.score FROM quality.samples s"
        " JOIN quality.items i ON i.item_id = s.item_id"
        " LEFT JOIN quality.inspections n ON n.item_id = s.item_id"
        " WHERE s.day = $1 ORDER BY s.item_id",
        day,
    )
    return [_ledger_row(row) for row in rows]


async def late_items(*, db: Executor, day: date, after: int) -> int:
    """Items of ``day`` recorded after a run that saw the ledger up to ``after``."""
    return int(
        await db.fetchval("SELECT count(*) FROM quality.items WHERE day = $1 AND position > $2", day, after)
    )


async def workload(
    *, db: Executor, day: date, post: Post | None, staff_id: str, after: int, limit: int
) -> list[LedgerRow]:
    """A page of the day's ledger items in ledger order, after position ``after``, with inspections."""
    rows = await db.fetch(
        f"SELECT {_ITEM_COLUMNS}, n.inspection_id, n.score FROM quality.items i"
        " LEFT JOIN quality.inspections n ON n.item_id = i.item_id"
        " WHERE i.day = $1 AND ($2::text IS NULL OR i.post = $2) AND ($3 = '' OR i.staff_id = $3)"
        " AND i.position > $4 ORDER BY i.position LIMIT $5",
        day,
        str(post) if post else None,
        staff_id,
        after,
        limit,
    )
    return [_ledger_row(row) for row in rows]
