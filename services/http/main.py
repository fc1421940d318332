"""The HTTP channels' composition root: settings → telemetry → gRPC channels to intake (and to the
quality service, for the weekly QA report's pages; to stats, for the statistics reports) → uvicorn.

Run by `helpdesk serve http` (which ends in ``os._exit``, as every desk process does). It opens no
database or Temporal connection: everything goes through intake, or quality and stats for the reports. SIGTERM
or Ctrl-C cancel `run`; uvicorn then stops accepting, finishes the requests in flight, and the
channels close after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import grpc
import uvicorn
from grpc_health.v1 import health_pb2_grpc

from desk.config import HTTP_GATEWAY, Settings
from desk.metrics import MetricsEndpoint
from desk.ports import bound_socket
from desk.telemetry import setup_telemetry
from helpdesk.v1 import intake_pb2_grpc, quality_pb2_grpc, stats_pb2_grpc
from services.http.app import Channels, build_app
from services.http.metrics import RequestMetrics

log = logging.getLogger(__name__)

GRACE_SECONDS = 10.0


class _Server(uvicorn.Server):
    """Signals belong to the process (cli.main.until_signalled cancels `run`), not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(settings: Settings) -> None:
    # Bound here rather than by uvicorn, which logs a taken port and exits: PortInUse lets the command
    # line name the setting to change.
    with bound_socket(settings.host, settings.http_port) as listener:
        endpoint = MetricsEndpoint.start(settings, HTTP_GATEWAY)
        try:
            await _run(settings, listener)
        finally:
            if endpoint is not None:
                endpoint.stop()


async def _run(settings: Settings, listener: socket.socket) -> None:
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    setup_telemetry(settings, HTTP_GATEWAY)
    channel = grpc.aio.insecure_channel(
        settings.grpc_address("intake"),
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    # The weekly QA report's pages are QualityService's (GetQualityReport with the caller's token).
    quality_channel = grpc.aio.insecure_channel(
        settings.grpc_address("quality"),
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    # The statistics reports' downloads and page are StatsService's (GetReport with the caller's token).
    stats_channel = grpc.aio.insecure_channel(
        settings.grpc_address("stats"),
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    try:
        channels = Channels(
            intake_pb2_grpc.IntakeServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
            channel_category=settings.channel_category,
            quality=quality_pb2_grpc.QualityServiceStub(quality_channel),
            stats=stats_pb2_grpc.StatsServiceStub(stats_channel),
        )
        config = uvicorn.Config(
            RequestMetrics(build_app(channels)),
            host=settings.host,
            port=settings.http_port,
            log_config=None,  # the process's logging, as configured by `helpdesk serve`
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
        )
        log.info("%s serving HTTP on %s", HTTP_GATEWAY, settings.http_url)
        await _serve(_Server(config), listener)
    finally:
        await stats_channel.close(grace=GRACE_SECONDS)
        await quality_channel.close(grace=GRACE_SECONDS)
        await channel.close(grace=GRACE_SECONDS)


async def _serve(server: uvicorn.Server, listener: socket.socket) -> None:
    serving = asyncio.ensure_future(server.serve(sockets=[listener]))
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True  # stop accepting; answer the requests already in flight
        await serving
        raise
