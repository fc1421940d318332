"""The intake process's composition root."""

from __future__ import annotations

from datetime import timedelta

from desk.config import Settings
from desk.event_bus import EventPublisher
from desk.process import Runtime, ServiceParts, serve
from services.intake.events.relay import EventRelay
from services.intake.ivr.calls import IvrCalls
from services.intake.opening.admission import Admission
from services.intake.opening.line_test import line_tester_from
from services.intake.opening.reception import Reception
from services.intake.opening.starter import TicketStarter
from services.intake.outages.resolution import OutageResolutions
from services.intake.server import ACCESS, IntakeServicer, binding
from workflows.ticket_client import TicketWorkflows


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
    servicer = IntakeServicer(runtime.pool, tickets, reception, outages, IvrCalls(runtime.temporal))
    _, _, database_url = runtime.settings.require_stack()
    relay = EventRelay(database_url, EventPublisher(runtime.js), runtime.readiness)
    return ServiceParts(bindings=[binding(servicer)], access=ACCESS, background=[starter.run, relay.run])


async def run(settings: Settings) -> None:
    await serve(settings, "intake", build)
