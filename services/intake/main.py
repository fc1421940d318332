"""The intake process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.process import Runtime, ServiceParts, serve
from desk.ticket_client import TicketWorkflows
from services.intake.ivr_calls import IvrCalls
from services.intake.server import ACCESS, IntakeServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    servicer = IntakeServicer(runtime.pool, TicketWorkflows(runtime.temporal), IvrCalls(runtime.temporal))
    return ServiceParts(
        bindings=[binding(servicer)],
        access=ACCESS,
    )


async def run(settings: Settings) -> None:
    await serve(settings, "intake", build)
