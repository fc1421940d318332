"""IntakeService: validate and translate. A new ticket becomes its workflow; reads come from PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import UTC, datetime

import asyncpg
from grpc import aio

from desk import proto_fields
from desk.actors import acting
from desk.auth import DESK_AGENTS, INTEGRATORS, OPS_ENGINEERS, REVIEWERS, TICKET_READERS
from desk.errors import FieldViolation, InvalidArgument, NotFound
from desk.grpc_edge import ServiceBinding, current_principal
from desk.loops import describe
from desk.paging import PageTokens, page_size
from desk.ticket_spans import label_current_span
from domain.commands import AddSupplementInput, CancelTicketInput, ResolveAtFirstContactInput
from domain.ticket import TicketView
from domain.ticket_state import ON_BEHALF_OF
from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc, knowledge_pb2
from services import ticket_messages
from services.intake import repository
from services.intake.ivr import edge as ivr_edge
from services.intake.ivr.calls import IvrCalls
from services.intake.opening.reception import Reception
from services.intake.outages.matching import OutageRecord, check_declaration, check_resolution
from services.intake.outages.resolution import OutageResolutions
from services.intake.reports.repeats import progress
from services.intake.validation import validate_report
from services.knowledge.contract import KnowledgeMatch, KnowledgeSearch
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

log = logging.getLogger(__name__)

KNOWLEDGE_MATCHES = 3
"""How many of the knowledge base's answers an agent sees beside a report being recorded."""

ACCESS = {
    "CreateTicket": DESK_AGENTS | INTEGRATORS,
    "GetTicket": TICKET_READERS,
    "ListTickets": TICKET_READERS,
    "AddSupplement": DESK_AGENTS,
    "ResolveAtFirstContact": DESK_AGENTS,
    "CancelTicket": DESK_AGENTS,
    "DeclareOutage": REVIEWERS | INTEGRATORS,
    "ResolveOutage": REVIEWERS | INTEGRATORS,
    "StartIvrCall": DESK_AGENTS | INTEGRATORS,
    "SendIvrInput": DESK_AGENTS | INTEGRATORS,
    "GetIvrCall": DESK_AGENTS | INTEGRATORS,
}


def _timeline_entry(row: repository.TimelineRow) -> common_pb2.TimelineEntry:
    detail = ", ".join(f"{k}={v}" for k, v in sorted(row.payload.items()))
    return common_pb2.TimelineEntry(
        sequence=row.sequence,
        type=row.type,
        actor=row.actor,
        on_behalf_of=str(row.payload.get(ON_BEHALF_OF, "")),
        occurred_at=proto_fields.timestamp(row.occurred_at),
        reason=row.reason,
        detail=detail,
    )


def _caller(agent_id: str) -> str:
    """The actor of a desk agent's change: the caller; ``agent_id`` may only name the caller itself
    (only desk agents make these changes, and none acts on another's behalf: desk/actors.py)."""
    return acting(current_principal(), "agent_id", agent_id).actor


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(
        self,
        db: asyncpg.Pool,
        tickets: TicketWorkflows,
        reception: Reception,
        outages: OutageResolutions,
        ivr: IvrCalls,
        *,
        knowledge: KnowledgeSearch,
        page_tokens: PageTokens,
    ) -> None:
        self._db = db
        self._page_tokens = page_tokens
        self._tickets = tickets
        self._reception = reception
        self._outages = outages
        self._ivr = ivr
        self._knowledge = knowledge

    async def CreateTicket(
        self, request: intake_pb2.CreateTicketRequest, context: aio.ServicerContext
    ) -> intake_pb2.CreateTicketResponse:
        now = datetime.now(UTC)
        fingerprint = _fingerprint(request)
        try:
            report = validate_report(request, now=now)
        except InvalidArgument as refused:
            earlier = await self._reception.accepted_before(request.request_id, fingerprint, refused)
            if earlier is None:
                raise
            return intake_pb2.CreateTicketResponse(
                ticket=await self._ticket(earlier.draft.ticket_id),
                outcome=intake_pb2.CREATE_OUTCOME_CREATED,
                replayed=True,
            )
        # The caller records the report; an integrator's agent_id is kept as on_behalf_of.
        caller = acting(current_principal(), "agent_id", report.agent_id)
        report = dataclasses.replace(report, agent_id=caller.actor, on_behalf_of=caller.on_behalf_of)
        received = await self._reception.take(
            report,
            fingerprint=fingerprint,
            now=now,
            recorded_by=current_principal().principal_id,
            wait_for_routing=request.wait_for_routing,
        )
        label_current_span(received.view.draft.ticket_id)
        outcome = intake_pb2.CREATE_OUTCOME_REPEAT if received.repeat else intake_pb2.CREATE_OUTCOME_CREATED
        return await self._answer(
            received.view, outcome, replayed=received.replayed, recorded=received.recorded
        )

    async def _answer(
        self, view: TicketView, outcome: int, *, replayed: bool = False, recorded: bool = True
    ) -> intake_pb2.CreateTicketResponse:
        outage = None
        if view.draft.outage_id and outcome == intake_pb2.CREATE_OUTCOME_CREATED:
            outcome = intake_pb2.CREATE_OUTCOME_KNOWN_OUTAGE
            found = await repository.get_outage(db=self._db, outage_id=view.draft.outage_id)
            outage = _outage_to_proto(found) if found else None
        return intake_pb2.CreateTicketResponse(
            ticket=await self._with_timeline(view) if recorded else self._visible(view, []),
            outcome=outcome,  # type: ignore[arg-type]
            progress=progress(view),
            outage=outage,
            replayed=replayed,
            knowledge_matches=[_match_to_proto(m) for m in await self._knowledge_for(view.draft.summary)],
        )

    async def _knowledge_for(self, summary: str) -> list[KnowledgeMatch]:
        """The knowledge base's best answers for the summary; none when it cannot answer now, for the
        report is what matters and it is recorded by then."""
        try:
            return await self._knowledge.similar(summary, limit=KNOWLEDGE_MATCHES)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            log.warning("no knowledge matches for a new report (%s)", describe(error))
            return []

    async def _ticket(self, ticket_id: str) -> common_pb2.Ticket:
        found = await repository.find_ticket_state(db=self._db, ticket_id=ticket_id)
        if found is None:
            raise NotFound("ticket", ticket_id)
        view, recorded = found
        # Not recorded: no timeline to read, and one read now could be newer than the view.
        return await self._with_timeline(view) if recorded else self._visible(view, [])

    async def _with_timeline(self, view: TicketView) -> common_pb2.Ticket:
        timeline = await repository.get_timeline(db=self._db, ticket_id=view.draft.ticket_id)
        return self._visible(view, timeline)

    @staticmethod
    def _visible(view: TicketView, timeline: list[repository.TimelineRow]) -> common_pb2.Ticket:
        """The ticket for this caller (an ops engineer sees only their own team's tickets)."""
        current_principal().require_ticket_access(
            view.assigned_team_id, [w.team_id for w in view.work_orders]
        )
        return ticket_messages.ticket_to_proto(view, [_timeline_entry(row) for row in timeline])

    async def GetTicket(
        self, request: intake_pb2.GetTicketRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        if not request.ticket_id.strip():
            raise InvalidArgument.one("ticket_id", "is required")
        return await self._ticket(request.ticket_id.strip())

    async def ListTickets(
        self, request: intake_pb2.ListTicketsRequest, context: aio.ServicerContext
    ) -> intake_pb2.ListTicketsResponse:
        principal = current_principal()
        team_id = request.team_id
        if not principal.has_any(TICKET_READERS - OPS_ENGINEERS):
            team_id = team_id or principal.team_id
            principal.require_team(team_id)
        status = proto_fields.enum_name(common_pb2.TicketStatus, request.status, "TICKET_STATUS_")
        if request.status and not status:
            raise InvalidArgument.one("status", f"unknown ticket status {request.status}")
        after, before = (
            proto_fields.from_timestamp(request, "created_after"),
            proto_fields.from_timestamp(request, "created_before"),
        )
        if after and before and after >= before:
            raise InvalidArgument.one("created_before", "must be later than created_after")
        limit = page_size(request.page_size)
        views = await repository.list_views(
            db=self._db,
            status=status,
            team_id=team_id,
            created_after=after,
            created_before=before,
            after=self._page_tokens.after(request),
            limit=limit + 1,
        )
        last = views[limit - 1].draft if len(views) > limit else None
        return intake_pb2.ListTicketsResponse(
            tickets=[ticket_messages.ticket_to_proto(v) for v in views[:limit]],
            next_page_token=self._page_tokens.next(request, last.created_at, last.ticket_id) if last else "",
        )

    async def AddSupplement(
        self, request: intake_pb2.AddSupplementRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        """A supplement (补充申告) to the record; the team holding the ticket is told."""
        _require(ticket_id=request.ticket_id, text=request.text)
        arg = AddSupplementInput(request.text, _caller(request.agent_id))
        return await self._change(request.ticket_id, wf.ADD_SUPPLEMENT, arg)

    async def ResolveAtFirstContact(
        self, request: intake_pb2.ResolveAtFirstContactRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        _require(ticket_id=request.ticket_id, resolution=request.resolution)
        arg = ResolveAtFirstContactInput(request.resolution, _caller(request.agent_id))
        update_id = f"{wf.RESOLVE_AT_FIRST_CONTACT}/{request.ticket_id}"  # once per ticket: a retry gets it
        return await self._change(request.ticket_id, wf.RESOLVE_AT_FIRST_CONTACT, arg, update_id)

    async def CancelTicket(
        self, request: intake_pb2.CancelTicketRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        _require(ticket_id=request.ticket_id, reason=request.reason)
        arg = CancelTicketInput(request.reason, current_principal().principal_id)
        update_id = f"{wf.CANCEL_TICKET}/{request.ticket_id}"
        return await self._change(request.ticket_id, wf.CANCEL_TICKET, arg, update_id)

    async def _change(
        self, ticket_id: str, update: str, arg: object, update_id: str | None = None
    ) -> common_pb2.Ticket:
        found = await repository.find_ticket_state(db=self._db, ticket_id=ticket_id)
        if found is None:
            raise NotFound("ticket", ticket_id)
        known, recorded = found
        self._visible(known, [])  # an ops engineer's access, before the workflow
        # A ticket still pending (accepted, not opened yet) is opened by this very update.
        pending = None if recorded else known.draft
        view = await self._tickets.update(
            ticket_id, update, arg, TicketView, update_id=update_id, start=pending
        )
        return await self._with_timeline(view)

    async def DeclareOutage(
        self, request: intake_pb2.DeclareOutageRequest, context: aio.ServicerContext
    ) -> intake_pb2.Outage:
        """A known outage (受工程影响): matching reports are linked to it instead of dispatched."""
        now = datetime.now(UTC)
        outage = OutageRecord(
            outage_id=f"OUT-{hashlib.sha256(request.request_id.encode()).hexdigest()[:10].upper()}",
            request_id=request.request_id,
            cause=request.cause.strip(),
            declared_at=now,
            exchanges=[e.strip() for e in request.exchanges if e.strip()],
            categories=[c.strip() for c in request.categories if c.strip()],
            regions=[r.strip() for r in request.regions if r.strip()],
            eta=proto_fields.from_timestamp(request, "eta"),
        )
        check_declaration(outage, now=now)
        return _outage_to_proto(await repository.declare_outage(db=self._db, outage=outage))

    async def ResolveOutage(
        self, request: intake_pb2.ResolveOutageRequest, context: aio.ServicerContext
    ) -> intake_pb2.Outage:
        """Resolve the outage and every ticket linked to it (workflows/outage.py); answered once done."""
        _require(outage_id=request.outage_id, resolution=request.resolution)
        check_resolution(request.resolution)
        resolved = await self._outages.resolve(
            outage_id=request.outage_id,
            resolution=request.resolution,
            actor=current_principal().principal_id,
        )
        answer = _outage_to_proto(resolved.outage)
        answer.ticket_ids.extend(resolved.ticket_ids)
        return answer

    # IVR self-service (自动受理): each call is a workflow (workflows/ivr.py) the switch drives.

    async def StartIvrCall(
        self, request: intake_pb2.StartIvrCallRequest, context: aio.ServicerContext
    ) -> intake_pb2.IvrTurn:
        # Who drives the call is recorded on what it reports, beside the actor ``ivr`` (desk/actors.py).
        call = dataclasses.replace(ivr_edge.call_input(request), switch=current_principal().principal_id)
        return ivr_edge.turn_to_proto(await self._ivr.start(call))

    async def SendIvrInput(
        self, request: intake_pb2.SendIvrInputRequest, context: aio.ServicerContext
    ) -> intake_pb2.IvrTurn:
        answer = ivr_edge.ivr_input(request)
        return ivr_edge.turn_to_proto(await self._ivr.send(request.call_id, answer))

    async def GetIvrCall(
        self, request: intake_pb2.GetIvrCallRequest, context: aio.ServicerContext
    ) -> intake_pb2.IvrTurn:
        return ivr_edge.turn_to_proto(await self._ivr.current(ivr_edge.call_id(request.call_id)))


def _fingerprint(request: intake_pb2.CreateTicketRequest) -> bytes:
    """What tells a retry of a report from another report under the same request id."""
    report = intake_pb2.CreateTicketRequest()
    report.CopyFrom(request)
    report.ClearField("wait_for_routing")  # how to answer, not what was reported
    return hashlib.sha256(report.SerializeToString(deterministic=True)).digest()


def _require(**fields: str) -> None:
    missing = [FieldViolation(name, "is required") for name, value in fields.items() if not value.strip()]
    if missing:
        raise InvalidArgument(missing)


def _match_to_proto(match: KnowledgeMatch) -> knowledge_pb2.KnowledgeMatch:
    return knowledge_pb2.KnowledgeMatch(
        entry_id=match.entry_id,
        title=match.title,
        category=match.category,
        excerpt=match.excerpt,
        score=match.score,
    )


def _outage_to_proto(o: OutageRecord) -> intake_pb2.Outage:
    return intake_pb2.Outage(
        outage_id=o.outage_id,
        exchanges=o.exchanges,
        categories=o.categories,
        regions=o.regions,
        cause=o.cause,
        eta=proto_fields.timestamp(o.eta),
        active=o.active,
        declared_at=proto_fields.timestamp(o.declared_at),
        resolved_at=proto_fields.timestamp(o.resolved_at),
        resolution=o.resolution,
    )


def binding(servicer: IntakeServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, intake_pb2, intake_pb2_grpc, "IntakeService")
