"""SQL over the stored reports (migration 002_reports.sql): written once, read many times."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from desk.db import Executor
from services.stats.periods import ReportPeriod


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    first_day: date
    last_day: date
    report: dict[str, Any]  # the Report message's JSON
    measures: dict[str, int]


@dataclass(frozen=True)
class Correction:
    corrected_report_id: str
    measure: str
    delta: int


def _stored(row: asyncpg.Record) -> StoredReport:
    return StoredReport(
        report_id=row["report_id"],
        first_day=row["first_day"],
        last_day=row["last_day"],
        report=_json(row["report"]),
        measures={k: int(v) for k, v in _json(row["measures"]).items()},
    )


def _json(value: Any) -> dict[str, Any]:
    """asyncpg hands jsonb over as text unless a codec is set: either way, a dict."""
    return json.loads(value) if isinstance(value, str) else dict(value)


_COLUMNS = "report_id, first_day, last_day, report, measures"


async def get(db: Executor, report_id: str) -> StoredReport | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM stats.reports WHERE report_id = $1", report_id)
    return _stored(row) if row is not None else None


async def insert(
    db: Executor,
    period: ReportPeriod,
    *,
    report: dict[str, Any],
    measures: Mapping[str, int],
    generated_by: str,
    generated_at: datetime,
) -> None:
    await db.execute(
        "INSERT INTO stats.reports (report_id, period, boundary, first_day, last_day, report, measures,"
        " generated_by, generated_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)",
        period.report_id,
        period.kind.value,
        period.boundary.value,
        period.first_day,
        period.last_day,
        json.dumps(report),
        json.dumps(dict(measures)),
        generated_by,
        generated_at,
    )


async def ensure_series(db: Executor, period: ReportPeriod) -> None:
    """The period kind and boundary's row in ``stats.report_series`` (made once)."""
    await db.execute(
        "INSERT INTO stats.report_series (period, boundary) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        period.kind.value,
        period.boundary.value,
    )


async def claim_series(db: Executor, period: ReportPeriod) -> None:
    """Update the row: held until the transaction ends; in repeatable read, a transaction that waited
    for another's update fails to serialize (asyncpg.SerializationError) once that one commits."""
    await db.execute(
        "UPDATE stats.report_series SET generations = generations + 1 WHERE period = $1 AND boundary = $2",
        period.kind.value,
        period.boundary.value,
    )


async def earlier(db: Executor, period: ReportPeriod) -> list[StoredReport]:
    """The reports of the period's kind and boundary that ended before it began, oldest first."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM stats.reports WHERE period = $1 AND boundary = $2 AND last_day < $3"
        " ORDER BY first_day",
        period.kind.value,
        period.boundary.value,
        period.first_day,
    )
    return [_stored(row) for row in rows]


_FINGERPRINT_SQL = """
SELECT p.report_id, coalesce(sum(hashtext(r::text)::bigint), 0)::bigint AS fingerprint
  FROM unnest($1::text[], $2::date[], $3::date[]) AS p(report_id, first_day, last_day)
  JOIN {table} r ON r.day BETWEEN p.first_day AND p.last_day
 GROUP BY p.report_id
"""
FINGERPRINTED = ("stats.daily", "stats.daily_agents")
"""The roll-up tables whose rows make a report's measures (rollups.period_totals' counts)."""


async def fingerprints(db: Executor, periods: Sequence[tuple[str, date, date]]) -> dict[str, int]:
    """Per report id, a hash of every roll-up row of its days: equal while none of them changed."""
    found = {report_id: 0 for report_id, _, _ in periods}
    columns = [list(column) for column in zip(*periods, strict=True)] if periods else [[], [], []]
    for table in FINGERPRINTED:
        for row in await db.fetch(_FINGERPRINT_SQL.format(table=table), *columns):
            found[row["report_id"]] = (found[row["report_id"]] * 31 + int(row["fingerprint"])) % 2**62
    return found


async def fingerprints_seen(db: Executor, report_ids: Sequence[str]) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT report_id, fingerprint FROM stats.report_rollups_seen WHERE report_id = ANY($1::text[])",
        list(report_ids),
    )
    return {row["report_id"]: int(row["fingerprint"]) for row in rows}


async def see_fingerprints(db: Executor, seen: Mapping[str, int]) -> None:
    await db.executemany(
        "INSERT INTO stats.report_rollups_seen (report_id, fingerprint) VALUES ($1, $2)"
        " ON CONFLICT (report_id) DO UPDATE SET fingerprint = excluded.fingerprint",
        list(seen.items()),
    )


async def corrections_issued(db: Executor, report_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per corrected report, each measure's corrections so far, summed."""
    rows = await db.fetch(
        "SELECT corrected_report_id, measure, sum(delta) AS delta FROM stats.late_corrections"
        " WHERE corrected_report_id = ANY($1::text[]) GROUP BY corrected_report_id, measure",
        list(report_ids),
    )
    issued: dict[str, dict[str, int]] = {}
    for row in rows:
        issued.setdefault(row["corrected_report_id"], {})[row["measure"]] = int(row["delta"])
    return issued


async def insert_corrections(db: Executor, report_id: str, corrections: Sequence[Correction]) -> None:
    if not corrections:
        return
    await db.executemany(
        "INSERT INTO stats.late_corrections (report_id, corrected_report_id, measure, delta)"
        " VALUES ($1, $2, $3, $4)",
        [(report_id, c.corrected_report_id, c.measure, c.delta) for c in corrections],
    )


async def page(
    db: Executor, *, period: str, after: tuple[date, str] | None, limit: int
) -> list[dict[str, Any]]:
    """Newest period first (then by id); ``period`` '' is every kind. ``limit`` + 1 rows are asked
    for, so the caller knows whether another page follows."""
    rows = await db.fetch(
        "SELECT report FROM stats.reports WHERE ($1 = '' OR period = $1)"
        " AND ($2::date IS NULL OR (first_day, report_id) < ($2::date, $3))"
        " ORDER BY first_day DESC, report_id DESC LIMIT $4",
        period,
        after[0] if after else None,
        after[1] if after else "",
        limit + 1,
    )
    return [_json(row["report"]) for row in rows]
