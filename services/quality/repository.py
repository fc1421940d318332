"""The quality schema's SQL: the workload ledger, runs, spot checks, inspections, reports."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from desk.db import Executor
from services.quality.contract import LedgerItem
from services.quality.weekly_report import DrawnItem, WeekInspection, WeekItem


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


# --- the weekly report (services/quality/weekly_report.py computes it from these rows) ---


async def week_items(*, db: Executor, first_day: date, last_day: date) -> list[WeekItem]:
    """The ledger's items of the week's days, each with whether its day's daily run drew it."""
    rows = await db.fetch(
        "SELECT i.item_id, i.post, i.staff_id, i.kind, i.subject_staff_id, i.outcome,"
        " EXISTS (SELECT 1 FROM quality.samples s WHERE s.item_id = i.item_id AND s.day = i.day) AS sampled"
        " FROM quality.items i WHERE i.day BETWEEN $1 AND $2 ORDER BY i.position",
        first_day,
        last_day,
    )
    return [WeekItem(**dict(r)) for r in rows]


async def week_spot_checked(*, db: Executor, first_day: date, last_day: date) -> list[DrawnItem]:
    """The items of the week's days that spot checks drew (whenever they were made), each once."""
    rows = await db.fetch(
        "SELECT DISTINCT i.item_id, i.post, i.staff_id FROM quality.spot_check_items c"
        " JOIN quality.items i USING (item_id) WHERE i.day BETWEEN $1 AND $2 ORDER BY i.item_id",
        first_day,
        last_day,
    )
    return [DrawnItem(**dict(r)) for r in rows]


async def week_inspections(*, db: Executor, first_day: date, last_day: date) -> list[WeekInspection]:
    """The inspections of the items of the week's days (whenever recorded), with each item's post,
    person and team, and the codes of the violations named."""
    rows = await db.fetch(
        "SELECT n.item_id, i.post, i.staff_id, i.team_id, n.score, n.scores, n.violations"
        " FROM quality.items i JOIN quality.inspections n USING (item_id)"
        " WHERE i.day BETWEEN $1 AND $2 ORDER BY n.inspected_at, n.item_id",
        first_day,
        last_day,
    )
    return [
        WeekInspection(
            r["item_id"],
            r["post"],
            r["staff_id"],
            r["score"],
            tuple((str(s["criterion"]), int(s["score"])) for s in json.loads(r["scores"])),
            team_id=r["team_id"],
            codes=tuple(str(v["code"]) for v in json.loads(r["violations"])),
        )
        for r in rows
    ]


async def get_report(*, db: Executor, week: str) -> dict[str, Any] | None:
    stored = await db.fetchval("SELECT report FROM quality.reports WHERE week = $1", week)
    return None if stored is None else dict(json.loads(stored))


async def insert_report(*, db: Executor, week: str, report: dict[str, Any], generated_at: datetime) -> bool:
    """Store the week's report once; False when one is stored already (that one stands)."""
    status = await db.execute(
        "INSERT INTO quality.reports (week, report, generated_at) VALUES ($1, $2::jsonb, $3)"
        " ON CONFLICT (week) DO NOTHING",
        week,
        json.dumps(report, ensure_ascii=False),
        generated_at,
    )
    return bool(status == "INSERT 0 1")
