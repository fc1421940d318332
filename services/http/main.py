"""The HTTP channels' composition root: settings → telemetry → a gRPC channel to intake → uvicorn.

Run by `helpdesk serve http` (which ends in ``os._exit``, as every desk process does). It opens no
database or Temporal connection: everything goes through intake. SIGTERM or Ctrl-C cancel `run`;
uvicorn then stops accepting, finishes the requests in flight, and the channel closes after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import grpc
import uvicorn
from grpc_health.v1 import health_pb2_grpc

from desk.config import HTTP_GATEWAY, Settings
from desk.telemetry import setup_telemetry
from helpdesk.v1 import intake_pb2_grpc
from services.http.app import Channels, build_app

GRACE_SECONDS = 10.0


class _Server(uvicorn.Server):
    """Signals belong to the process (desk.cli.until_signalled cancels `run`), not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(settings: Settings) -> None:
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    setup_telemetry(settings, HTTP_GATEWAY)
    channel = grpc.aio.insecure_channel(
        settings.grpc_address("intake"),
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    try:
        channels = Channels(
            intake_pb2_grpc.IntakeServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
            channel_category=settings.channel_category,
        )
        config = uvicorn.Config(
            build_app(channels),
            host=settings.host,
            port=settings.http_port,
            log_config=None,  # the process's logging, as configured by `helpdesk serve`
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
        )
        await _serve(_Server(config))
    finally:
        await channel.close(grace=GRACE_SECONDS)


async def _serve(server: uvicorn.Server) -> None:
    serving = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True  # stop accepting; answer the requests already in flight
        await serving
        raise
