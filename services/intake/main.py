"""The intake process's composition root. It serves the knowledge base (KnowledgeService) too: agents
search it while they record reports, and it is small; its schema, outbox and relay are its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg

from desk.config import Settings
from desk.dependencies import POSTGRES
from desk.event_bus import EventPublisher
from desk.outbox_relay import OutboxRelay
from desk.paging import PageTokens
from desk.process import Runtime, ServiceParts, serve
from services.intake import repository
from services.intake.events.relay import EventRelay
from services.intake.ivr.calls import IvrCalls
from services.intake.opening.admission import Admission
from services.intake.opening.line_test import line_tester_from
from services.intake.opening.reception import Reception
from services.intake.opening.starter import TicketStarter
from services.intake.outages.resolution import OutageResolutions
from services.intake.server import ACCESS, IntakeServicer, binding
from services.knowledge import server as knowledge_server
from services.knowledge.cases import CaseWorkflows
from services.knowledge.library import KNOWLEDGE_OUTBOX, KnowledgeBase
from services.knowledge.search import EntrySearch
from services.knowledge.segmentation import Segmenter
from workflows.ticket_client import TicketWorkflows


class RecordedTickets:
    """Intake's tickets, as the knowledge base asks after them (its contract's ``TicketLookup``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ticket_exists(self, ticket_id: str) -> bool:
        return await repository.find_ticket(db=self._pool, ticket_id=ticket_id) is not None


async def build(runtime: Runtime) -> ServiceParts:
    tickets = TicketWorkflows(runtime.temporal)
    lease = timedelta(seconds=runtime.settings.pending_lease_seconds)
    line_tester = line_tester_from(runtime.settings.line_tester)
    starter = TicketStarter(
        runtime.pool,
        tickets,
        line_tester,
        runtime.readiness,
        lease=lease,
        admission=Admission(runtime.settings.max_backlog),
    )
    reception = Reception(runtime.pool, tickets, starter)
    outages = OutageResolutions(runtime.pool, runtime.temporal)
    segmenter = Segmenter()
    await asyncio.to_thread(segmenter.warm)  # jieba's dictionary: about a second, before the first report
    search = EntrySearch(runtime.pool, segmenter)
    servicer = IntakeServicer(
        runtime.pool,
        tickets,
        reception,
        outages,
        IvrCalls(runtime.temporal),
        knowledge=search,
        page_tokens=PageTokens(runtime.settings.require_page_token_key()),
    )
    library = KnowledgeBase(
        runtime.pool, segmenter, CaseWorkflows(runtime.temporal), RecordedTickets(runtime.pool)
    )
    _, _, database_url = runtime.settings.require_stack()
    publisher = EventPublisher(runtime.js)
    relay = EventRelay(database_url, publisher, runtime.readiness)
    knowledge_relay = OutboxRelay(
        database_url, publisher, runtime.readiness, KNOWLEDGE_OUTBOX, loop_name="knowledge event relay"
    )
    return ServiceParts(
        bindings=[
            binding(servicer),
            knowledge_server.binding(knowledge_server.KnowledgeServicer(library, search)),
        ],
        access={**ACCESS, **knowledge_server.ACCESS},
        background=[starter.run, relay.run, knowledge_relay.run],
        # Reports are accepted into PostgreSQL alone: while Temporal or NATS is away the backlog and the
        # outbox hold the openings and events (bounded: HELPDESK_MAX_BACKLOG), so intake keeps serving.
        needs=frozenset({POSTGRES}),
    )


async def run(settings: Settings) -> None:
    await serve(settings, "intake", build)
