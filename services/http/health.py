"""The gateway's health: ``/healthz`` says the process answers, ``/readyz`` that what it forwards to does.

``/readyz`` asks each gRPC service the gateway calls (intake; quality and stats for the reports) for
its health; a service answers NOT_SERVING while a backing server it needs is out of reach
(desk/dependencies.py). 200 when all serve, else 503 naming each one that does not and why, so a load
balancer takes the gateway out of rotation while the desk behind it cannot answer. ``/healthz`` never
calls anything: a gateway that answers it is alive, and restarting it would mend nothing behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from starlette.responses import JSONResponse, Response

CHECK_TIMEOUT_SECONDS = 2.0


class GatewayHealth:
    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = dict(services)  # service name → a grpc_health HealthStub on its channel

    async def healthz(self) -> Response:
        """The gateway process answers (liveness)."""
        return JSONResponse({"status": "alive"})

    async def readyz(self) -> Response:
        """Every service behind the gateway answers SERVING (readiness)."""
        names = list(self._services)
        states = await asyncio.gather(*(self._state(self._services[name]) for name in names))
        services = dict(zip(names, states, strict=True))
        down = sorted(name for name, state in services.items() if state != "SERVING")
        body = {"status": "not ready" if down else "ready", "down": down, "services": services}
        return JSONResponse(body, 503 if down else 200)

    async def _state(self, stub: Any) -> str:
        """SERVING, NOT_SERVING, … as the service answers, or why it did not answer."""
        request = health_pb2.HealthCheckRequest(service="")
        try:
            answer = await stub.Check(request, timeout=CHECK_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            return f"{error.code().name}: {error.details() or 'no answer'}"
        status: str = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        return status
