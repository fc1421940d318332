"""The composition root every service process shares: config → telemetry → clients → server.

A service supplies only what is its own (:class:`ServiceParts`: gRPC bindings, RPC roles, background
loops); this module opens the connections, serves, keeps the health service in step with the loops,
and shuts down gracefully on cancellation (SIGTERM/SIGINT from ``helpdesk serve``). The services'
activities run in the workflow worker (workflows/worker.py), which builds its Temporal worker with
:func:`make_worker`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from grpc_health.v1 import health, health_pb2
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import Worker

from desk import db, event_bus
from desk.auth import TokenAuthenticator
from desk.config import Settings
from desk.dependencies import BACKING_SERVERS, watch_backing_servers
from desk.errors import ConfigurationError
from desk.grpc_edge import ServiceBinding, start_server
from desk.loops import Readiness, describe
from desk.metrics import MetricsEndpoint, report_readiness, temporal_runtime
from desk.payload_codec import encrypted_converter
from desk.telemetry import setup_telemetry
from desk.ticket_spans import TicketActivityInterceptor
from desk.token_records import refuse_development_tokens

log = logging.getLogger(__name__)


_SERVING, _NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
CLOSE_WAIT_SECONDS = 5.0
"""How long closing a connection may take before it is dropped: a server that is down never answers."""

YOUNG_COLLECTION_EVERY = 50_000
"""Net allocations of container objects between the cyclic collector's young collections (CPython: 700)."""


def tune_garbage_collection() -> None:
    """Fewer cyclic collections, and none over what lives as long as the process; call once loaded.

    Reference counting frees almost everything; the cyclic collector only finds cycles. At CPython's
    defaults it took 8 % of the workflow worker's CPU under lifecycle load (``gc.callbacks``, 4,000
    open tickets cached): a young collection every 700 allocations, and every ~25 s a full one over
    ~270,000 objects, 0.2 s each, a pause every RPC then in flight waits out. With young collections
    every 50,000 it took under 1 %, and no full collection ran in those 30 s. Freezing what is loaded
    by now (modules, classes, the composition's objects) keeps it out of every later collection.
    """
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)


@dataclass
class Runtime:
    """The connections a process opened, handed to the service's builder."""

    settings: Settings
    pool: asyncpg.Pool
    temporal: Client
    nats: NatsClient
    js: JetStreamContext
    readiness: Readiness = field(default_factory=lambda: Readiness(report_readiness))
    """Which of the process's background loops are down; its gRPC health service follows it."""
    metrics: MetricsEndpoint | None = None
    """The process's /metrics (desk/metrics.py), stopped with the connections."""


@dataclass
class ServiceParts:
    bindings: Sequence[ServiceBinding]
    access: Mapping[str, frozenset[str]]
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    """Loops the service runs beside its server until it stops (intake's ticket starter and relay).
    A loop that raises ends the process (see :mod:`desk.loops`)."""
    needs: frozenset[str] = BACKING_SERVERS
    """The backing servers its RPCs cannot answer without: NOT_SERVING while one is out of reach
    (:mod:`desk.dependencies`)."""


async def connect_temporal(settings: Settings, process: str | None = None) -> Client:
    """The desk's Temporal client; a desk ``process``'s SDK serves its runtime metrics on the process's
    port (desk/metrics.py), a tool's (no process) serves none."""
    address, _, _ = settings.require_stack()
    ring = settings.payload_ring
    if ring is None:
        raise ConfigurationError(
            "not configured: HELPDESK_PAYLOAD_KEYS or HELPDESK_PAYLOAD_KEY (Temporal payloads carry"
            " personal data)"
        )
    return await Client.connect(
        address,
        namespace=settings.temporal_namespace,
        # The ticket interceptor after the tracing one: it runs inside the activity's span (ticket_spans).
        interceptors=[TracingInterceptor(), TicketActivityInterceptor()],
        data_converter=encrypted_converter(ring),
        runtime=temporal_runtime(settings, process) if process else None,
        **settings.temporal_access.connect_options(),
    )


async def open_runtime(settings: Settings, process_name: str) -> Runtime:
    setup_telemetry(settings, process_name)
    _, nats_url, database_url = settings.require_stack()
    metrics = MetricsEndpoint.start(settings, process_name)
    pool = await db.create_pool(database_url)
    temporal = await connect_temporal(settings, process_name)
    nc = await event_bus.connect(nats_url, settings.nats_access)
    js = nc.jetstream()
    await event_bus.ensure_stream(js, replicas=settings.jetstream_replicas)
    return Runtime(settings=settings, pool=pool, temporal=temporal, nats=nc, js=js, metrics=metrics)


async def close_runtime(runtime: Runtime) -> None:
    """Close the connections; one whose server is gone is dropped instead of waited for."""
    if runtime.metrics is not None:
        runtime.metrics.stop()
    try:
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            await runtime.nats.drain()
    except Exception as error:
        log.warning("NATS connection dropped without draining (%s)", describe(error))
        await runtime.nats.close()
    try:
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            await runtime.pool.close()
    except Exception as error:
        log.warning("database connections dropped without closing (%s)", describe(error))
        runtime.pool.terminate()


def make_worker(runtime: Runtime, task_queue: str, **kwargs: Any) -> Worker:
    return Worker(
        runtime.temporal,
        task_queue=task_queue,
        graceful_shutdown_timeout=timedelta(seconds=runtime.settings.worker_shutdown_seconds),
        **kwargs,
    )


async def serve(settings: Settings, name: str, build: Callable[[Runtime], Awaitable[ServiceParts]]) -> None:
    """Run one service until cancelled."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    settings.require_transport_security()  # before anything opens
    runtime = await open_runtime(settings, name)
    try:
        if settings.production:
            await refuse_development_tokens(runtime.pool)
        parts = await build(runtime)
        health_service = health.aio.HealthServicer()
        server, port = await start_server(
            address=settings.grpc_address(name),
            bindings=parts.bindings,
            authenticator=TokenAuthenticator(runtime.pool),
            access=parts.access,
            interceptors=[aio_server_interceptor()],  # type: ignore[no-untyped-call]
            health=health_service,
            tls=settings.grpc_server_tls,
        )
        transport = "TLS" if settings.grpc_server_tls is not None else "plaintext"
        if settings.grpc_server_tls is None and settings.grpc_plaintext_reason:
            transport += f"; {settings.grpc_plaintext_reason}"
        log.info("%s serving gRPC (%s) on %s:%d", name, transport, settings.host, port)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(follow_readiness(runtime.readiness, health_service, server_names(parts)))
                group.create_task(watch_needs(runtime, parts.needs))
                for loop in parts.background:
                    group.create_task(loop())
                await asyncio.Event().wait()
        finally:
            await server.stop(grace=5)
    finally:
        await close_runtime(runtime)


async def watch_needs(runtime: Runtime, needs: frozenset[str]) -> None:
    _, _, database_url = runtime.settings.require_stack()
    await watch_backing_servers(
        needs, runtime.readiness, database_url=database_url, temporal=runtime.temporal, nats=runtime.nats
    )


def server_names(parts: ServiceParts) -> list[str]:
    """The names the health service answers for: the server as a whole ("") and each service."""
    return ["", *(binding.full_name for binding in parts.bindings)]


async def follow_readiness(
    readiness: Readiness, health_service: health.aio.HealthServicer, names: Sequence[str]
) -> None:
    """Answer NOT_SERVING while a background loop or a backing server is down, SERVING once all work."""
    while True:
        serving = await readiness.changed()
        status = _SERVING if serving else _NOT_SERVING
        for name in names:
            await health_service.set(name, status)
