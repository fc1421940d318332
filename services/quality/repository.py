"""The quality schema's SQL: the workload ledger, runs, spot checks, inspections, reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from desk.db import Executor
from services.quality.contract import LedgerItem
from services.quality.inspection_records import (
    CriterionScore,
    Inspection,
    ItemState,
    NamedViolation,
    Origin,
    Slice,
    SpotCheck,
)
from services.quality.sampling import Count, Draw
from services.quality.scorecards import ItemKind, Post
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


# --- daily sampling (定期检查): the ledger as a run sees it, the runs and their samples ---

_SAMPLING_LOCK = 0x7173_6D70  # pg_advisory_xact_lock(_SAMPLING_LOCK, day): one run of a day at a time
_EPOCH = date(2000, 1, 1)

_ITEM_COLUMNS = (
    "i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome"
)


@dataclass(frozen=True)
class StoredRun:
    day: date
    key_id: str
    rate_per_mille: int
    ledger_position: int
    population: tuple[Count, ...]
    ran_at: datetime


# --- spot checks and inspections (services/quality/inspections.py) ---

_ITEM_STATE_COLUMNS = (
    "SELECT i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome,"
    " EXISTS (SELECT 1 FROM quality.samples s WHERE s.item_id = i.item_id) AS sampled,"
    " EXISTS (SELECT 1 FROM quality.spot_check_items c WHERE c.item_id = i.item_id) AS spot_checked,"
    " n.inspection_id, n.score"
)
_ITEM_FROM = " FROM quality.items i LEFT JOIN quality.inspections n ON n.item_id = i.item_id"
_ITEM_STATE = _ITEM_STATE_COLUMNS + _ITEM_FROM


def _ledger_item(row: asyncpg.Record) -> LedgerItem:
    return LedgerItem(
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


def _ledger_row(row: asyncpg.Record) -> ItemState:
    """A ledger item with its place in the ledger and, once inspected, its inspection."""
    inspection_id, score = row.get("inspection_id") or "", row.get("score") or 0
    return ItemState(_ledger_item(row), row["position"], inspection_id=inspection_id, score=score)


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


async def day_items(*, db: Executor, day: date, up_to: int) -> list[ItemState]:
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


async def run_samples(*, db: Executor, day: date) -> list[ItemState]:
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
) -> list[ItemState]:
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


def _item_state(row: asyncpg.Record, *, origin: Origin | None = None) -> ItemState:
    """``origin`` as the caller knows it (a spot check's items), else from where the item is: a daily
    sample first, as the regular check it counts for."""
    if origin is None:
        origin = Origin.DAILY if row["sampled"] else Origin.SPOT if row["spot_checked"] else None
    return ItemState(
        item=_ledger_item(row),
        position=row["position"],
        origin=origin,
        inspection_id=row["inspection_id"] or "",
        score=row["score"] or 0,
    )


def _slice_filter(scope: Slice, first: int) -> tuple[str, list[object]]:
    """The WHERE conditions of a slice (only those it names), numbered from parameter ``first``."""
    named: list[tuple[str, object]] = [
        ("i.ticket_id = ${}", scope.ticket_id or None),
        ("i.staff_id = ${}", scope.agent_id or None),
        ("i.team_id = ${}", scope.team_id or None),
        ("i.post = ${}", str(scope.post) if scope.post else None),
        ("i.occurred_at >= ${}", scope.window_start),
        ("i.occurred_at < ${}", scope.window_end),
    ]
    conditions, values = [], []
    for condition, value in named:
        if value is not None:
            values.append(value)
            conditions.append(condition.format(first + len(values) - 1))
    return "".join(f" AND {c}" for c in conditions), values


async def draw_slice(
    *, db: Executor, scope: Slice, size: int | None, nonce: bytes
) -> tuple[int, list[ItemState]]:
    """The slice's items not inspected yet: how many, and ``size`` of them (all for None) in the order
    SHA-256(item id ‖ nonce) gives, which only the holder of the nonce could foresee."""
    conditions, values = _slice_filter(scope, first=3)
    rows = await db.fetch(
        f"{_ITEM_STATE_COLUMNS}, count(*) OVER () AS population{_ITEM_FROM}"  # conditions: constants
        " WHERE n.inspection_id IS NULL"
        f"{conditions}"
        " ORDER BY sha256(convert_to(i.item_id, 'UTF8') || $1::bytea) LIMIT $2",
        nonce,
        size,
        *values,
    )
    population = rows[0]["population"] if rows else 0
    drawn = sorted(rows, key=lambda row: row["position"])  # in ledger order, as it is read back
    return population, [_item_state(row, origin=Origin.SPOT) for row in drawn]


async def insert_spot_check(*, db: Executor, spot: SpotCheck) -> None:
    """Store the spot check and what it drew (a second one with its request id: UniqueViolationError)."""
    scope = {**spot.scope.to_json(), "size": spot.size}
    await db.execute(
        "INSERT INTO quality.spot_checks (spot_check_id, request_id, reason, scope, population, requested_by,"
        " created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)",
        spot.spot_check_id,
        spot.request_id,
        spot.reason,
        json.dumps(scope),
        spot.population,
        spot.requested_by,
        spot.created_at,
    )
    await db.executemany(
        "INSERT INTO quality.spot_check_items (spot_check_id, item_id) VALUES ($1, $2)",
        [(spot.spot_check_id, s.item.item_id) for s in spot.items],
    )


async def get_spot_check(*, db: Executor, request_id: str) -> SpotCheck | None:
    """The spot check a request id made, its items as they stand now (inspected or not)."""
    row = await db.fetchrow("SELECT * FROM quality.spot_checks WHERE request_id = $1", request_id)
    if row is None:
        return None
    items = await db.fetch(
        f"{_ITEM_STATE} JOIN quality.spot_check_items c2 ON c2.item_id = i.item_id"
        " WHERE c2.spot_check_id = $1 ORDER BY i.position",
        row["spot_check_id"],
    )
    scope = json.loads(row["scope"])
    return SpotCheck(
        spot_check_id=row["spot_check_id"],
        request_id=row["request_id"],
        reason=row["reason"],
        scope=Slice.from_json(scope),
        size=scope.get("size", 0),
        population=row["population"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        items=[_item_state(item, origin=Origin.SPOT) for item in items],
    )


async def get_item_state(*, db: Executor, item_id: str) -> ItemState | None:
    row = await db.fetchrow(f"{_ITEM_STATE} WHERE i.item_id = $1", item_id)
    return _item_state(row) if row is not None else None


async def items_awaiting_inspection(*, db: Executor, ticket_id: str) -> list[ItemState]:
    """The ticket's items in a daily sample or a spot check and not inspected yet."""
    rows = await db.fetch(
        f"{_ITEM_STATE} WHERE i.ticket_id = $1 AND n.inspection_id IS NULL"
        " AND (EXISTS (SELECT 1 FROM quality.samples s WHERE s.item_id = i.item_id)"
        " OR EXISTS (SELECT 1 FROM quality.spot_check_items c WHERE c.item_id = i.item_id))"
        " ORDER BY i.position",
        ticket_id,
    )
    return [_item_state(row) for row in rows]


async def insert_inspection(*, db: Executor, inspection: Inspection) -> None:
    """Store it (another for the item, or its request id again: UniqueViolationError)."""
    await db.execute(
        "INSERT INTO quality.inspections (inspection_id, item_id, request_id, origin, inspector, score,"
        " scores, violations, findings, inspected_at, violations_recorded_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)",
        inspection.inspection_id,
        inspection.item.item.item_id,
        inspection.request_id,
        str(inspection.origin),
        inspection.inspector,
        inspection.score,
        json.dumps([asdict(s) for s in inspection.scores]),
        json.dumps([asdict(v) for v in inspection.violations]),
        inspection.findings,
        inspection.inspected_at,
        inspection.violations_recorded_at,
    )


_INSPECTION = (
    "SELECT n.inspection_id, n.request_id, n.origin, n.inspector, n.score, n.scores, n.violations,"
    " n.findings, n.inspected_at, n.violations_recorded_at,"
    " i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome"
    " FROM quality.inspections n JOIN quality.items i ON i.item_id = n.item_id"
)


def _inspection(row: asyncpg.Record) -> Inspection:
    origin = Origin(row["origin"])
    return Inspection(
        inspection_id=row["inspection_id"],
        item=ItemState(_ledger_item(row), row["position"], origin, row["inspection_id"], row["score"]),
        request_id=row["request_id"],
        origin=origin,
        inspector=row["inspector"],
        score=row["score"],
        scores=[CriterionScore(**s) for s in json.loads(row["scores"])],
        violations=[NamedViolation(**v) for v in json.loads(row["violations"])],
        findings=row["findings"],
        inspected_at=row["inspected_at"],
        violations_recorded_at=row["violations_recorded_at"],
    )


async def get_inspection(*, db: Executor, request_id: str) -> Inspection | None:
    row = await db.fetchrow(f"{_INSPECTION} WHERE n.request_id = $1", request_id)
    return _inspection(row) if row is not None else None


async def inspections_to_hand_off(
    *, db: Executor, inspected_before: datetime, limit: int
) -> list[Inspection]:
    """Inspections whose violations are not in the ledger yet, oldest first."""
    rows = await db.fetch(
        f"{_INSPECTION} WHERE n.violations_recorded_at IS NULL AND n.inspected_at < $1"
        " ORDER BY n.inspected_at LIMIT $2",
        inspected_before,
        limit,
    )
    return [_inspection(row) for row in rows]


async def mark_violations_recorded(*, db: Executor, inspection_id: str) -> None:
    await db.execute(
        "UPDATE quality.inspections SET violations_recorded_at = now()"
        " WHERE inspection_id = $1 AND violations_recorded_at IS NULL",
        inspection_id,
    )
