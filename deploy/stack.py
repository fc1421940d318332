"""The three backing services: each one configured elsewhere is used as is, the others start embedded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Protocol

from deploy.nats import EmbeddedNats
from deploy.nats_cluster import NODE_NAMES, nats_nodes
from deploy.postgres import EmbeddedPostgres
from deploy.processes import ChildProcess, run_together
from deploy.temporal import EmbeddedTemporal
from desk.config import Settings

EMBEDDED_HOST = "127.0.0.1"
"""The embedded servers never listen beyond loopback."""

STACK_STOP_ORDER = ("temporal", *NODE_NAMES, "postgres")
"""The order the backing services stop in, after the desk's own processes (as `start_stack` unwinds)."""


class Embedded(Protocol):
    """A backing server `helpdesk up` runs itself: `start` again restarts it and waits until it answers."""

    child: ChildProcess

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class StackAddresses:
    temporal: str
    temporal_ui: str | None  # unknown when Temporal is configured elsewhere
    nats: str  # every server's URL, comma-separated (desk/nats_servers.py): a NATS_URL
    postgres: str
    embedded: tuple[Embedded, ...] = ()  # those started here, to be kept running
    temporal_metrics: str | None = None  # the embedded Temporal's Prometheus endpoint
    nats_monitoring: str | None = None  # the embedded NATS's monitoring endpoint (node 1's)


async def start_stack(settings: Settings, exits: AsyncExitStack) -> StackAddresses:
    """Start what the settings leave unconfigured, in parallel, and push their stops onto `exits`.

    Stops are pushed before anything starts, Postgres first, so unwinding stops Temporal, then NATS
    (a cluster's nodes together), then Postgres, and also stops whatever did start when another
    component fails to.
    """
    run_dir = settings.data_dir / "run"
    host, ports = EMBEDDED_HOST, settings.embedded
    logs = settings.logs
    embedded: list[Embedded] = []
    database_url, nats_url = settings.database_url, settings.nats_url
    temporal_address, temporal_ui = settings.temporal_address, None
    temporal_metrics = nats_monitoring = None
    if database_url is None:
        postgres = EmbeddedPostgres(
            data_dir=settings.data_dir, host=host, port=ports.postgres, run_dir=run_dir, log_limits=logs
        )
        database_url = postgres.url
        embedded.append(postgres)
    stops: list[Callable[[], Awaitable[None]]] = [component.stop for component in embedded]
    if nats_url is None:
        cluster = nats_nodes(settings, host)
        nodes = [
            EmbeddedNats(
                data_dir=settings.data_dir, node=node, cluster=cluster, run_dir=run_dir, log_limits=logs
            )
            for node in cluster
        ]
        nats_url, nats_monitoring = nodes[0].users.desk_url(), nodes[0].monitoring_url
        embedded += nodes
        stops.append(_together(node.stop for node in nodes))
    if temporal_address is None:
        temporal = EmbeddedTemporal(
            data_dir=settings.data_dir,
            host=host,
            port=ports.temporal,
            ui_port=ports.temporal_ui,
            metrics_port=ports.temporal_metrics,
            namespace=settings.temporal_namespace,
            run_dir=run_dir,
            nice=settings.temporal_nice,
            log_limits=logs,
            codec_endpoint=settings.codec_endpoint,
        )
        temporal_address, temporal_ui = temporal.address, temporal.ui_url
        temporal_metrics = temporal.metrics_url
        embedded.append(temporal)
        stops.append(temporal.stop)
    for stop in stops:
        exits.push_async_callback(stop)
    await run_together(component.start() for component in embedded)
    return StackAddresses(
        *(temporal_address, temporal_ui, nats_url, database_url, tuple(embedded)),
        temporal_metrics=temporal_metrics,
        nats_monitoring=nats_monitoring,
    )


def _together(stops: Iterable[Callable[[], Awaitable[None]]]) -> Callable[[], Awaitable[None]]:
    """One stop that runs these side by side (a cluster's nodes: none waits on another's shutdown)."""
    every = list(stops)

    async def stop() -> None:
        await asyncio.gather(*(each() for each in every))

    return stop
