"""The quality process's composition root."""

from __future__ import annotations

from desk.config import Settings
from desk.process import Runtime, ServiceParts, serve
from services.quality.server import ACCESS, QualityServicer, binding


async def build(runtime: Runtime) -> ServiceParts:
    return ServiceParts(bindings=[binding(QualityServicer())], access=ACCESS)


async def run(settings: Settings) -> None:
    await serve(settings, "quality", build)
