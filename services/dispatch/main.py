"""The dispatch process's composition root."""

from __future__ import annotations

from desk import metrics
from desk.config import Settings
from desk.event_bus import ensure_team_consumer
from desk.events import TEAM_CONSUMER_PREFIX
from desk.paging import PageTokens
from desk.process import Runtime, ServiceParts, serve
from services.dispatch import repository
from services.dispatch.server import ACCESS, DispatchServicer, binding
from workflows.ticket_client import TicketWorkflows


async def build(runtime: Runtime) -> ServiceParts:
    # Every active team gets its durable consumer before the first work order can be published to it.
    for team in await repository.list_teams(db=runtime.pool):
        await ensure_team_consumer(runtime.js, team.team_id)
    servicer = DispatchServicer(
        runtime.pool,
        TicketWorkflows(runtime.temporal),
        team_added=lambda team_id: ensure_team_consumer(runtime.js, team_id),
        page_tokens=PageTokens(runtime.settings.require_page_token_key()),
    )
    return ServiceParts(
        bindings=[binding(servicer)],
        access=ACCESS,
        # The ops teams' consumers are read by the teams' own systems: dispatch, which makes them, tells
        # how far behind each is (desk/metrics.py).
        background=[metrics.watch_consumers(runtime.js, lambda name: name.startswith(TEAM_CONSUMER_PREFIX))],
    )


async def run(settings: Settings) -> None:
    await serve(settings, "dispatch", build)
