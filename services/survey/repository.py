"""SQL of the survey schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from desk.db import Executor
from desk.records import from_json, to_json
from domain.aftercare_policy import AftercarePolicy
from domain.callbacks import CallbackRecord, PendingCallback
from domain.surveys import SurveyRecord
from domain.ticket import TicketView

DEFAULT_POLICY_ID = "default"


async def save_callback(*, db: Executor, callback: CallbackRecord) -> None:
    await db.execute(
        "INSERT INTO survey.callbacks (ticket_id, recorded_at, reached, confirmed_resolved,"
        " termination_reason, note, surveyor, ticket_status, request_id, attempt)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        callback.ticket_id,
        callback.recorded_at,
        callback.reached,
        callback.confirmed_resolved,
        callback.termination_reason,
        callback.note,
        callback.surveyor,
        callback.ticket_status,
        callback.request_id,
        callback.attempt,
    )


async def list_callbacks(*, db: Executor, ticket_id: str) -> list[CallbackRecord]:
    rows = await db.fetch(
        "SELECT ticket_id, reached, confirmed_resolved, termination_reason, note, surveyor, recorded_at,"
        " ticket_status, request_id, attempt FROM survey.callbacks WHERE ticket_id = $1 ORDER BY recorded_at",
        ticket_id,
    )
    return [CallbackRecord(**dict(r)) for r in rows]


_POLICY_COLUMNS = (
    "callback_attempts, callback_interval_seconds, surveyed_kinds, survey_window_seconds,"
    " investigation_seconds, investigation_calendar, warning_percent, time_zone, archive_delay_seconds,"
    " version"
)


def _policy(row: asyncpg.Record) -> AftercarePolicy:
    values = dict(row)
    values["surveyed_kinds"] = list(values["surveyed_kinds"])
    return AftercarePolicy(**values)


async def get_policy(*, db: Executor) -> AftercarePolicy:
    """The policy in force; the defaults when its row is missing (a schema seeded by hand)."""
    row = await db.fetchrow(
        f"SELECT {_POLICY_COLUMNS} FROM survey.policies WHERE policy_id = $1", DEFAULT_POLICY_ID
    )
    return AftercarePolicy() if row is None else _policy(row)


async def put_policy(*, db: Executor, policy: AftercarePolicy) -> AftercarePolicy:
    """Replace the policy in force; each change raises its version."""
    row = await db.fetchrow(
        "INSERT INTO survey.policies (policy_id, callback_attempts, callback_interval_seconds,"
        " surveyed_kinds, survey_window_seconds, investigation_seconds, investigation_calendar,"
        " warning_percent, time_zone, archive_delay_seconds)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (policy_id) DO UPDATE SET callback_attempts = $2, callback_interval_seconds = $3,"
        " surveyed_kinds = $4, survey_window_seconds = $5, investigation_seconds = $6,"
        " investigation_calendar = $7, warning_percent = $8, time_zone = $9, archive_delay_seconds = $10,"
        " version = survey.policies.version + 1, updated_at = now()"
        f" RETURNING {_POLICY_COLUMNS}",
        DEFAULT_POLICY_ID,
        policy.callback_attempts,
        policy.callback_interval_seconds,
        policy.surveyed_kinds,
        policy.survey_window_seconds,
        policy.investigation_seconds,
        policy.investigation_calendar,
        policy.warning_percent,
        policy.time_zone,
        policy.archive_delay_seconds,
    )
    assert row is not None
    return _policy(row)


async def save_pending_callback(*, db: Executor, entry: PendingCallback) -> None:
    """Keep the ticket in the queue while it awaits a callback; take it out once it no longer does."""
    if not entry.pending or entry.due_at is None:
        await db.execute("DELETE FROM survey.pending_callbacks WHERE ticket_id = $1", entry.ticket_id)
        return
    await db.execute(
        "INSERT INTO survey.pending_callbacks (ticket_id, due_at, attempts, max_attempts, next_attempt_at,"
        " ticket) VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
        " ON CONFLICT (ticket_id) DO UPDATE SET due_at = $2, attempts = $3, max_attempts = $4,"
        " next_attempt_at = $5, ticket = $6::jsonb, updated_at = now()",
        entry.ticket_id,
        entry.due_at,
        entry.attempts,
        entry.max_attempts,
        entry.next_attempt_at,
        to_json(entry.ticket),
    )


async def list_pending_callbacks(
    *, db: Executor, after: tuple[datetime, str] | None, limit: int
) -> list[PendingCallback]:
    """Earliest callback deadline first, keyset-paged on (due_at, ticket_id)."""
    clause, args = "TRUE", list[Any]()
    if after is not None:
        clause, args = "(due_at, ticket_id) > ($1, $2)", [after[0], after[1]]
    args.append(limit)
    rows = await db.fetch(
        "SELECT ticket_id, due_at, attempts, max_attempts, next_attempt_at, ticket"
        f" FROM survey.pending_callbacks WHERE {clause} ORDER BY due_at, ticket_id LIMIT ${len(args)}",
        *args,
    )
    return [
        PendingCallback(
            ticket_id=r["ticket_id"],
            pending=True,
            due_at=r["due_at"],
            attempts=r["attempts"],
            max_attempts=r["max_attempts"],
            next_attempt_at=r["next_attempt_at"],
            ticket=from_json(r["ticket"], TicketView),
        )
        for r in rows
    ]


async def save_survey(*, db: Executor, survey: SurveyRecord) -> None:
    await db.execute(
        "INSERT INTO survey.surveys (ticket_id, round, status, rating, request_id, due_at, record)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
        " ON CONFLICT (ticket_id, round) DO UPDATE SET status = $3, rating = $4, request_id = $5,"
        " due_at = $6, record = $7::jsonb, updated_at = now()",
        survey.ticket_id,
        survey.round,
        str(survey.status),
        survey.rating,
        survey.request_id,
        survey.due_at,
        to_json(survey),
    )


async def latest_survey(*, db: Executor, ticket_id: str) -> SurveyRecord | None:
    """The ticket's latest survey round, if it has been surveyed."""
    data = await db.fetchval(
        "SELECT record FROM survey.surveys WHERE ticket_id = $1 ORDER BY round DESC LIMIT 1", ticket_id
    )
    return None if data is None else from_json(data, SurveyRecord)
