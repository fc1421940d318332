"""The quality process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.event_bus import EventPublisher
from desk.outbox_relay import OutboxRelay
from desk.process import Runtime, ServiceParts, serve
from services.quality.events import QUALITY_OUTBOX
from services.quality.inspection_handoff import ViolationsHandOff
from services.quality.inspections import Inspections
from services.quality.server import ACCESS, QualityServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    _, _, database_url = runtime.settings.require_stack()
    relay = OutboxRelay(
        database_url,
        EventPublisher(runtime.js),
        runtime.readiness,
        QUALITY_OUTBOX,
        loop_name="quality event relay",
    )
    hand_off = ViolationsHandOff(runtime.temporal, runtime.pool, runtime.readiness)
    inspections = Inspections(runtime.pool, hand_off)
    return ServiceParts(
        bindings=[binding(QualityServicer(inspections=inspections))],
        access=ACCESS,
        background=[relay.run, hand_off.run],
    )


async def run(settings: Settings) -> None:
    await serve(settings, "quality", build)
