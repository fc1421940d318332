"""The stats process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.event_bus import EventPublisher
from desk.outbox_relay import OutboxRelay
from desk.paging import PageTokens
from desk.process import Runtime, ServiceParts, serve
from services.stats.events import STATS_OUTBOX
from services.stats.kpis import Kpis, RollupKpiSource
from services.stats.periods import Boundary
from services.stats.read_model import ReadModel, read_model_consumer
from services.stats.report_requests import ReportRequests
from services.stats.reports import Reports
from services.stats.schedules import ensure_schedules
from services.stats.server import ACCESS, StatsServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    _, _, database_url = runtime.settings.require_stack()
    settings = runtime.settings
    boundary = Boundary.from_setting(settings.report_boundary)
    await ensure_schedules(runtime.temporal, time_zone=settings.time_zone, boundary=boundary)
    relay = OutboxRelay(
        database_url,
        EventPublisher(runtime.js),
        runtime.readiness,
        STATS_OUTBOX,
        loop_name="stats event relay",
    )
    read_model = read_model_consumer(runtime.js, ReadModel(runtime.pool, settings.zone), runtime.readiness)
    reports = ReportRequests(
        Reports(runtime.pool, settings.time_zone),
        time_zone=settings.time_zone,
        default_boundary=boundary,
        page_tokens=PageTokens(settings.require_page_token_key()),
    )
    kpis = Kpis(RollupKpiSource(runtime.pool), settings.zone)
    return ServiceParts(
        bindings=[binding(StatsServicer(kpis=kpis, reports=reports))],
        access=ACCESS,
        background=[relay.run, read_model.run],
    )


async def run(settings: Settings) -> None:
    await serve(settings, "stats", build)
