"""SQL of the ``knowledge`` schema: entries and their versions, proposed cases, and search."""

from __future__ import annotations

from typing import Any

from desk.db import Executor
from services.knowledge.contract import KnowledgeMatch
from services.knowledge.entries import Case, CaseState, Entry, EntryStatus, EntryText, Version, excerpt

_ENTRY_COLUMNS = (
    "entry_id, status, version, title, body, category, tags, ticket_id, created_by, created_at,"
    " updated_at, retired_at, retired_by, retired_reason"
)


def _entry(row: Any) -> Entry:
    return Entry(
        entry_id=row["entry_id"],
        status=EntryStatus(row["status"]),
        version=row["version"],
        text=EntryText(row["title"], row["body"], row["category"], list(row["tags"])),
        ticket_id=row["ticket_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        retired_at=row["retired_at"],
        retired_by=row["retired_by"],
        retired_reason=row["retired_reason"],
    )


def _case(row: Any) -> Case:
    return Case(
        ticket_id=row["ticket_id"],
        proposed_by=row["proposed_by"],
        proposed_at=row["proposed_at"],
        note=row["note"],
        state=CaseState(row["state"]),
        warn_at=row["warn_at"],
        due_at=row["due_at"],
        entry_id=row["entry_id"],
        met_at=row["met_at"],
    )


async def insert_entry(*, db: Executor, entry: Entry, request_id: str | None, words: str) -> bool:
    """Store a new entry and its first version; False when its request id (or id) is stored already."""
    inserted = await db.fetchval(
        "INSERT INTO knowledge.entries (entry_id, request_id, status, version, title, body, category, tags,"
        " ticket_id, created_by, created_at, updated_at, words)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12::tsvector)"
        " ON CONFLICT DO NOTHING RETURNING true",
        entry.entry_id, request_id, entry.status, entry.version, entry.text.title, entry.text.body,
        entry.text.category, entry.text.tags, entry.ticket_id, entry.created_by, entry.created_at, words,
    )  # fmt: skip
    if not inserted:
        return False
    await insert_version(db=db, entry_id=entry.entry_id, version=entry.versions[-1])
    return True


async def insert_version(*, db: Executor, entry_id: str, version: Version) -> None:
    await db.execute(
        "INSERT INTO knowledge.versions (entry_id, version, title, body, category, tags, note, written_by,"
        " written_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        entry_id, version.version, version.text.title, version.text.body, version.text.category,
        version.text.tags, version.note, version.written_by, version.written_at,
    )  # fmt: skip


async def entry_for_request(*, db: Executor, request_id: str) -> str | None:
    found: str | None = await db.fetchval(
        "SELECT entry_id FROM knowledge.entries WHERE request_id = $1", request_id
    )
    return found


async def get_entry(*, db: Executor, entry_id: str, for_update: bool = False) -> Entry | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await db.fetchrow(
        f"SELECT {_ENTRY_COLUMNS} FROM knowledge.entries WHERE entry_id = $1{lock}", entry_id
    )
    return None if row is None else _entry(row)


async def get_versions(*, db: Executor, entry_id: str) -> list[Version]:
    rows = await db.fetch(
        "SELECT version, title, body, category, tags, note, written_by, written_at FROM knowledge.versions"
        " WHERE entry_id = $1 ORDER BY version",
        entry_id,
    )
    return [
        Version(
            r["version"],
            EntryText(r["title"], r["body"], r["category"], list(r["tags"])),
            r["note"],
            r["written_by"],
            r["written_at"],
        )
        for r in rows
    ]


async def save_revision(*, db: Executor, entry: Entry, version: Version, words: str) -> None:
    """The entry's new current text, and the version it came from, kept beside the older ones."""
    await db.execute(
        "UPDATE knowledge.entries SET version = $2, title = $3, body = $4, category = $5, tags = $6,"
        " updated_at = $7, words = $8::tsvector WHERE entry_id = $1",
        entry.entry_id, version.version, version.text.title, version.text.body, version.text.category,
        version.text.tags, version.written_at, words,
    )  # fmt: skip
    await insert_version(db=db, entry_id=entry.entry_id, version=version)


async def save_retirement(*, db: Executor, entry: Entry) -> None:
    await db.execute(
        "UPDATE knowledge.entries SET status = $2, retired_at = $3, retired_by = $4, retired_reason = $5,"
        " updated_at = $3 WHERE entry_id = $1",
        entry.entry_id, entry.status, entry.retired_at, entry.retired_by, entry.retired_reason,
    )  # fmt: skip


async def next_entry_sequence(*, db: Executor, entry_id: str) -> int:
    sequence: int = await db.fetchval(
        "UPDATE knowledge.entries SET events = events + 1 WHERE entry_id = $1 RETURNING events", entry_id
    )
    return sequence


async def search(*, db: Executor, query: str, limit: int) -> list[KnowledgeMatch]:
    """Published entries matching the ``tsquery`` literal, best rank first (newer first on a tie)."""
    rows = await db.fetch(
        "SELECT entry_id, title, category, body, ts_rank(words, q) AS score"
        " FROM knowledge.entries, CAST($1 AS tsquery) AS q"
        " WHERE status = 'PUBLISHED' AND words @@ q"
        " ORDER BY score DESC, updated_at DESC, entry_id LIMIT $2",
        query,
        limit,
    )
    return [
        KnowledgeMatch(r["entry_id"], r["title"], r["category"], excerpt(r["body"]), float(r["score"]))
        for r in rows
    ]


async def insert_case(*, db: Executor, case: Case) -> bool:
    """Store a proposed case; False when the ticket was proposed already."""
    inserted = await db.fetchval(
        "INSERT INTO knowledge.candidates (ticket_id, proposed_by, proposed_at, note, state, warn_at, due_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
        case.ticket_id, case.proposed_by, case.proposed_at, case.note, case.state, case.warn_at, case.due_at,
    )  # fmt: skip
    return bool(inserted)


async def get_case(*, db: Executor, ticket_id: str, for_update: bool = False) -> Case | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await db.fetchrow(f"SELECT * FROM knowledge.candidates WHERE ticket_id = $1{lock}", ticket_id)
    return None if row is None else _case(row)


async def list_cases(*, db: Executor, include_met: bool, limit: int) -> list[Case]:
    rows = await db.fetch(
        "SELECT * FROM knowledge.candidates WHERE $1 OR state <> 'MET' ORDER BY due_at, ticket_id LIMIT $2",
        include_met,
        limit,
    )
    return [_case(r) for r in rows]


async def save_case_state(*, db: Executor, case: Case) -> None:
    await db.execute(
        "UPDATE knowledge.candidates SET state = $2, entry_id = $3, met_at = $4 WHERE ticket_id = $1",
        case.ticket_id,
        case.state,
        case.entry_id,
        case.met_at,
    )


async def next_case_sequence(*, db: Executor, ticket_id: str) -> int:
    sequence: int = await db.fetchval(
        "UPDATE knowledge.candidates SET events = events + 1 WHERE ticket_id = $1 RETURNING events", ticket_id
    )
    return sequence


async def entry_for_ticket(*, db: Executor, ticket_id: str) -> str:
    """The oldest entry written for a case, retired or not ("" when none)."""
    found: str | None = await db.fetchval(
        "SELECT entry_id FROM knowledge.entries WHERE ticket_id = $1 ORDER BY created_at, entry_id LIMIT 1",
        ticket_id,
    )
    return found or ""
