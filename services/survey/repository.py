"""SQL of the survey schema."""

from __future__ import annotations

from desk.db import Executor
from domain.callbacks import CallbackRecord


async def save_callback(*, db: Executor, callback: CallbackRecord) -> None:
    await db.execute(
        "INSERT INTO survey.callbacks (ticket_id, recorded_at, reached, confirmed_resolved,"
        " termination_reason, note, surveyor, ticket_status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        callback.ticket_id,
        callback.recorded_at,
        callback.reached,
        callback.confirmed_resolved,
        callback.termination_reason,
        callback.note,
        callback.surveyor,
        callback.ticket_status,
    )


async def list_callbacks(*, db: Executor, ticket_id: str) -> list[CallbackRecord]:
    rows = await db.fetch(
        "SELECT ticket_id, reached, confirmed_resolved, termination_reason, note, surveyor, recorded_at,"
        " ticket_status FROM survey.callbacks WHERE ticket_id = $1 ORDER BY recorded_at",
        ticket_id,
    )
    return [CallbackRecord(**dict(r)) for r in rows]
