"""The HTTP channels' composition root: settings → telemetry → gRPC channels to intake (and to the
quality service, for the weekly QA report's pages; to stats, for the statistics reports) → uvicorn.

Run by `helpdesk serve http` (which ends in ``os._exit``, as every desk process does). It opens no
Temporal connection: everything goes through intake, or quality and stats for the reports, but for the
trace pages, which it reads from the span files itself, and the codec endpoint for the Temporal UI,
which decrypts with the payload key ring; both check their callers' tokens on a small database pool
of its own (opened at the first such request). SIGTERM or Ctrl-C cancel `run`; uvicorn then stops
accepting, finishes the requests in flight, and the channels close after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import h11
import uvicorn
from grpc_health.v1 import health_pb2_grpc
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from desk import db
from desk.auth import TokenAuthenticator
from desk.config import HTTP_GATEWAY, Settings
from desk.grpc_channels import aio_channel
from desk.metrics import MetricsEndpoint
from desk.payload_codec import EncryptionCodec
from desk.ports import bound_socket
from desk.telemetry import setup_telemetry
from helpdesk.v1 import intake_pb2_grpc, quality_pb2_grpc, stats_pb2_grpc
from services.http.app import Channels, build_app
from services.http.codec import CodecEndpoint, codec_app
from services.http.codec_session import CodecSessions, SessionSeal
from services.http.codec_sign_in import SignInPage
from services.http.errors import HttpError
from services.http.health import GatewayHealth
from services.http.metrics import RequestMetrics
from services.http.trace_page import TracePages

log = logging.getLogger(__name__)

GRACE_SECONDS = 10.0
MAX_HEAD_BYTES = 16 * 1024
"""The longest request line and headers read (h11's default, made deliberate): a longer one, a 1 MB
ticket id in a path, is refused before routing, as a malformed request."""


LINGER_SECONDS = 2.0
"""How long a refused connection is still read (and what arrives dropped) after the answer."""


class _JsonErrors(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, refusing a request it cannot parse (not HTTP, or a head over
    :data:`MAX_HEAD_BYTES`) in the gateway's JSON error shape rather than in plain text.

    The answer is followed by a lingering close, as web servers do: closing at once with the rest of
    the request unread makes the kernel reset the connection, and the client loses the answer."""

    _refused = False

    def data_received(self, data: bytes) -> None:
        if not self._refused:  # else the rest of a refused request: read, and dropped
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        problem = f"not an HTTP/1.1 request, or its request line and headers exceed {MAX_HEAD_BYTES} bytes"
        body = bytes(HttpError(400, "INVALID_ARGUMENT", problem).response().body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self._refused = True
        self.transport.write_eof()  # the answer, then the end: the client reads it whole
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


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
    channel = aio_channel(
        settings.target("intake"),
        settings.grpc_caller_tls,
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    # The weekly QA report's pages are QualityService's (GetQualityReport with the caller's token).
    quality_channel = aio_channel(
        settings.target("quality"),
        settings.grpc_caller_tls,
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    # The statistics reports' downloads and page are StatsService's (GetReport with the caller's token).
    stats_channel = aio_channel(
        settings.target("stats"),
        settings.grpc_caller_tls,
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
    # min_size 0: no connection until a trace page is asked for, so the gateway starts without PostgreSQL.
    token_pool = (
        await db.create_pool(settings.database_url, min_size=0, max_size=2) if settings.database_url else None
    )
    authenticator = TokenAuthenticator(token_pool) if token_pool else None
    try:
        traces = TracePages(settings.span_dir, authenticator) if authenticator else None
        channels = Channels(
            intake_pb2_grpc.IntakeServiceStub(channel),
            channel_category=settings.channel_category,
            quality=quality_pb2_grpc.QualityServiceStub(quality_channel),
            stats=stats_pb2_grpc.StatsServiceStub(stats_channel),
            traces=traces,
        )
        health = GatewayHealth(
            {
                name: health_pb2_grpc.HealthStub(served)
                for name, served in (
                    ("intake", channel),
                    ("quality", quality_channel),
                    ("stats", stats_channel),
                )
            }
        )
        config = uvicorn.Config(
            RequestMetrics(build_app(channels, health=health, codec=_codec(settings, authenticator))),
            host=settings.host,
            port=settings.http_port,
            log_config=None,  # the process's logging, as configured by `helpdesk serve`
            lifespan="off",
            server_header=False,
            http=_JsonErrors,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
        )
        log.info("%s serving HTTP on %s", HTTP_GATEWAY, settings.http_url)
        await _serve(_Server(config), listener)
    finally:
        await stats_channel.close(grace=GRACE_SECONDS)
        await quality_channel.close(grace=GRACE_SECONDS)
        await channel.close(grace=GRACE_SECONDS)
        if token_pool is not None:
            await token_pool.close()


def _codec(settings: Settings, authenticator: TokenAuthenticator | None) -> Starlette:
    ring = settings.payload_ring
    missing = [
        name
        for name, value in (("HELPDESK_PAYLOAD_KEYS", ring), ("DATABASE_URL", authenticator))
        if value is None
    ]
    # The session cookie is sealed under a key derived from the ring: sessions need both.
    sessions = CodecSessions(authenticator, SessionSeal(ring)) if ring is not None and authenticator else None
    unconfigured = f"set {' and '.join(missing)}"
    endpoint = CodecEndpoint(
        EncryptionCodec(ring) if ring is not None else None, sessions, missing=unconfigured
    )
    sign_in = SignInPage(sessions, missing=unconfigured)
    return codec_app(endpoint, sign_in, allowed_origins=settings.codec_allowed_origins)


async def _serve(server: uvicorn.Server, listener: socket.socket) -> None:
    serving = asyncio.ensure_future(server.serve(sockets=[listener]))
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True  # stop accepting; answer the requests already in flight
        await serving
        raise
