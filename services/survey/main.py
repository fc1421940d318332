"""The survey process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.paging import PageTokens
from desk.process import Runtime, ServiceParts, serve
from services.survey import hotline
from services.survey.server import ACCESS, SurveyServicer, binding
from workflows.ticket_client import TicketWorkflows


async def build(runtime: Runtime) -> ServiceParts:
    tickets = TicketWorkflows(runtime.temporal)
    page_tokens = PageTokens(runtime.settings.require_page_token_key())
    return ServiceParts(
        bindings=[
            binding(SurveyServicer(runtime.pool, tickets, page_tokens)),
            hotline.binding(hotline.EscalationServicer(tickets, runtime.pool, page_tokens)),
        ],
        access={**ACCESS, **hotline.ACCESS},
    )


async def run(settings: Settings) -> None:
    await serve(settings, "survey", build)
