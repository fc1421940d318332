"""The gateway's /healthz and /readyz over fake health stubs, and the codec's allowed origins setting."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2

from desk.config import load_settings
from desk.errors import ConfigurationError
from services.http.app import Channels, build_app
from services.http.health import GatewayHealth

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class Health:
    """A grpc_health HealthStub answering a fixed status, or failing like an unreachable server."""

    def __init__(self, status: int | None) -> None:
        self.status = status

    async def Check(self, request: health_pb2.HealthCheckRequest, **_: Any) -> Any:
        if self.status is None:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), details="refused"
            )
        return health_pb2.HealthCheckResponse(status=self.status)


async def _get(health: GatewayHealth, path: str) -> httpx.Response:
    app = build_app(Channels(None, channel_category="software"), health=health)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        return await client.get(path)


async def test_ready_while_every_service_serves_else_503_naming_each_one_that_does_not() -> None:
    services = {"intake": Health(SERVING), "quality": Health(SERVING), "stats": Health(SERVING)}
    ready = await _get(GatewayHealth(services), "/readyz")
    assert (ready.status_code, ready.json()["status"], ready.json()["down"]) == (200, "ready", [])

    services["intake"].status = NOT_SERVING
    services["stats"].status = None
    answer = await _get(GatewayHealth(services), "/readyz")
    assert answer.status_code == 503
    assert answer.json()["down"] == ["intake", "stats"]
    assert answer.json()["services"] == {
        "intake": "NOT_SERVING",
        "quality": "SERVING",
        "stats": "UNAVAILABLE: refused",
    }
    alive = await _get(GatewayHealth(services), "/healthz")  # alive all the same: nothing to restart
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})


def test_the_codec_origins_default_to_the_embedded_ui_and_are_checked() -> None:
    assert load_settings({"HELPDESK_EMBEDDED_TEMPORAL_UI_PORT": "18999"}).codec_allowed_origins == (
        "http://127.0.0.1:18999",
        "http://localhost:18999",
    )
    configured = load_settings({"HELPDESK_CODEC_ALLOWED_ORIGINS": "https://ui.example.com/, http://a:8080"})
    assert configured.codec_allowed_origins == ("https://ui.example.com", "http://a:8080")
    with pytest.raises(ConfigurationError, match="HELPDESK_CODEC_ALLOWED_ORIGINS"):
        load_settings({"HELPDESK_CODEC_ALLOWED_ORIGINS": "ui.example.com/path"})
