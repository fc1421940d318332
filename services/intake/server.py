"""IntakeService: validate and translate. A new ticket becomes its workflow; reads come from PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from grpc import aio

from desk import wire
from desk.db import Executor
from desk.errors import InvalidArgument, NotFound, Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import decode_token, encode_token, page_size
from desk.ticket_client import TicketWorkflows
from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc
from services.intake import repository
from services.intake.contract import TicketDraft, TicketView
from services.intake.validation import TIME_RELATIVE_FIELDS, ValidReport, validate_report

DESK = frozenset({"agent", "senior_agent", "manager"})
READERS = DESK | frozenset(
    {"surveyor", "qa_inspector", "statistician", "knowledge_manager", "integrator", "ops_engineer"}
)

ACCESS = {
    "CreateTicket": DESK | frozenset({"integrator"}),
    "GetTicket": READERS,
    "ListTickets": READERS,
    # Built by the intake issue; answer UNIMPLEMENTED to any authenticated caller until then.
    "AddSupplement": READERS,
    "ResolveAtFirstContact": READERS,
    "CancelTicket": READERS,
    "DeclareOutage": READERS,
    "ResolveOutage": READERS,
}


def _draft(report: ValidReport, *, ticket_id: str, created_at: datetime, recorded_by: str) -> TicketDraft:
    return TicketDraft(
        ticket_id=ticket_id,
        request_id=report.request_id,
        channel=report.channel,
        kind=report.kind,
        reporter=report.reporter,
        category=report.category,
        priority=report.priority,
        customer_tier=report.customer_tier,
        summary=report.summary,
        created_at=created_at,
        description=report.description,
        fault_number=report.fault_number,
        occurred_at=report.occurred_at,
        expected_by=report.expected_by,
        agent_id=report.agent_id or recorded_by,
        region=report.region,
    )


def _timeline_entry(row: repository.TimelineRow) -> common_pb2.TimelineEntry:
    detail = ", ".join(f"{k}={v}" for k, v in sorted(row.payload.items()))
    return common_pb2.TimelineEntry(
        sequence=row.sequence,
        type=row.type,
        actor=row.actor,
        occurred_at=wire.timestamp(row.occurred_at),
        reason=row.reason,
        detail=detail,
    )


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, db: Executor, tickets: TicketWorkflows) -> None:
        self._db = db
        self._tickets = tickets

    async def CreateTicket(
        self, request: intake_pb2.CreateTicketRequest, context: aio.ServicerContext
    ) -> intake_pb2.CreateTicketResponse:
        now = datetime.now(UTC)
        fingerprint = hashlib.sha256(request.SerializeToString(deterministic=True)).digest()
        try:
            report = validate_report(request, now=now)
        except InvalidArgument as error:
            accepted = await self._accepted_before(request.request_id, fingerprint, error)
            if accepted is None:
                raise
            return intake_pb2.CreateTicketResponse(ticket=accepted, outcome=intake_pb2.CREATE_OUTCOME_CREATED)
        claim = await repository.claim_request(
            db=self._db, request_id=report.request_id, fingerprint=fingerprint, now=now
        )
        if claim.fingerprint != fingerprint:
            raise InvalidArgument.one("request_id", "was already used for a different report")
        view = await repository.get_view(db=self._db, ticket_id=claim.ticket_id)
        if view is None:
            # First time, or a retry after a crash between the claim and the start: start (or join) it.
            draft = _draft(
                report,
                ticket_id=claim.ticket_id,
                created_at=claim.created_at,
                recorded_by=current_principal().principal_id,
            )
            view = await self._tickets.start(draft)  # returns once the view is recorded
        return intake_pb2.CreateTicketResponse(
            ticket=await self._with_timeline(view), outcome=intake_pb2.CREATE_OUTCOME_CREATED
        )

    async def _accepted_before(
        self, request_id: str, fingerprint: bytes, error: InvalidArgument
    ) -> common_pb2.Ticket | None:
        """The ticket of this very report, if it was accepted while its times were still valid.

        A retry of an accepted report must answer with its ticket even once `expected_by` has passed.
        Only looked up when the times are all that is wrong, so bad reports cost no query.
        """
        if not {v.field for v in error.violations} <= TIME_RELATIVE_FIELDS:
            return None
        claim = await repository.find_claim(db=self._db, request_id=request_id)
        if claim is None or claim.fingerprint != fingerprint:
            return None
        return await self._ticket(claim.ticket_id)

    async def _ticket(self, ticket_id: str) -> common_pb2.Ticket:
        view = await repository.get_view(db=self._db, ticket_id=ticket_id)
        if view is None:
            raise NotFound("ticket", ticket_id)
        return await self._with_timeline(view)

    async def _with_timeline(self, view: TicketView) -> common_pb2.Ticket:
        current_principal().require_ticket_access(
            view.assigned_team_id, [w.team_id for w in view.work_orders]
        )
        timeline = await repository.get_timeline(db=self._db, ticket_id=view.draft.ticket_id)
        return wire.ticket_to_proto(view, [_timeline_entry(row) for row in timeline])

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
        if not principal.has_any(READERS - {"ops_engineer"}):
            team_id = team_id or principal.team_id
            principal.require_team(team_id)
        status = wire.enum_name(common_pb2.TicketStatus, request.status, "TICKET_STATUS_")
        if request.status and not status:
            raise InvalidArgument.one("status", f"unknown ticket status {request.status}")
        after, before = (
            wire.from_timestamp(request, "created_after"),
            wire.from_timestamp(request, "created_before"),
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
            after=decode_token(request.page_token),
            limit=limit + 1,
        )
        return intake_pb2.ListTicketsResponse(
            tickets=[wire.ticket_to_proto(v) for v in views[:limit]],
            next_page_token=_next_token(views, limit),
        )

    async def AddSupplement(
        self, request: intake_pb2.AddSupplementRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        raise Unimplemented("AddSupplement")

    async def ResolveAtFirstContact(
        self, request: intake_pb2.ResolveAtFirstContactRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        raise Unimplemented("ResolveAtFirstContact")

    async def CancelTicket(
        self, request: intake_pb2.CancelTicketRequest, context: aio.ServicerContext
    ) -> common_pb2.Ticket:
        raise Unimplemented("CancelTicket")

    async def DeclareOutage(
        self, request: intake_pb2.DeclareOutageRequest, context: aio.ServicerContext
    ) -> intake_pb2.Outage:
        raise Unimplemented("DeclareOutage")

    async def ResolveOutage(
        self, request: intake_pb2.ResolveOutageRequest, context: aio.ServicerContext
    ) -> intake_pb2.Outage:
        raise Unimplemented("ResolveOutage")


def _next_token(views: list[TicketView], limit: int) -> str:
    if len(views) <= limit:
        return ""
    last = views[limit - 1].draft
    return encode_token(last.created_at, last.ticket_id)


def binding(servicer: IntakeServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, intake_pb2, intake_pb2_grpc, "IntakeService")
