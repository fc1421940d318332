"""The quality process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.event_bus import EventPublisher
from desk.outbox_relay import OutboxRelay
from desk.paging import PageTokens
from desk.process import Runtime, ServiceParts, serve
from services.quality.events import QUALITY_OUTBOX
from services.quality.inspection_handoff import ViolationsHandOff
from services.quality.inspections import Inspections
from services.quality.ledger import WorkloadLedger, ledger_consumer
from services.quality.reports import WeeklyReports
from services.quality.schedules import ensure_schedules
from services.quality.server import ACCESS, QualityServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    _, _, database_url = runtime.settings.require_stack()
    await ensure_schedules(runtime.temporal, time_zone=runtime.settings.time_zone)
    relay = OutboxRelay(
        database_url,
        EventPublisher(runtime.js),
        runtime.readiness,
        QUALITY_OUTBOX,
        loop_name="quality event relay",
    )
    ledger = ledger_consumer(
        runtime.js, WorkloadLedger(runtime.pool, runtime.settings.zone), runtime.readiness
    )
    hand_off = ViolationsHandOff(runtime.temporal, runtime.pool, runtime.readiness)
    servicer = QualityServicer(
        runtime.pool,
        runtime.temporal,
        time_zone=runtime.settings.time_zone,
        inspections=Inspections(runtime.pool, hand_off),
        reports=WeeklyReports(runtime.pool, runtime.temporal, time_zone=runtime.settings.time_zone),
        page_tokens=PageTokens(runtime.settings.require_page_token_key()),
    )
    return ServiceParts(
        bindings=[binding(servicer)], access=ACCESS, background=[relay.run, ledger.run, hand_off.run]
    )


async def run(settings: Settings) -> None:
    # The workers draw the sample with it; a quality service without it is a deployment missing it.
    settings.require_quality_sampling_secret()
    await serve(settings, "quality", build)
