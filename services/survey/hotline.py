"""EscalationService, the manager hotline (经理热线): validate and translate.

Opening and resolving an escalation change its ticket, so they are the ticket workflow's updates (it
decides, and stores the escalation in survey.escalations with the ticket's events); reads come from
that table. The compensation rule is the survey service's own data.
"""

from __future__ import annotations

import asyncpg
from grpc import aio

from desk.auth import DESK_AGENTS, MANAGERS, SURVEYORS
from desk.errors import NotFound
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import PageTokens, page_size
from domain.hotline import EscalationOutcome
from helpdesk.v1 import escalation_pb2, escalation_pb2_grpc
from services.survey import escalations
from services.survey import hotline_wire as wire
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

E = escalation_pb2

ACCESS = {
    "OpenEscalation": DESK_AGENTS | SURVEYORS,
    "GetEscalation": DESK_AGENTS | SURVEYORS,
    "ListEscalations": MANAGERS,
    "ResolveEscalation": MANAGERS,
    "GetCompensationRule": MANAGERS,
    "SetCompensationRule": MANAGERS,
}


class EscalationServicer(escalation_pb2_grpc.EscalationServiceServicer):
    def __init__(self, tickets: TicketWorkflows, pool: asyncpg.Pool, page_tokens: PageTokens) -> None:
        self._tickets = tickets
        self._pool = pool
        self._page_tokens = page_tokens

    async def OpenEscalation(
        self, request: E.OpenEscalationRequest, context: aio.ServicerContext
    ) -> E.Escalation:
        arg = wire.open_command(request, current_principal().principal_id)
        ticket_id = request.ticket_id.strip()
        update_id = f"{wf.OPEN_ESCALATION}/{arg.request_id}" if arg.request_id else None
        result = await self._tickets.update_known(
            ticket_id, wf.OPEN_ESCALATION, arg, wf.EscalationResult, update_id=update_id
        )
        return wire.escalation_to_proto(result.escalation)

    async def GetEscalation(
        self, request: E.GetEscalationRequest, context: aio.ServicerContext
    ) -> E.Escalation:
        escalation_id = request.escalation_id.strip()
        found = await escalations.get_escalation(db=self._pool, escalation_id=escalation_id)
        if found is None:
            raise NotFound("escalation", escalation_id)
        return wire.escalation_to_proto(found)

    async def ListEscalations(
        self, request: E.ListEscalationsRequest, context: aio.ServicerContext
    ) -> E.ListEscalationsResponse:
        limit = page_size(request.page_size)
        status, source = wire.list_filters(request)
        rows = await escalations.list_escalations(
            db=self._pool,
            status=status,
            source=source,
            ticket_id=request.ticket_id.strip(),
            after=wire.queue_position(self._page_tokens.after(request)),
            limit=limit + 1,
        )
        token = wire.page_token(self._page_tokens, request, rows[limit - 1]) if len(rows) > limit else ""
        return E.ListEscalationsResponse(
            escalations=[wire.escalation_to_proto(e) for e in rows[:limit]], next_page_token=token
        )

    async def ResolveEscalation(
        self, request: E.ResolveEscalationRequest, context: aio.ServicerContext
    ) -> E.Escalation:
        compensating = wire.outcome_of(request) == EscalationOutcome.COMPENSATED
        rule = await escalations.rule_in_force(db=self._pool) if compensating else None
        arg = wire.resolve_command(request, current_principal().principal_id, rule)
        found = await escalations.get_escalation(db=self._pool, escalation_id=arg.escalation_id)
        if found is None:
            raise NotFound("escalation", arg.escalation_id)
        if not found.is_open and found.resolve_request_id == arg.request_id:
            return wire.escalation_to_proto(found)  # a retry: the first answer, whatever the rule is now
        result = await self._tickets.update(
            found.ticket_id,
            wf.RESOLVE_ESCALATION,
            arg,
            wf.EscalationResult,
            update_id=f"{wf.RESOLVE_ESCALATION}/{arg.escalation_id}/{arg.request_id}",
        )
        return wire.escalation_to_proto(result.escalation)

    async def GetCompensationRule(
        self, request: E.GetCompensationRuleRequest, context: aio.ServicerContext
    ) -> E.CompensationRule:
        return wire.rule_to_proto(await escalations.rule_in_force(db=self._pool))

    async def SetCompensationRule(
        self, request: E.SetCompensationRuleRequest, context: aio.ServicerContext
    ) -> E.CompensationRule:
        rule = wire.rule_from_proto(request)
        actor = current_principal().principal_id
        return wire.rule_to_proto(await escalations.set_rule(pool=self._pool, rule=rule, actor=actor))


def binding(servicer: EscalationServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, escalation_pb2, escalation_pb2_grpc, "EscalationService")
