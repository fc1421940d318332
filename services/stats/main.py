"""The stats process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.process import Runtime, ServiceParts, serve
from services.stats.kpis import Kpis, RollupKpiSource
from services.stats.read_model import ReadModel, read_model_consumer
from services.stats.server import ACCESS, StatsServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    read_model = read_model_consumer(
        runtime.js, ReadModel(runtime.pool, runtime.settings.zone), runtime.readiness
    )
    kpis = Kpis(RollupKpiSource(runtime.pool), runtime.settings.zone)
    return ServiceParts(
        bindings=[binding(StatsServicer(kpis=kpis))], access=ACCESS, background=[read_model.run]
    )


async def run(settings: Settings) -> None:
    await serve(settings, "stats", build)
