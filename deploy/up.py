"""`helpdesk up`: the whole desk on its embedded default, supervised until it is told to stop.

Order (DESIGN section 4): the data directory's format (deploy/data_format.py), backing services,
migrations, seed data and development tokens, then one process per service, the HTTP channels gateway
and the workflow worker; endpoints.json once all of them answer. Stopping runs the same way back:
endpoints.json goes first, then the HTTP gateway (its requests in flight still reach intake), the
services, the worker, Temporal, NATS, Postgres.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.data_format import ensure_data_format
from deploy.endpoints import Endpoints, EndpointsFile
from deploy.migration import prepare
from deploy.nats import admit_active_teams
from deploy.nats_cluster import check_embedded, listening, nats_nodes
from deploy.postgres import PGDATA, process_database_urls, role_passwords
from deploy.processes import ChildProcess, ChildSpec, Probe, run_together, stop_leftovers, wait_ready
from deploy.secrets import SecretFiles
from deploy.stack import EMBEDDED_HOST, STACK_STOP_ORDER, StackAddresses, start_stack
from deploy.supervisor import Supervisor
from desk import config
from desk.auth import ensure_dev_tokens
from desk.config import (
    HTTP_GATEWAY,
    PAGE_TOKEN_KEY_SETTING,
    REPLICAS_SETTING,
    SAMPLING_SECRET_SETTING,
    SERVICES,
    WORKER,
    WORKER_PROCESSES,
    Settings,
    embedded_port_setting,
    metrics_port_setting,
    port_setting,
    replica_of,
    secret_file_setting,
    target_setting,
    temporal_metrics_port_setting,
)
from desk.db import create_pool
from desk.errors import ConfigurationError, DeskError
from desk.grpc_channels import aio_channel
from desk.nats_servers import server_urls
from desk.payload_codec import new_key
from desk.payload_keys import desk_ring
from desk.ports import ensure_free
from desk.private_files import private_directory, restrict_tree
from desk.tls import (
    CALLER_CA_SETTING,
    CALLER_CERT_SETTING,
    CALLER_SWITCH_SETTING,
    CLIENT_CA_SETTING,
    CallerTLS,
)
from workflows.contract import TASK_QUEUE as WORKFLOW_TASK_QUEUE

log = logging.getLogger(__name__)

PAGE_TOKEN_KEY_SECRET = "page-token-key"
READY_TIMEOUT_SECONDS = 120.0  # seven Python processes importing gRPC, Temporal and OpenTelemetry at once


class AlreadyRunning(DeskError):
    """Another `helpdesk up` owns this data directory."""


async def up(settings: Settings, *, with_services: bool) -> None:
    """Run until cancelled; cancellation stops everything this started, in order."""
    started = time.monotonic()
    if with_services:
        settings.require_transport_security()
        check_callers_reach_services(settings)
    private_directory(settings.data_dir)
    async with AsyncExitStack() as exits:
        exits.enter_context(_exclusive(settings.data_dir))
        # Owner-only, also what an older desk left readable; PostgreSQL's directory is its own account's.
        restrict_tree(settings.data_dir, leave=[settings.data_dir / PGDATA])
        ensure_data_format(settings.data_dir)  # before anything starts on data it could not run
        check_embedded(settings)  # a NATS cluster as asked, on a data directory of the same topology
        settings.endpoints_file.unlink(missing_ok=True)  # left by a killed run: it describes nothing now
        await stop_leftovers(settings.data_dir / "run", last=STACK_STOP_ORDER)
        for port in listening_ports(settings, with_services=with_services):
            ensure_free(port.host, port.port, owner=port.owner, setting=port.setting)
        stack = await start_stack(settings, exits)
        tokens = await _prepare_database(stack.postgres, settings)
        await admit_active_teams(stack.embedded, stack.postgres)  # their NATS users (deploy/nats_users.py)
        nats_servers = server_urls(stack.nats)  # a cluster's nodes; "nats" names the first
        published = EndpointsFile(
            settings.endpoints_file,
            Endpoints(stack.temporal, stack.temporal_ui, nats_servers[0], stack.postgres, tokens),
        )
        published.endpoints.nats_servers = nats_servers
        published.endpoints.temporal_metrics = stack.temporal_metrics
        published.endpoints.nats_monitoring = stack.nats_monitoring
        supervisor = Supervisor(
            desk_processes(settings, stack) if with_services else [],
            settings.data_dir / "run",
            on_spawn=published.process_started,
        )
        stop_order = [gateway_processes(settings), service_processes(settings), worker_names(settings)]
        exits.push_async_callback(supervisor.stop, stop_order)
        for component in stack.embedded:
            supervisor.watch(component.child, component.start)
        if with_services:
            await _start_desk(settings, stack, published, supervisor)
        exits.callback(published.withdraw)
        # Every secret by now, the page token key's too (desk_processes): the files, not the values.
        published.endpoints.secrets = SecretFiles(settings.data_dir).named()
        published.publish()
        print(f"\nThe desk is up ({time.monotonic() - started:.1f} s):\n{published.endpoints.table()}")
        print(f"Endpoints and development tokens: {settings.endpoints_file}")
        print(f"Logs: {settings.data_dir / 'logs'}/    Ctrl-C stops everything.\n", flush=True)
        await asyncio.Event().wait()


def check_callers_reach_services(settings: Settings) -> None:
    """`up` and the HTTP gateway call the services with the same settings the services serve with:
    refused at once when those calls could not succeed, instead of every probe timing out."""
    server, caller = settings.grpc_server_tls, settings.grpc_caller_tls
    if server is not None and caller is None:
        raise ConfigurationError(
            f"the services serve TLS, but their callers (`up`'s probes, the HTTP gateway) would call in"
            f" plaintext: set {CALLER_CA_SETTING} (or {CALLER_SWITCH_SETTING}=on for the system's roots)"
        )
    if server is not None and server.client_ca is not None and caller is not None and caller.identity is None:
        raise ConfigurationError(
            f"{CLIENT_CA_SETTING} makes the services ask for client certificates, and their callers"
            f" (`up`'s probes, the HTTP gateway) have none: set {CALLER_CERT_SETTING} and its key"
        )
    if server is None and caller is not None:
        raise ConfigurationError(
            f"callers would call the services over TLS ({CALLER_CA_SETTING} or {CALLER_SWITCH_SETTING}=on),"
            " but the services serve plaintext: set HELPDESK_TLS_CERT_FILE and HELPDESK_TLS_KEY_FILE"
        )


@dataclass(frozen=True)
class ListeningPort:
    owner: str  # the server that listens on it
    setting: str  # the setting that chooses it
    host: str
    port: int


def listening_ports(settings: Settings, *, with_services: bool) -> list[ListeningPort]:
    """The ports this run will listen on, checked before anything starts: a taken one is named with
    the setting that moves it, instead of a server failing part-way through the start."""
    embedded = settings.embedded
    wanted: list[tuple[str, int, bool]] = [  # (server, port, started by this run)
        ("postgres", embedded.postgres, settings.database_url is None),
        ("temporal", embedded.temporal, settings.temporal_address is None),
        ("temporal_ui", embedded.temporal_ui, settings.temporal_address is None),
        ("temporal_metrics", embedded.temporal_metrics, settings.temporal_address is None),
    ]
    ports = [
        ListeningPort(name, embedded_port_setting(name), EMBEDDED_HOST, port)
        for name, port, started in wanted
        if started
    ]
    if settings.nats_url is None:  # each node's: node k's is the setting's port plus k - 1
        nodes = nats_nodes(settings, EMBEDDED_HOST)
        wanted_by_nodes = [port for node in nodes for port in listening(node)]
        ports += [
            ListeningPort(owner, setting, EMBEDDED_HOST, port) for owner, setting, port in wanted_by_nodes
        ]
    if with_services:
        desk = [(name, settings.grpc_ports[name]) for name in service_processes(settings)]
        desk += [(name, settings.http_port_of(name)) for name in gateway_processes(settings)]
        ports += [ListeningPort(name, port_setting(name), settings.host, port) for name, port in desk]
        metrics = metrics_ports(settings)
        ports += [ListeningPort(owner, setting, settings.host, port) for owner, setting, port in metrics]
    ensure_distinct(ports)
    return ports


def ensure_distinct(ports: list[ListeningPort]) -> None:
    """Two servers configured on one port: refused before anything starts, naming both settings (the
    second would otherwise fail half-way through the start, or a replica never come up; a NATS
    cluster's nodes take consecutive ports, which may reach another setting's)."""
    seen: dict[tuple[str, int], ListeningPort] = {}
    for port in ports:
        if (first := seen.setdefault((port.host, port.port), port)) is not port:
            raise ConfigurationError(
                f"{port.setting} and {first.setting} both choose port {port.port}"
                f" ({port.owner} and {first.owner}): give each its own"
            )


def service_processes(settings: Settings) -> list[str]:
    """Every service's replicas: "intake", "intake-2", …, "dispatch", "dispatch-2", …"""
    return [name for service in SERVICES for name in settings.replicas_of(service)]


def gateway_processes(settings: Settings) -> list[str]:
    """The HTTP gateway's replicas: "http", "http-2", …"""
    return settings.replicas_of(HTTP_GATEWAY)


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """One `helpdesk up` per data directory; the lock dies with its process, so a crash never blocks."""
    with (data_dir / "up.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise AlreadyRunning(f"another `helpdesk up` (pid {holder}) is running on {data_dir}") from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


async def _prepare_database(database_url: str, settings: Settings) -> dict[str, str]:
    pool = await create_pool(database_url, max_size=2)
    try:
        embedded = settings.database_url is None  # embedded: each process logs in as its own role
        passwords = role_passwords(SecretFiles(settings.data_dir)) if embedded else None
        await prepare(pool, roles=embedded, passwords=passwords)
        lifetime = timedelta(hours=settings.dev_token_hours)
        tokens = await ensure_dev_tokens(pool, lifetime=lifetime, production=settings.production)
        if settings.production:
            log.info("seeded default teams and policies; production mode: no development tokens")
        else:
            log.info(
                "seeded default teams and policies; issued %d development tokens for %s",
                len(tokens),
                lifetime,
            )
    finally:
        await pool.close()
    return tokens


async def _start_desk(
    settings: Settings, stack: StackAddresses, published: EndpointsFile, supervisor: Supervisor
) -> None:
    workers = worker_names(settings)
    await supervisor.start()
    temporal = await Client.connect(
        stack.temporal, namespace=settings.temporal_namespace, **settings.temporal_access.connect_options()
    )
    tls = settings.grpc_caller_tls
    probes = {name: _serving(settings.grpc_address(name), tls) for name in service_processes(settings)}
    for name in gateway_processes(settings):
        probes[name] = _answering(settings.host, settings.http_port_of(name), "/readyz")
    for name in workers:
        probes[name] = _polling(temporal, settings.temporal_namespace, supervisor.children[name])
    await run_together(_ready(supervisor.children[name], probe) for name, probe in probes.items())
    supervisor.supervise()
    published.endpoints.services = {name: settings.grpc_address(name) for name in SERVICES}
    published.endpoints.services["knowledge"] = settings.grpc_address("intake")  # served by intake
    published.endpoints.http = {"intake": settings.http_url}
    published.endpoints.replicas = {
        service: [settings.grpc_address(name) for name in settings.replicas_of(service)]
        for service in SERVICES
    }
    published.endpoints.replicas["knowledge"] = published.endpoints.replicas["intake"]
    published.endpoints.replicas[HTTP_GATEWAY] = [
        f"http://{settings.host}:{settings.http_port_of(name)}" for name in gateway_processes(settings)
    ]
    processes = [*service_processes(settings), *gateway_processes(settings), *workers]
    published.endpoints.add_metrics(settings, processes)


async def _ready(child: ChildProcess, probe: Probe) -> None:
    waited = await wait_ready(child, probe, within=READY_TIMEOUT_SECONDS)
    log.info("%-9s ready, pid %s (%.1f s)", child.name, child.pid, waited)


def quality_sampling_secret(settings: Settings) -> str:
    """The secret the daily quality sample is drawn with (services/quality/sampling.py): configured, or
    kept in the data dir, made once. Outside the database, so that staff cannot predict the sample; an
    auditor recomputes it with this file (`helpdesk qa verify DAY`)."""
    return _configured_or_kept(settings.quality_sampling_secret, settings.quality_sampling_key_file)


def page_token_key(settings: Settings) -> str:
    """The key every service signs its page tokens with (desk/paging.py): configured, or kept in the
    data dir's secrets, made once; so a token stays good across restarts of the desk."""
    if settings.page_token_key is not None:
        return settings.page_token_key.decode()
    return SecretFiles(settings.data_dir).kept(PAGE_TOKEN_KEY_SECRET)


def _configured_or_kept(configured: bytes | None, path: Path) -> str:
    """A configured key as URL-safe base64, else the one kept in ``path`` (0600), made the first time."""
    if configured is not None:
        return base64.urlsafe_b64encode(configured).decode()
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(new_key())
    return path.read_text().strip()


def desk_processes(settings: Settings, stack: StackAddresses) -> list[ChildSpec]:
    """`helpdesk serve <service>` for each service, `serve http` and `helpdesk worker`, on the same stack."""
    env = dict(os.environ)
    env.update(
        HELPDESK_PAYLOAD_KEYS=desk_ring(settings).to_text(),  # desk/payload_keys.py
        HELPDESK_QUALITY_SAMPLING_SECRET=quality_sampling_secret(settings),
        HELPDESK_PAGE_TOKEN_KEY=page_token_key(settings),
        TEMPORAL_ADDRESS=stack.temporal,
        NATS_URL=stack.nats,  # every node's, comma-separated (desk/nats_servers.py)
        HELPDESK_STREAM_REPLICAS=str(
            settings.jetstream_replicas
        ),  # 3 on an embedded cluster (desk/config.py)
        HELPDESK_DATA_DIR=str(settings.data_dir),
        HELPDESK_HOST=settings.host,
        PYTHONUNBUFFERED="1",  # a crash's last lines reach the log
    )
    env.update({port_setting(name): str(port) for name, port in settings.grpc_ports.items()})
    env[port_setting(HTTP_GATEWAY)] = str(settings.http_port)
    env.update({port_setting(name): str(port) for name, port in settings.http_replica_ports.items()})
    # Callers (the gateway) reach a service through all its replicas, round robin (desk/grpc_channels.py).
    env.update({target_setting(service): settings.target(service) for service in SERVICES})
    env[REPLICAS_SETTING] = str(settings.replicas)  # `--replicas` as much as the setting
    env.update(metrics_environment(settings, WORKER))
    env.pop("DATABASE_URL", None)  # each process its own (desk/database_roles.py)
    # What is set here replaces the operator's: a file given for the same setting would contradict it.
    replaced = (
        "DATABASE_URL",
        "NATS_URL",
        "HELPDESK_PAYLOAD_KEYS",
        SAMPLING_SECRET_SETTING,
        PAGE_TOKEN_KEY_SETTING,
    )
    for name in replaced:
        env.pop(secret_file_setting(name), None)
    # Replicas log in as their service's role: PostgreSQL's roles are per service, not per process.
    databases = process_database_urls(
        settings.database_url,
        stack.postgres,
        settings.data_dir,
        [*SERVICES, HTTP_GATEWAY, *worker_names(settings)],
    )
    grace = settings.worker_shutdown_seconds + 10.0  # the worker finishes its tasks, the server its calls

    def spec(name: str, *command: str, nice: int = 0) -> ChildSpec:
        argv = [sys.executable, "-m", "cli", *command]
        log = settings.data_dir / "logs" / f"{name}.log"
        own = {**env, **metrics_environment(settings, name)} if name in WORKER_PROCESSES else env
        own = {**own, **replica_environment(settings, name)}
        role = name if name in WORKER_PROCESSES else replica_of(name)[0]
        if role in databases:
            own = {**own, "DATABASE_URL": databases[role]}
        return ChildSpec(name, argv, log, env=own, stop_timeout=grace, nice=nice, log_limits=settings.logs)

    services = [spec(name, "serve", replica_of(name)[0]) for name in service_processes(settings)]
    # Behind the services for the CPU (settings.worker_nice, 19 by default) when all share a machine:
    # under a burst of reports the workers open the backlog (services/intake/opening/starter.py) with what the
    # services leave, so CreateTicket keeps its latency (docs/performance.md). In production the
    # workers have CPU of their own.
    workers = [spec(name, "worker", nice=settings.worker_nice) for name in worker_names(settings)]
    gateways = [spec(name, "serve", HTTP_GATEWAY) for name in gateway_processes(settings)]
    return [*services, *gateways, *workers]


def replica_environment(settings: Settings, name: str) -> dict[str, str]:
    """A later replica ("intake-2", "http-2") is its service's process on ports of its own: given them
    under its first replica's settings (HELPDESK_INTAKE_PORT …), which `helpdesk serve` reads."""
    process, number = replica_of(name)
    if number == 1 or process not in (*SERVICES, HTTP_GATEWAY):
        return {}
    port = settings.http_port_of(name) if process == HTTP_GATEWAY else settings.grpc_ports[name]
    env = {port_setting(process): str(port), metrics_port_setting(process): str(settings.metrics_ports[name])}
    if name in settings.temporal_metrics_ports:
        env[temporal_metrics_port_setting(process)] = str(settings.temporal_metrics_ports[name])
    return env


def worker_names(settings: Settings) -> list[str]:
    """ "worker", "worker-2", …: a workflow worker runs its workflows and local activities on one Python
    thread, so on a machine with spare cores a second process opens and updates tickets faster
    (docs/performance.md: lifecycle 9.4 → 13.1/s on 2 cores)."""
    return config.worker_names(settings.workflow_workers)


def metrics_environment(settings: Settings, worker: str) -> dict[str, str]:
    """The metrics ports of the services and the gateway, and the workers': every `helpdesk worker`
    reads its own as "worker"'s (HELPDESK_WORKER_METRICS_PORT), so each is given the one of its name."""
    ports, sdk_ports = settings.metrics_ports, settings.temporal_metrics_ports
    env = {metrics_port_setting(name): str(ports[name]) for name in (*SERVICES, HTTP_GATEWAY)}
    env.update({temporal_metrics_port_setting(name): str(sdk_ports[name]) for name in SERVICES})
    env[metrics_port_setting(WORKER)] = str(ports[worker])
    env[temporal_metrics_port_setting(WORKER)] = str(sdk_ports[worker])
    return env


def metrics_ports(settings: Settings) -> list[tuple[str, str, int]]:
    """(owner, setting, port) of each metrics endpoint the desk's processes serve (port 0: none)."""
    ports = []
    for name in (*service_processes(settings), *gateway_processes(settings), *worker_names(settings)):
        setting = metrics_port_setting(name)
        ports.append((f"{name} metrics", setting, settings.metrics_ports[name]))
        if name in settings.temporal_metrics_ports:
            setting = temporal_metrics_port_setting(name)
            ports.append((f"{name} Temporal SDK metrics", setting, settings.temporal_metrics_ports[name]))
    return [port for port in ports if port[2]]


def _serving(address: str, tls: CallerTLS | None) -> Probe:
    async def probe() -> bool:
        async with aio_channel(address, tls) as channel:
            try:
                answer = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=2
                )
            except grpc.aio.AioRpcError:
                return False
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    return probe


def _answering(host: str, port: int, path: str) -> Probe:
    """An HTTP server is ready once GET `path` answers 200 (the gateway's /readyz: the services behind it
    answer too)."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()

    async def probe() -> bool:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return False
        try:
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()  # b"HTTP/1.1 200 OK\r\n"
        except OSError:
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return status_line.split()[1:2] == [b"200"]

    return probe


def _polling(client: Client, namespace: str, worker: ChildProcess) -> Probe:
    """The worker is ready once it polls its task queue (its identity is ``<pid>@<host>``)."""
    request = DescribeTaskQueueRequest(
        namespace=namespace,
        task_queue=TaskQueue(name=WORKFLOW_TASK_QUEUE),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )

    async def probe() -> bool:
        try:
            answer = await client.workflow_service.describe_task_queue(request)
        except RPCError:
            return False
        return any(p.identity.startswith(f"{worker.pid}@") for p in answer.pollers)

    return probe
