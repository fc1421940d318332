"""KnowledgeService: validate and translate; the knowledge base (library.py) decides and stores."""

from __future__ import annotations

from grpc import aio

from desk import proto_fields
from desk.auth import KNOWLEDGE_MANAGERS, KNOWLEDGE_READERS, REVIEWERS
from desk.errors import FieldViolation, InvalidArgument
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import page_size
from helpdesk.v1 import knowledge_pb2, knowledge_pb2_grpc
from services.knowledge.contract import KnowledgeMatch
from services.knowledge.entries import Case, Entry, EntryText, Version
from services.knowledge.library import KnowledgeBase
from services.knowledge.search import EntrySearch

ACCESS = {
    "ProposeEntry": REVIEWERS,
    "ListCandidates": KNOWLEDGE_MANAGERS | REVIEWERS,
    "CreateEntry": KNOWLEDGE_MANAGERS,
    "ReviseEntry": KNOWLEDGE_MANAGERS,
    "RetireEntry": KNOWLEDGE_MANAGERS,
    "GetEntry": KNOWLEDGE_READERS,
    "SearchEntries": KNOWLEDGE_READERS,
}

DEFAULT_MATCHES = 10
MAX_MATCHES = 50


class KnowledgeServicer(knowledge_pb2_grpc.KnowledgeServiceServicer):
    def __init__(self, library: KnowledgeBase, search: EntrySearch) -> None:
        self._library = library
        self._search = search

    async def ProposeEntry(
        self, request: knowledge_pb2.ProposeEntryRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.KnowledgeCandidate:
        _require(ticket_id=request.ticket_id)
        actor = current_principal().principal_id
        case = await self._library.propose(
            ticket_id=request.ticket_id.strip(), note=request.note, actor=actor
        )
        return case_to_proto(case)

    async def ListCandidates(
        self, request: knowledge_pb2.ListCandidatesRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.ListCandidatesResponse:
        limit = page_size(request.page_size)
        cases = await self._library.cases(include_met=request.include_met, limit=limit)
        return knowledge_pb2.ListCandidatesResponse(candidates=[case_to_proto(c) for c in cases])

    async def CreateEntry(
        self, request: knowledge_pb2.CreateEntryRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.KnowledgeEntry:
        entry = await self._library.create(
            text=_text(request),
            ticket_id=request.ticket_id.strip(),
            request_id=request.request_id.strip(),
            actor=current_principal().principal_id,
        )
        return entry_to_proto(entry)

    async def ReviseEntry(
        self, request: knowledge_pb2.ReviseEntryRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.KnowledgeEntry:
        _require(entry_id=request.entry_id)
        if request.expected_version < 0:
            raise InvalidArgument.one("expected_version", "must not be negative")
        entry = await self._library.revise(
            entry_id=request.entry_id.strip(),
            text=_text(request),
            note=request.note.strip(),
            expected_version=request.expected_version,
            actor=current_principal().principal_id,
        )
        return entry_to_proto(entry)

    async def RetireEntry(
        self, request: knowledge_pb2.RetireEntryRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.KnowledgeEntry:
        _require(entry_id=request.entry_id, reason=request.reason)
        actor = current_principal().principal_id
        entry = await self._library.retire(
            entry_id=request.entry_id.strip(), reason=request.reason, actor=actor
        )
        return entry_to_proto(entry)

    async def GetEntry(
        self, request: knowledge_pb2.GetEntryRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.KnowledgeEntry:
        _require(entry_id=request.entry_id)
        return entry_to_proto(await self._library.get(request.entry_id.strip()))

    async def SearchEntries(
        self, request: knowledge_pb2.SearchEntriesRequest, context: aio.ServicerContext
    ) -> knowledge_pb2.SearchEntriesResponse:
        _require(query=request.query)
        if not 0 <= request.limit <= MAX_MATCHES:
            raise InvalidArgument.one("limit", f"must be 0 (the default, {DEFAULT_MATCHES}) to {MAX_MATCHES}")
        matches = await self._search.search(request.query, limit=request.limit or DEFAULT_MATCHES)
        return knowledge_pb2.SearchEntriesResponse(matches=[match_to_proto(m) for m in matches])


def _text(request: knowledge_pb2.CreateEntryRequest | knowledge_pb2.ReviseEntryRequest) -> EntryText:
    return EntryText(
        title=request.title.strip(),
        body=request.body.strip(),
        category=request.category.strip(),
        tags=[tag.strip() for tag in request.tags],
    )


def _require(**fields: str) -> None:
    missing = [FieldViolation(name, "is required") for name, value in fields.items() if not value.strip()]
    if missing:
        raise InvalidArgument(missing)


def match_to_proto(match: KnowledgeMatch) -> knowledge_pb2.KnowledgeMatch:
    return knowledge_pb2.KnowledgeMatch(
        entry_id=match.entry_id,
        title=match.title,
        category=match.category,
        excerpt=match.excerpt,
        score=match.score,
    )


def _version_to_proto(v: Version) -> knowledge_pb2.KnowledgeVersion:
    return knowledge_pb2.KnowledgeVersion(
        version=v.version,
        title=v.text.title,
        body=v.text.body,
        category=v.text.category,
        tags=v.text.tags,
        note=v.note,
        written_by=v.written_by,
        written_at=proto_fields.timestamp(v.written_at),
    )


def entry_to_proto(entry: Entry) -> knowledge_pb2.KnowledgeEntry:
    return knowledge_pb2.KnowledgeEntry(
        entry_id=entry.entry_id,
        status=proto_fields.enum_value(knowledge_pb2.EntryStatus, entry.status, "ENTRY_STATUS_"),
        version=entry.version,
        title=entry.text.title,
        body=entry.text.body,
        category=entry.text.category,
        tags=entry.text.tags,
        ticket_id=entry.ticket_id,
        created_by=entry.created_by,
        created_at=proto_fields.timestamp(entry.created_at),
        updated_at=proto_fields.timestamp(entry.updated_at),
        retired_at=proto_fields.timestamp(entry.retired_at),
        retired_by=entry.retired_by,
        retired_reason=entry.retired_reason,
        versions=[_version_to_proto(v) for v in entry.versions],
    )


def case_to_proto(case: Case) -> knowledge_pb2.KnowledgeCandidate:
    return knowledge_pb2.KnowledgeCandidate(
        ticket_id=case.ticket_id,
        proposed_by=case.proposed_by,
        proposed_at=proto_fields.timestamp(case.proposed_at),
        note=case.note,
        state=proto_fields.enum_value(knowledge_pb2.CandidateState, case.state, "CANDIDATE_STATE_"),
        warn_at=proto_fields.timestamp(case.warn_at),
        due_at=proto_fields.timestamp(case.due_at),
        entry_id=case.entry_id,
        met_at=proto_fields.timestamp(case.met_at),
    )


def binding(servicer: KnowledgeServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, knowledge_pb2, knowledge_pb2_grpc, "KnowledgeService")
