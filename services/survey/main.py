"""The survey process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.process import Runtime, ServiceParts, serve
from services.survey import hotline
from services.survey.server import ACCESS, SurveyServicer, binding
from workflows.ticket_client import TicketWorkflows


async def build(runtime: Runtime) -> ServiceParts:
    tickets = TicketWorkflows(runtime.temporal)
    return ServiceParts(
        bindings=[
            binding(SurveyServicer(runtime.pool, tickets)),
            hotline.binding(hotline.EscalationServicer(tickets, runtime.pool)),
        ],
        access={**ACCESS, **hotline.ACCESS},
    )


async def run(settings: Settings) -> None:
    await serve(settings, "survey", build)
