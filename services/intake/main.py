"""The intake process's composition root."""

from __future__ import annotations

from datetime import timedelta

from desk.config import Settings
from desk.event_bus import EventPublisher
from desk.process import Runtime, ServiceParts, serve
from desk.ticket_client import TicketWorkflows
from services.intake.admission import Admission
from services.intake.ivr_calls import IvrCalls
from services.intake.line_test import line_tester_from
from services.intake.outage_resolutions import OutageResolutions
from services.intake.reception import Reception
from services.intake.relay import EventRelay
from services.intake.server import ACCESS, IntakeServicer, binding
from services.intake.starter import TicketStarter


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
