"""The knowledge base's changes: propose a case, write, revise and retire entries, each with its events.

Each change is one transaction over the ``knowledge`` schema that also queues its events in
``knowledge.outbox`` (published by the knowledge relay, :data:`KNOWLEDGE_OUTBOX`), so an event goes
out exactly when its change is stored. A proposal then starts the case's workflow and an entry that
answers a case tells it; both are safe to repeat.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from desk.db import Executor
from desk.errors import InvalidArgument, NotFound
from desk.events import EventSpec
from desk.outbox import Outbox, trace_context
from services.knowledge import repository
from services.knowledge.cases import CaseWorkflows
from services.knowledge.contract import KnowledgeCaseInput, TicketLookup, entry_deadline
from services.knowledge.entries import (
    Case,
    CaseState,
    Entry,
    EntryStatus,
    EntryText,
    Version,
    check_revisable,
    check_text,
    entry_event,
    proposed_event,
)
from services.knowledge.matching import index_literal
from services.knowledge.segmentation import Segmenter

KNOWLEDGE_OUTBOX = Outbox(schema="knowledge", relay_lock=0x6865_6C6B)


def _now() -> datetime:
    return datetime.now(UTC)


class KnowledgeBase:
    def __init__(
        self,
        db: asyncpg.Pool,
        segmenter: Segmenter,
        cases: CaseWorkflows,
        tickets: TicketLookup,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._segmenter = segmenter
        self._cases = cases
        self._tickets = tickets
        self._clock = clock

    async def propose(self, *, ticket_id: str, note: str, actor: str) -> Case:
        """Mark a hard case for the knowledge base; proposing it again answers the case as it stands."""
        if not await self._tickets.ticket_exists(ticket_id):
            raise NotFound("ticket", ticket_id)
        now = self._clock()
        deadline = entry_deadline(now)
        case = Case(ticket_id, actor, now, note, CaseState.PENDING, deadline.warn_at, deadline.due_at)
        async with self._db.acquire() as conn, conn.transaction():
            if await repository.insert_case(db=conn, case=case):
                sequence = await repository.next_case_sequence(db=conn, ticket_id=ticket_id)
                await self._queue(conn, proposed_event(case, sequence))
            else:
                stored = await repository.get_case(db=conn, ticket_id=ticket_id)
                assert stored is not None, "a case is never deleted"
                case = stored
        if case.state != CaseState.MET:
            await self._cases.start(KnowledgeCaseInput(ticket_id, case.proposed_at, case.proposed_by))
        return case

    async def create(self, *, text: EntryText, ticket_id: str, request_id: str, actor: str) -> Entry:
        """Publish a new entry as version 1; the same request id again answers the entry it created."""
        check_text(text)
        if ticket_id and not await self._tickets.ticket_exists(ticket_id):
            raise NotFound("ticket", ticket_id)
        now = self._clock()
        entry_id = _entry_id(request_id)
        entry = Entry(entry_id, EntryStatus.PUBLISHED, 1, text, ticket_id, actor, now, now)
        entry.versions = [Version(1, text, "", actor, now)]
        words = index_literal(self._segmenter, title=text.title, rest=[text.body, text.category, *text.tags])
        met: Case | None = None
        async with self._db.acquire() as conn, conn.transaction():
            if not await repository.insert_entry(
                db=conn, entry=entry, request_id=request_id or None, words=words
            ):
                return await self.get(entry_id)
            sequence = await repository.next_entry_sequence(db=conn, entry_id=entry_id)
            await self._queue(conn, entry_event(entry, "published", sequence=sequence, actor=actor, at=now))
            if ticket_id:
                met = await _meet_case(conn, ticket_id, entry_id, now)
        if met is not None:
            await self._cases.entry_written(ticket_id, entry_id)
        return entry

    async def revise(
        self, *, entry_id: str, text: EntryText, note: str, expected_version: int, actor: str
    ) -> Entry:
        check_text(text)
        now = self._clock()
        words = index_literal(self._segmenter, title=text.title, rest=[text.body, text.category, *text.tags])
        async with self._db.acquire() as conn, conn.transaction():
            entry = await _entry_for_change(conn, entry_id)
            check_revisable(entry, expected_version)
            version = Version(entry.version + 1, text, note, actor, now)
            await repository.save_revision(db=conn, entry=entry, version=version, words=words)
            entry.version, entry.text, entry.updated_at = version.version, text, now
            sequence = await repository.next_entry_sequence(db=conn, entry_id=entry_id)
            await self._queue(
                conn, entry_event(entry, "revised", sequence=sequence, actor=actor, at=now, reason=note)
            )
        return entry

    async def retire(self, *, entry_id: str, reason: str, actor: str) -> Entry:
        """Take an entry out of search for good; retiring a retired entry answers it unchanged."""
        if not reason.strip():
            raise InvalidArgument.one("reason", "is required: say why the entry no longer holds")
        now = self._clock()
        async with self._db.acquire() as conn, conn.transaction():
            entry = await _entry_for_change(conn, entry_id)
            if entry.status == EntryStatus.RETIRED:
                return entry
            entry.status, entry.retired_at, entry.retired_by, entry.retired_reason = (
                EntryStatus.RETIRED, now, actor, reason
            )  # fmt: skip
            await repository.save_retirement(db=conn, entry=entry)
            sequence = await repository.next_entry_sequence(db=conn, entry_id=entry_id)
            await self._queue(
                conn, entry_event(entry, "retired", sequence=sequence, actor=actor, at=now, reason=reason)
            )
        return entry

    async def get(self, entry_id: str) -> Entry:
        entry = await repository.get_entry(db=self._db, entry_id=entry_id)
        if entry is None:
            raise NotFound("knowledge entry", entry_id)
        entry.versions = await repository.get_versions(db=self._db, entry_id=entry_id)
        return entry

    async def cases(self, *, include_met: bool, limit: int) -> list[Case]:
        return await repository.list_cases(db=self._db, include_met=include_met, limit=limit)

    @staticmethod
    async def _queue(conn: Executor, event: EventSpec) -> None:
        await KNOWLEDGE_OUTBOX.enqueue(db=conn, events=[event], trace=trace_context())


async def _entry_for_change(conn: Executor, entry_id: str) -> Entry:
    entry = await repository.get_entry(db=conn, entry_id=entry_id, for_update=True)
    if entry is None:
        raise NotFound("knowledge entry", entry_id)
    return entry


async def _meet_case(conn: Executor, ticket_id: str, entry_id: str, now: datetime) -> Case | None:
    """The proposed case this entry answers, marked met; None when there is none or it was met before."""
    case = await repository.get_case(db=conn, ticket_id=ticket_id, for_update=True)
    if case is None or case.state == CaseState.MET:
        return None
    case.state, case.entry_id, case.met_at = CaseState.MET, entry_id, now
    await repository.save_case_state(db=conn, case=case)
    return case


def _entry_id(request_id: str) -> str:
    """From the request id when there is one, so a retry names the same entry."""
    if request_id:
        return "kb-" + hashlib.sha256(request_id.encode()).hexdigest()[:16]
    return "kb-" + uuid.uuid4().hex[:16]
