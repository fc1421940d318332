"""The stats process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.process import Runtime, ServiceParts, serve
from services.stats.server import ACCESS, StatsServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    return ServiceParts(bindings=[binding(StatsServicer())], access=ACCESS)


async def run(settings: Settings) -> None:
    await serve(settings, "stats", build)
