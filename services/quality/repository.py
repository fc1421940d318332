"""The quality schema's SQL: the workload ledger, runs, spot checks, inspections, reports."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

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


# --- spot checks and inspections (services/quality/inspections.py) ---

_INSPECTABLE_COLUMNS = (
    "SELECT i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome,"
    " EXISTS (SELECT 1 FROM quality.samples s WHERE s.item_id = i.item_id) AS sampled,"
    " EXISTS (SELECT 1 FROM quality.spot_check_items c WHERE c.item_id = i.item_id) AS spot_checked,"
    " n.inspection_id, n.score"
)
_INSPECTABLE_FROM = " FROM quality.items i LEFT JOIN quality.inspections n ON n.item_id = i.item_id"
_INSPECTABLE = _INSPECTABLE_COLUMNS + _INSPECTABLE_FROM


def _inspectable_item(row: asyncpg.Record) -> LedgerItem:
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


def _item_state(row: asyncpg.Record, *, origin: Origin | None = None) -> ItemState:
    """``origin`` as the caller knows it (a spot check's items), else from where the item is: a daily
    sample first, as the regular check it counts for."""
    if origin is None:
        origin = Origin.DAILY if row["sampled"] else Origin.SPOT if row["spot_checked"] else None
    return ItemState(
        item=_inspectable_item(row),
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
        f"{_INSPECTABLE_COLUMNS}, count(*) OVER () AS population{_INSPECTABLE_FROM}"  # conditions: constants
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
        f"{_INSPECTABLE} JOIN quality.spot_check_items c2 ON c2.item_id = i.item_id"
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
    row = await db.fetchrow(f"{_INSPECTABLE} WHERE i.item_id = $1", item_id)
    return _item_state(row) if row is not None else None


async def items_awaiting_inspection(*, db: Executor, ticket_id: str) -> list[ItemState]:
    """The ticket's items in a daily sample or a spot check and not inspected yet."""
    rows = await db.fetch(
        f"{_INSPECTABLE} WHERE i.ticket_id = $1 AND n.inspection_id IS NULL"
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


_INSPECTION_ROW = (
    "SELECT n.inspection_id, n.request_id, n.origin, n.inspector, n.score, n.scores, n.violations,"
    " n.findings, n.inspected_at, n.violations_recorded_at,"
    " i.position, i.item_id, i.day, i.post, i.staff_id, i.kind, i.ticket_id, i.team_id, i.event_id,"
    " i.occurred_at, i.detail, i.subject_staff_id, i.outcome"
    " FROM quality.inspections n JOIN quality.items i ON i.item_id = n.item_id"
)


def _inspection_from_row(row: asyncpg.Record) -> Inspection:
    origin = Origin(row["origin"])
    return Inspection(
        inspection_id=row["inspection_id"],
        item=ItemState(_inspectable_item(row), row["position"], origin, row["inspection_id"], row["score"]),
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
    row = await db.fetchrow(f"{_INSPECTION_ROW} WHERE n.request_id = $1", request_id)
    return _inspection_from_row(row) if row is not None else None


async def inspections_to_hand_off(
    *, db: Executor, inspected_before: datetime, limit: int
) -> list[Inspection]:
    """Inspections whose violations are not in the ledger yet, oldest first."""
    rows = await db.fetch(
        f"{_INSPECTION_ROW} WHERE n.violations_recorded_at IS NULL AND n.inspected_at < $1"
        " ORDER BY n.inspected_at LIMIT $2",
        inspected_before,
        limit,
    )
    return [_inspection_from_row(row) for row in rows]


async def mark_violations_recorded(*, db: Executor, inspection_id: str) -> None:
    await db.execute(
        "UPDATE quality.inspections SET violations_recorded_at = now()"
        " WHERE inspection_id = $1 AND violations_recorded_at IS NULL",
        inspection_id,
    )
