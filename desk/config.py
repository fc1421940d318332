"""Settings: one typed object, built once per process from an injectable mapping and passed down."""

from __future__ import annotations

import base64
import ipaddress
import logging
import re
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio.service import TLSConfig

from desk.errors import ConfigurationError
from desk.payload_codec import KeyRing, parse_key, parse_ring
from desk.tls import (
    SERVER_CERT_SETTING,
    SERVER_KEY_SETTING,
    CallerTLS,
    NatsAccess,
    ServerTLS,
    caller_tls,
    check_database_url,
    nats_access,
    server_tls,
)

SERVICES = ("intake", "dispatch", "survey", "quality", "stats")

# Every default port is below 32768, where Linux's ephemeral range (32768-60999) begins: a port in it
# may be held by any program's outgoing connection at the moment the desk starts.
DEFAULT_GRPC_PORTS = {"intake": 20151, "dispatch": 20152, "survey": 20153, "quality": 20154, "stats": 20155}

HTTP_GATEWAY = "http"
"""The HTTP channels (web form, e-mail and IM webhooks): `helpdesk serve http`, services/http/."""

DEFAULT_HTTP_PORT = 20180
DEFAULT_CHANNEL_CATEGORY = "software"

WORKER = "worker"
"""The workflow worker (`helpdesk worker`); `helpdesk up` runs "worker", "worker-2", … (workflow_workers)."""
MAX_WORKFLOW_WORKERS = 16


def worker_names(count: int) -> list[str]:
    """ "worker", "worker-2", …, one name per workflow worker process `helpdesk up` runs."""
    return [WORKER, *(f"{WORKER}-{n}" for n in range(2, count + 1))]


WORKER_PROCESSES = tuple(worker_names(MAX_WORKFLOW_WORKERS))

MAX_REPLICAS = 8
REPLICAS_SETTING = "HELPDESK_REPLICAS"
REPLICA_PORT_STEP = 1000
"""Replica k of a process listens on its first replica's ports + (k-1) x 1000 unless its own setting
(HELPDESK_INTAKE_2_PORT, HELPDESK_INTAKE_2_METRICS_PORT …) says otherwise: 20151, 21151, 22151 … for
intake's gRPC, all below 32768 with the defaults up to MAX_REPLICAS."""


def replica_names(process: str, count: int) -> list[str]:
    """ "intake", "intake-2", …: one name per replica of a service or of the HTTP gateway."""
    return [process, *(f"{process}-{n}" for n in range(2, count + 1))]


def replica_of(name: str) -> tuple[str, int]:
    """The process a replica name belongs to, and its number: "intake-2" → ("intake", 2)."""
    base, _, number = name.rpartition("-")
    return (base, int(number)) if base and number.isdigit() else (name, 1)


METRICS_PROCESSES = (*SERVICES, HTTP_GATEWAY, *WORKER_PROCESSES)
"""The processes that serve Prometheus metrics (desk/metrics.py), each on a port of its own."""
TEMPORAL_PROCESSES = (*SERVICES, *WORKER_PROCESSES)
"""The processes with a Temporal client, whose SDK serves its own runtime metrics on another port."""
_METRICS_BASE, _TEMPORAL_METRICS_BASE = 20250, 20350
DEFAULT_METRICS_PORTS = {
    **{name: _METRICS_BASE + 1 + n for n, name in enumerate(SERVICES)},  # 20251 … 20255
    HTTP_GATEWAY: _METRICS_BASE + 30,  # 20280
    **{name: _METRICS_BASE + 40 + n for n, name in enumerate(WORKER_PROCESSES)},  # 20290 …
}
DEFAULT_TEMPORAL_METRICS_PORTS = {
    name: port - _METRICS_BASE + _TEMPORAL_METRICS_BASE  # 20351 … 20355, 20390 …
    for name, port in DEFAULT_METRICS_PORTS.items()
    if name in TEMPORAL_PROCESSES
}
CODEC_PATH = "/codec"
"""Where the HTTP gateway serves Temporal's codec-server protocol (``/codec/decode``, ``/codec/encode``)."""
CODEC_ORIGINS_SETTING = "HELPDESK_CODEC_ALLOWED_ORIGINS"


@dataclass(frozen=True)
class EmbeddedPorts:
    """Ports of the embedded dev stack, chosen away from each component's standard port."""

    temporal: int = 17233
    temporal_ui: int = 18233
    nats: int = 14222
    postgres: int = 15432
    temporal_metrics: int = 19233  # the embedded Temporal server's own Prometheus metrics
    nats_monitor: int = 18222  # the embedded NATS's monitoring endpoint (/varz, /jsz …; JSON)
    nats_cluster: int = 16222  # the embedded NATS nodes' routes to each other, when clustered


@dataclass(frozen=True)
class TemporalAccess:
    """How the desk proves itself to a Temporal that asks (docs/security.md): TLS or mTLS, an API key,
    gRPC metadata. Read with Temporal's own environment configuration (``temporalio.envconfig``), so
    the settings are the ones Temporal's CLI and SDKs read: TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_NAME,
    TEMPORAL_API_KEY, TEMPORAL_GRPC_META_<NAME>, or a profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE).
    Certificates and keys are read once, when the settings are."""

    tls: bool | TLSConfig = False
    api_key: str | None = None
    rpc_metadata: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # TLSConfig's own repr shows the client's private key, and the API key is a secret: names only.
        tls = "off" if self.tls is False else "on"
        api_key = "***" if self.api_key is not None else None
        return f"TemporalAccess(tls={tls}, api_key={api_key}, rpc_metadata={sorted(self.rpc_metadata)})"

    @property
    def configured(self) -> bool:
        return self.tls is not False or self.api_key is not None or bool(self.rpc_metadata)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``temporalio.client.Client.connect``."""
        return {"tls": self.tls, "api_key": self.api_key, "rpc_metadata": self.rpc_metadata}


@dataclass(frozen=True)
class FileLimits:
    """What one kind of file may keep on disk: each file up to `max_bytes`, then it is rotated; at most
    `files_kept` rotated files beside the ones being written, none older than `max_age_seconds`."""

    max_bytes: int
    files_kept: int
    max_age_seconds: float


MIB = 1024 * 1024
DEFAULT_MAX_AGE_HOURS = 7 * 24.0
_MAX_AGE_SECONDS = DEFAULT_MAX_AGE_HOURS * 3600
DEFAULT_LOG_LIMITS = FileLimits(max_bytes=10 * MIB, files_kept=3, max_age_seconds=_MAX_AGE_SECONDS)
"""Each child's log under `helpdesk up` (`logs/<name>.log` and `.1` … `.3`): at most 40 MiB a child."""
DEFAULT_SPAN_LIMITS = FileLimits(max_bytes=16 * MIB, files_kept=8, max_age_seconds=_MAX_AGE_SECONDS)
"""The span directory: 8 closed files of 16 MiB in all, beside one open file per running process."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str
    grpc_ports: Mapping[str, int]
    temporal_address: str | None  # None: `helpdesk up` starts the embedded dev server
    temporal_namespace: str
    nats_url: str | None
    database_url: str | None
    otlp_endpoint: str | None  # None: spans go to a local file under data_dir
    payload_key: bytes | None  # encrypts Temporal payloads; `helpdesk up` makes one under data_dir
    embedded: EmbeddedPorts = field(default_factory=EmbeddedPorts)
    worker_shutdown_seconds: float = 10.0
    line_tester: str = "simulator"  # the line test adapter (services/intake/opening/line_test.py)
    http_port: int = DEFAULT_HTTP_PORT
    channel_category: str = DEFAULT_CHANNEL_CATEGORY  # e-mail and IM reports that name no category
    pending_lease_seconds: float = 30.0  # intake's starter: an intake process's hold on a ticket
    max_backlog: int = 5000  # accepted-not-opened tickets past which CreateTicket answers RESOURCE_EXHAUSTED
    worker_nice: int = 19  # `helpdesk up` runs the workflow workers behind the services for the CPU
    workflow_workers: int = 2  # workflow worker processes `helpdesk up` runs (each one Python thread)
    # HELPDESK_REPLICAS: processes `helpdesk up` runs of each service and of the HTTP gateway; unless
    # HELPDESK_WORKFLOW_WORKERS says otherwise, as many workflow workers (at least 2).
    replicas: int = 1
    # HELPDESK_HTTP_2_PORT …: the HTTP gateway's replicas after the first (whose port is http_port).
    http_replica_ports: Mapping[str, int] = field(default_factory=dict)
    # HELPDESK_<SERVICE>_TARGET: the gRPC target callers (the HTTP gateway) reach a service at; by
    # default its local replicas, round robin (desk/grpc_channels.py). See `target`.
    targets: Mapping[str, str] = field(default_factory=dict)
    temporal_nice: int = 10  # the embedded Temporal behind the services, ahead of the workers, for the CPU
    logs: FileLimits = DEFAULT_LOG_LIMITS  # each child's log under `helpdesk up` (deploy/child_log.py)
    spans: FileLimits = DEFAULT_SPAN_LIMITS  # the span files (desk/span_files.py)
    log_repeat_seconds: float = 10.0  # an identical log line is written once per interval, then counted
    log_level: int = logging.INFO  # HELPDESK_LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL
    log_format: str = "auto"  # HELPDESK_LOG_FORMAT: json, text, or auto (JSON unless on a terminal)
    max_cached_workflows: int = 500  # per workflow worker, ~110 KiB each (docs/performance.md)
    time_zone: str = "Asia/Shanghai"  # the desk's local day: quality's sampling days, report weeks
    # Chooses the daily quality sample (services/quality/sampling.py): outside the database, so staff
    # cannot predict it; `helpdesk up` makes one under data_dir.
    quality_sampling_secret: bytes | None = None
    # Where monthly, quarterly and yearly reports begin (services/stats/periods.py): "calendar" (the 1st)
    # or "day21" (the regulation's reporting day, seed 002 七.5); weeks are ISO weeks either way.
    report_boundary: str = "calendar"
    # HELPDESK_PAYLOAD_KEYS: the payload key ring (current + retired keys); HELPDESK_PAYLOAD_KEY alone
    # is a ring of one. `helpdesk keys rotate` keeps one under data_dir (docs/security.md).
    payload_keys: KeyRing | None = None
    dev_token_hours: float = 12.0  # how long a development token `helpdesk up` issues is accepted
    mode: str = "development"  # "production": services refuse to start while development tokens work
    temporal_access: TemporalAccess = field(default_factory=TemporalAccess)  # TLS, API key: see the class
    # Signs the List RPCs' page tokens (desk/paging.py): HELPDESK_PAGE_TOKEN_KEY, at least 16 bytes of
    # text; `helpdesk up` keeps one in <data dir>/secrets/page-token-key.
    page_token_key: bytes | None = None
    # Each process's Prometheus endpoint (desk/metrics.py), and its Temporal SDK's; 0: none served.
    metrics_ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_METRICS_PORTS))
    temporal_metrics_ports: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_TEMPORAL_METRICS_PORTS)
    )
    # HELPDESK_CODEC_ALLOWED_ORIGINS: the Temporal UIs whose pages may call the codec endpoint (CORS);
    # empty: the embedded UI's (see `codec_allowed_origins`).
    codec_origins: tuple[str, ...] = ()
    # HELPDESK_TLS_CERT_FILE, HELPDESK_TLS_KEY_FILE, HELPDESK_TLS_CLIENT_CA_FILE: the gRPC servers' TLS
    # (None: plaintext, the embedded default on 127.0.0.1); desk/tls.py reads and checks the files.
    grpc_server_tls: ServerTLS | None = None
    # HELPDESK_GRPC_PLAINTEXT_REASON: what protects the services' plaintext gRPC when a production
    # service listens beyond loopback without TLS (a service mesh's mTLS sidecars, a proxy terminating
    # TLS); unset, such a service refuses to start (see `require_transport_security`).
    grpc_plaintext_reason: str | None = None
    # HELPDESK_TLS, HELPDESK_TLS_CA_FILE, HELPDESK_TLS_CLIENT_*: how callers reach the services.
    grpc_caller_tls: CallerTLS | None = None
    # NATS_CREDS_FILE and NATS_TLS_*: what the desk shows NATS beyond NATS_URL's user and password.
    nats_access: NatsAccess = field(default_factory=NatsAccess)
    # HELPDESK_NATS_CLUSTER (`helpdesk up --nats-cluster N`): nodes of the embedded NATS (1, 3 or 5).
    nats_cluster: int = 1
    # HELPDESK_STREAM_REPLICAS: the stream's replicas; None: 3 on an embedded cluster, else 1.
    stream_replicas: int | None = None

    @property
    def jetstream_replicas(self) -> int:
        """How many copies JetStream keeps of the desk's stream (and, inheriting, its consumers):
        configured, else 3 on an embedded cluster (a majority of 3 survives the loss of one), else 1."""
        if self.stream_replicas is not None:
            return self.stream_replicas
        return 3 if self.nats_url is None and self.nats_cluster >= 3 else 1

    def __repr__(self) -> str:
        """Every setting but the secrets: keys as ***, URLs without their passwords."""
        shown = []
        for setting in fields(self):
            value = getattr(self, setting.name)
            if setting.name in _SECRET_FIELDS and value is not None:
                value = "***"
            elif setting.name in _URL_FIELDS and value is not None:
                value = without_password(value)
            shown.append(f"{setting.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def grpc_address(self, service: str) -> str:
        """Where a service's process (or one replica: "intake-2") listens."""
        return f"{self.host}:{self.grpc_ports[service]}"

    def replicas_of(self, process: str) -> list[str]:
        """The names of a service's or the gateway's replicas `helpdesk up` runs: "intake", "intake-2" …"""
        return replica_names(process, self.replicas)

    def http_port_of(self, gateway: str) -> int:
        """The port of the HTTP gateway or of one of its replicas ("http-2")."""
        return self.http_port if gateway == HTTP_GATEWAY else self.http_replica_ports[gateway]

    def target(self, service: str) -> str:
        """The gRPC target a caller opens a channel to: configured, else every local replica of the
        service as one ``ipv4:`` address list (a host name reaches the first replica only)."""
        if configured := self.targets.get(service):
            return configured
        return replicas_target([self.grpc_address(name) for name in self.replicas_of(service)])

    def metrics_url(self, process: str) -> str | None:
        """Where the process serves its Prometheus metrics, None when it serves none (port 0)."""
        port = self.metrics_ports.get(process, 0)
        return f"http://{self.host}:{port}/metrics" if port else None

    def temporal_metrics_url(self, process: str) -> str | None:
        """Where the process's Temporal SDK serves its runtime metrics, None when it serves none."""
        port = self.temporal_metrics_ports.get(process, 0)
        return f"http://{self.host}:{port}/metrics" if port else None

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def codec_endpoint(self) -> str:
        """The codec endpoint a Temporal UI or CLI is given (`--ui-codec-endpoint`, `--codec-endpoint`)."""
        return f"{self.http_url}{CODEC_PATH}"

    @property
    def codec_allowed_origins(self) -> tuple[str, ...]:
        """Origins allowed to call the codec endpoint from a browser: configured, else the embedded
        Temporal UI's, under both names a browser on this machine may give it."""
        if self.codec_origins:
            return self.codec_origins
        port = self.embedded.temporal_ui
        return (f"http://127.0.0.1:{port}", f"http://localhost:{port}")

    @property
    def payload_key_file(self) -> Path:
        return self.data_dir / "payload.key"

    @property
    def payload_keys_file(self) -> Path:
        return self.data_dir / "payload.keys"

    @property
    def payload_ring(self) -> KeyRing | None:
        """The keys Temporal payloads are encrypted (current) and decrypted (any) with, if configured."""
        if self.payload_keys is not None:
            return self.payload_keys
        return KeyRing(current=self.payload_key) if self.payload_key is not None else None

    @property
    def quality_sampling_key_file(self) -> Path:
        return self.data_dir / "quality-sampling.key"

    @property
    def span_dir(self) -> Path:
        return self.data_dir / "spans"

    @property
    def endpoints_file(self) -> Path:
        return self.data_dir / "endpoints.json"

    def require_stack(self) -> tuple[str, str, str]:
        """The three backing services' addresses, once `helpdesk up` (or the operator) has set them."""
        missing = [
            name
            for name, value in (
                ("TEMPORAL_ADDRESS", self.temporal_address),
                ("NATS_URL", self.nats_url),
                ("DATABASE_URL", self.database_url),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"not configured: {', '.join(missing)}")
        assert self.temporal_address and self.nats_url and self.database_url
        return self.temporal_address, self.nats_url, self.database_url

    def require_transport_security(self) -> None:
        """A production service reachable beyond this machine serves TLS, or the operator has said what
        protects its plaintext instead (HELPDESK_GRPC_PLAINTEXT_REASON): bearer tokens and customers'
        data would otherwise cross the network readable."""
        if not self.production or self.grpc_server_tls is not None or self.grpc_plaintext_reason:
            return
        if is_loopback(self.host):
            return
        raise ConfigurationError(
            f"HELPDESK_MODE=production and HELPDESK_HOST={self.host} (not loopback), but"
            f" {SERVER_CERT_SETTING} is not set: the services would serve plaintext gRPC to the network."
            f" Set {SERVER_CERT_SETTING} and {SERVER_KEY_SETTING}, or, where TLS is terminated in front of"
            f" the desk (a service mesh's mTLS sidecars, a proxy), say so in {PLAINTEXT_REASON_SETTING}"
            " (docs/deployment.md)"
        )

    def require_quality_sampling_secret(self) -> bytes:
        """The daily sample's secret; a process that draws or verifies a sample cannot start without it."""
        if self.quality_sampling_secret is None:
            raise ConfigurationError(
                f"not configured: {SAMPLING_SECRET_SETTING} (the secret the daily quality sample is drawn"
                " with; `helpdesk up` keeps one in <data dir>/quality-sampling.key)"
            )
        return self.quality_sampling_secret

    def require_page_token_key(self) -> bytes:
        """The key page tokens are signed with; a service that pages cannot start without it."""
        if self.page_token_key is None:
            raise ConfigurationError(
                f"not configured: {PAGE_TOKEN_KEY_SETTING} (the key List RPCs sign their page tokens"
                " with; `helpdesk up` keeps one in <data dir>/secrets/page-token-key)"
            )
        return self.page_token_key


_SECRET_FIELDS = frozenset({"payload_key", "payload_keys", "quality_sampling_secret", "page_token_key"})
_URL_FIELDS = frozenset({"database_url", "nats_url"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (HELPDESK_HOST) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, it names an interface others may reach


def without_password(url: str) -> str:
    """``url`` fit to print: a password in it (``scheme://user:secret@host``) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def replicas_target(addresses: Sequence[str]) -> str:
    """One gRPC target over a service's replicas (``host:port`` each): an ``ipv4:`` list, which
    desk/grpc_channels.py's channels call round robin; the first replica alone when there is one, or
    when a host is a name (gRPC lists only addresses; a name resolving to several is ``dns:///…``)."""
    if not addresses:
        raise ValueError("a service with no replica address")
    if len(addresses) == 1 or not all(_IPV4.fullmatch(address.rpartition(":")[0]) for address in addresses):
        return addresses[0]
    return "ipv4:" + ",".join(addresses)


def port_setting(process: str) -> str:
    """The setting that chooses the port of a service or of the HTTP gateway, or of one replica:
    HELPDESK_INTAKE_PORT, HELPDESK_INTAKE_2_PORT, HELPDESK_HTTP_PORT …"""
    return f"HELPDESK_{process.upper().replace('-', '_')}_PORT"


def target_setting(service: str) -> str:
    """The setting that chooses the gRPC target callers reach a service at: HELPDESK_INTAKE_TARGET, …"""
    return f"HELPDESK_{service.upper()}_TARGET"


def metrics_port_setting(process: str) -> str:
    """The setting that chooses a process's metrics port: HELPDESK_INTAKE_METRICS_PORT, HELPDESK_WORKER_2_…"""
    return f"HELPDESK_{process.upper().replace('-', '_')}_METRICS_PORT"


def temporal_metrics_port_setting(process: str) -> str:
    """The setting that chooses the port of a process's Temporal SDK metrics: HELPDESK_INTAKE_TEMPORAL_…"""
    return f"HELPDESK_{process.upper().replace('-', '_')}_TEMPORAL_METRICS_PORT"


def embedded_port_setting(server: str) -> str:
    """The setting that chooses an embedded server's port (temporal, temporal_ui, nats, postgres,
    temporal_metrics, nats_monitor, nats_cluster)."""
    return f"HELPDESK_EMBEDDED_{server.upper()}_PORT"


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        port = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a port number, got {raw!r}") from exc
    if not 0 <= port < 65536:
        raise ConfigurationError(f"{name} must be a port number, got {raw!r}")
    return port


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {raw!r}")
    return seconds


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigurationError(f"{name} must be {low} to {high}, got {raw!r}")
    return int(raw)


def _hours(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name) or ""
    try:
        hours = float(raw) if raw else default
    except ValueError:
        hours = 0.0
    if hours <= 0:
        raise ConfigurationError(f"{name} must be a positive number of hours, got {raw!r}")
    return hours


def _file_limits(env: Mapping[str, str], names: tuple[str, str], default: FileLimits) -> FileLimits:
    """One file's size and the files kept by their own names; one age for logs and spans alike."""
    max_bytes, files_kept = names
    return FileLimits(
        max_bytes=_whole(env, max_bytes, default.max_bytes, low=4096, high=2**40),
        files_kept=_whole(env, files_kept, default.files_kept, low=1, high=1000),
        max_age_seconds=_hours(env, "HELPDESK_LOG_MAX_AGE_HOURS", DEFAULT_MAX_AGE_HOURS) * 3600,
    )


REPORT_BOUNDARIES = ("calendar", "day21")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("auto", "json", "text")


NATS_CLUSTER_SETTING = "HELPDESK_NATS_CLUSTER"
STREAM_REPLICAS_SETTING = "HELPDESK_STREAM_REPLICAS"
RAFT_SIZES = (1, 3, 5)
"""Nodes of a cluster, or copies of a stream: JetStream's RAFT groups need a majority alive, so 2 nodes
survive no loss (as 1) and 4 only one (as 3); 5 is JetStream's most replicas."""


def _raft_size(env: Mapping[str, str], name: str, what: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in RAFT_SIZES:
        raise ConfigurationError(
            f"{name}={raw!r}: {what} must be 1, 3 or 5 (JetStream needs a majority alive: 2 survive no"
            " loss, and 4 only one, as 3 do)"
        )
    return int(raw)


def _log_level(env: Mapping[str, str], name: str, default: int) -> int:
    value = (env.get(name) or "").strip().upper()
    if not value:
        return default
    if value not in LOG_LEVELS:
        raise ConfigurationError(f"{name}={value!r} is no log level: {', '.join(LOG_LEVELS)}")
    return logging.getLevelNamesMapping()[value]


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


MODES = ("development", "production")


def _mode(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in MODES:
        raise ConfigurationError(f"{name}={value!r} is no mode: development or production")
    return value


def _report_boundary(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in REPORT_BOUNDARIES:
        raise ConfigurationError(f"{name}={value!r} is no period boundary: calendar or day21")
    return value


def _time_zone(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(f"{name}={value!r} is not a time zone (e.g. Asia/Shanghai)") from error
    return value


TEMPORAL_ACCESS_PREFIXES = (  # temporalio.envconfig reads these (TEMPORAL_TLS_CA_PATH, …): names or prefixes
    "TEMPORAL_TLS",
    "TEMPORAL_API_KEY",
    "TEMPORAL_GRPC_META_",
    "TEMPORAL_CONFIG_FILE",
    "TEMPORAL_PROFILE",
)


def _temporal_access(env: Mapping[str, str]) -> TemporalAccess:
    """TLS and credentials for Temporal from Temporal's own settings (see :class:`TemporalAccess`).

    The default profile file (~/.config/temporalio/temporal.toml) is read only when TEMPORAL_CONFIG_FILE
    names it: a developer's CLI profile must not turn `make run` towards another server. Set without
    TEMPORAL_ADDRESS, they would be offered to the embedded dev server, which speaks neither: refused.
    """
    named = sorted(key for key in env if env[key] and key.startswith(TEMPORAL_ACCESS_PREFIXES))
    if not named:
        return TemporalAccess()
    if not env.get("TEMPORAL_ADDRESS"):
        raise ConfigurationError(
            f"{', '.join(named)} set without TEMPORAL_ADDRESS: the embedded Temporal is a development"
            " server without TLS or API keys; set TEMPORAL_ADDRESS to the Temporal they are for"
        )
    from temporalio.envconfig import ClientConfigProfile

    try:
        profile = ClientConfigProfile.load(
            env.get("TEMPORAL_PROFILE") or None,
            disable_file=not env.get("TEMPORAL_CONFIG_FILE"),
            override_env_vars=dict(env),
        )
        options = profile.to_client_connect_config()
    except (OSError, RuntimeError, ValueError) as error:
        raise ConfigurationError(f"Temporal access settings ({', '.join(named)}): {error}") from error
    return TemporalAccess(
        tls=options.get("tls", False),
        api_key=options.get("api_key"),
        rpc_metadata=dict(options.get("rpc_metadata") or {}),
    )


SAMPLING_SECRET_SETTING = "HELPDESK_QUALITY_SAMPLING_SECRET"
PAGE_TOKEN_KEY_SETTING = "HELPDESK_PAGE_TOKEN_KEY"
MIN_PAGE_TOKEN_KEY_CHARS = 16
MIN_SAMPLING_SECRET_BYTES = 16


def parse_sampling_secret(encoded: str, *, source: str = SAMPLING_SECRET_SETTING) -> bytes:
    """The sampling secret as configured or kept in a key file: base64 (URL-safe or standard) of at
    least 16 bytes; `helpdesk up` makes 32 random ones."""
    text = encoded.strip()
    try:
        secret = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_").encode())
    except ValueError as exc:
        raise ConfigurationError(f"{source} is not base64") from exc
    if len(secret) < MIN_SAMPLING_SECRET_BYTES:
        raise ConfigurationError(
            f"{source} must be at least {MIN_SAMPLING_SECRET_BYTES} bytes, got {len(secret)}"
        )
    return secret


def _page_token_key(env: Mapping[str, str]) -> bytes | None:
    text = (env.get(PAGE_TOKEN_KEY_SETTING) or "").strip()
    if not text:
        return None
    if len(text) < MIN_PAGE_TOKEN_KEY_CHARS:
        raise ConfigurationError(
            f"{PAGE_TOKEN_KEY_SETTING} must be at least {MIN_PAGE_TOKEN_KEY_CHARS} characters"
        )
    return text.encode()


_ORIGIN = re.compile(r"https?://[^/\s]+")


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated origins, each scheme://host[:port] as a browser sends it in ``Origin``."""
    origins = tuple(o.strip().rstrip("/") for o in (env.get(name) or "").split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigurationError(
                f"{name}: {origin!r} is no origin: scheme://host[:port], e.g. https://temporal-ui.example.com"
            )
    return origins


def _payload_keys(env: Mapping[str, str]) -> KeyRing | None:
    """HELPDESK_PAYLOAD_KEYS; a HELPDESK_PAYLOAD_KEY set beside it must be one of its keys, or the two
    settings would disagree about what the desk's histories are encrypted with."""
    if not env.get("HELPDESK_PAYLOAD_KEYS"):
        return None
    ring = parse_ring(env["HELPDESK_PAYLOAD_KEYS"])
    if env.get("HELPDESK_PAYLOAD_KEY") and parse_key(env["HELPDESK_PAYLOAD_KEY"]) not in ring.keys:
        raise ConfigurationError("HELPDESK_PAYLOAD_KEY is not in HELPDESK_PAYLOAD_KEYS: set one of them")
    return ring


SECRET_SETTINGS = (
    "DATABASE_URL",
    "NATS_URL",
    "TEMPORAL_API_KEY",
    "HELPDESK_PAYLOAD_KEYS",
    "HELPDESK_PAYLOAD_KEY",
    SAMPLING_SECRET_SETTING,
    PAGE_TOKEN_KEY_SETTING,
)
"""The settings that carry a secret; each may be given instead as ``<NAME>_FILE``, a file holding it."""


def secret_file_setting(name: str) -> str:
    return f"{name}_FILE"


def read_secret_files(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` with each ``<NAME>`` of :data:`SECRET_SETTINGS` given as ``<NAME>_FILE`` read from that
    file, without its trailing newline: how a secret mounted as a file (Kubernetes, Docker, systemd
    credentials) reaches the desk without passing through the environment. The value is never shown.
    ``env`` is only asked for names, never copied whole, so what the desk reads stays visible to the
    deployment files' test (tests/unit/test_deploy_files.py)."""
    from_files: dict[str, str] = {}
    for name in SECRET_SETTINGS:
        file_setting = secret_file_setting(name)
        path = env.get(file_setting) or ""
        if not path:
            continue
        if env.get(name):
            raise ConfigurationError(f"{name} and {file_setting} are both set: set one of them")
        try:
            text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ConfigurationError(f"{file_setting}={path}: cannot be read ({reason or error})") from None
        if not text.strip():
            raise ConfigurationError(f"{file_setting}={path} is empty")
        from_files[name] = text
    return ChainMap(from_files, dict(env)) if from_files else env


PLAINTEXT_REASON_SETTING = "HELPDESK_GRPC_PLAINTEXT_REASON"


def _plaintext_reason(env: Mapping[str, str]) -> str | None:
    reason = (env.get(PLAINTEXT_REASON_SETTING) or "").strip() or None
    if reason is not None and env.get(SERVER_CERT_SETTING):
        raise ConfigurationError(
            f"{PLAINTEXT_REASON_SETTING} says the services serve plaintext, and {SERVER_CERT_SETTING} that"
            " they serve TLS: unset one"
        )
    return reason


def _database_url(env: Mapping[str, str]) -> str | None:
    url = env.get("DATABASE_URL") or None
    if url is not None:
        check_database_url("DATABASE_URL", url)
    return url


def _replica_ports(
    env: Mapping[str, str], firsts: Mapping[str, int], replicas: int, setting: Callable[[str], str]
) -> dict[str, int]:
    """The first replicas' ports and, for each process in ``firsts``, its later replicas': their own
    setting, else the first one's + (k-1) x REPLICA_PORT_STEP (0, no port, stays 0)."""
    ports = dict(firsts)
    for process, first in firsts.items():
        for k, name in enumerate(replica_names(process, replicas)[1:], start=2):
            ports[name] = _port(env, setting(name), first + (k - 1) * REPLICA_PORT_STEP if first else 0)
    return ports


def _targets(env: Mapping[str, str]) -> dict[str, str]:
    targets = {}
    for service in SERVICES:
        if value := (env.get(target_setting(service)) or "").strip():
            if any(c.isspace() for c in value):
                raise ConfigurationError(f"{target_setting(service)}={value!r}: a gRPC target has no spaces")
            targets[service] = value
    return targets


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read the environment once, secrets given as files included. Empty values count as unset."""
    env = read_secret_files(env)
    replicas = _whole(env, REPLICAS_SETTING, Settings.replicas, low=1, high=MAX_REPLICAS)
    firsts = {name: _port(env, port_setting(name), default) for name, default in DEFAULT_GRPC_PORTS.items()}
    ports = _replica_ports(env, firsts, replicas, port_setting)
    http_port = _port(env, port_setting(HTTP_GATEWAY), DEFAULT_HTTP_PORT)
    http_ports = _replica_ports(env, {HTTP_GATEWAY: http_port}, replicas, port_setting)
    del http_ports[HTTP_GATEWAY]
    metrics = {
        name: _port(env, metrics_port_setting(name), port) for name, port in DEFAULT_METRICS_PORTS.items()
    }
    sdk_metrics = {
        name: _port(env, temporal_metrics_port_setting(name), port)
        for name, port in DEFAULT_TEMPORAL_METRICS_PORTS.items()
    }
    replicated = (*SERVICES, HTTP_GATEWAY)
    metrics |= _replica_ports(
        env, {name: metrics[name] for name in replicated}, replicas, metrics_port_setting
    )
    sdk_metrics |= _replica_ports(
        env, {name: sdk_metrics[name] for name in SERVICES}, replicas, temporal_metrics_port_setting
    )
    embedded = EmbeddedPorts(
        temporal=_port(env, embedded_port_setting("temporal"), EmbeddedPorts.temporal),
        temporal_ui=_port(env, embedded_port_setting("temporal_ui"), EmbeddedPorts.temporal_ui),
        nats=_port(env, embedded_port_setting("nats"), EmbeddedPorts.nats),
        postgres=_port(env, embedded_port_setting("postgres"), EmbeddedPorts.postgres),
        temporal_metrics=_port(
            env, embedded_port_setting("temporal_metrics"), EmbeddedPorts.temporal_metrics
        ),
        nats_monitor=_port(env, embedded_port_setting("nats_monitor"), EmbeddedPorts.nats_monitor),
        nats_cluster=_port(env, embedded_port_setting("nats_cluster"), EmbeddedPorts.nats_cluster),
    )
    nats_nodes = _raft_size(env, NATS_CLUSTER_SETTING, "the embedded NATS's nodes (up --nats-cluster)")
    return Settings(
        data_dir=Path(env.get("HELPDESK_DATA_DIR") or ".data").resolve(),
        host=env.get("HELPDESK_HOST") or "127.0.0.1",
        grpc_ports=ports,
        replicas=replicas,
        http_replica_ports=http_ports,
        targets=_targets(env),
        temporal_address=env.get("TEMPORAL_ADDRESS") or None,
        temporal_namespace=env.get("TEMPORAL_NAMESPACE") or "default",
        nats_url=env.get("NATS_URL") or None,
        database_url=_database_url(env),
        otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        payload_key=parse_key(env["HELPDESK_PAYLOAD_KEY"]) if env.get("HELPDESK_PAYLOAD_KEY") else None,
        payload_keys=_payload_keys(env),
        embedded=embedded,
        line_tester=env.get("HELPDESK_LINE_TESTER") or "simulator",
        http_port=http_port,
        channel_category=env.get("HELPDESK_CHANNEL_CATEGORY") or DEFAULT_CHANNEL_CATEGORY,
        pending_lease_seconds=_seconds(env, "HELPDESK_PENDING_LEASE_SECONDS", Settings.pending_lease_seconds),
        max_backlog=_whole(env, "HELPDESK_MAX_BACKLOG", Settings.max_backlog, low=1, high=10_000_000),
        worker_nice=_whole(env, "HELPDESK_WORKER_NICE", Settings.worker_nice, low=0, high=19),
        workflow_workers=_whole(
            env,
            "HELPDESK_WORKFLOW_WORKERS",
            max(Settings.workflow_workers, replicas),
            low=1,
            high=MAX_WORKFLOW_WORKERS,
        ),
        temporal_nice=_whole(env, "HELPDESK_TEMPORAL_NICE", Settings.temporal_nice, low=0, high=19),
        logs=_file_limits(env, ("HELPDESK_LOG_MAX_BYTES", "HELPDESK_LOG_FILES_KEPT"), DEFAULT_LOG_LIMITS),
        spans=_file_limits(
            env, ("HELPDESK_SPAN_FILE_MAX_BYTES", "HELPDESK_SPAN_FILES_KEPT"), DEFAULT_SPAN_LIMITS
        ),
        log_repeat_seconds=_seconds(env, "HELPDESK_LOG_REPEAT_SECONDS", Settings.log_repeat_seconds),
        log_level=_log_level(env, "HELPDESK_LOG_LEVEL", Settings.log_level),
        log_format=_choice(env, "HELPDESK_LOG_FORMAT", Settings.log_format, LOG_FORMATS),
        max_cached_workflows=_whole(
            env, "HELPDESK_MAX_CACHED_WORKFLOWS", Settings.max_cached_workflows, low=0, high=1_000_000
        ),
        time_zone=_time_zone(env, "HELPDESK_TIME_ZONE", Settings.time_zone),
        quality_sampling_secret=(
            parse_sampling_secret(env[SAMPLING_SECRET_SETTING]) if env.get(SAMPLING_SECRET_SETTING) else None
        ),
        report_boundary=_report_boundary(env, "HELPDESK_REPORT_BOUNDARY", Settings.report_boundary),
        dev_token_hours=_hours(env, "HELPDESK_DEV_TOKEN_HOURS", Settings.dev_token_hours),
        mode=_mode(env, "HELPDESK_MODE", Settings.mode),
        temporal_access=_temporal_access(env),
        page_token_key=_page_token_key(env),
        metrics_ports=metrics,
        temporal_metrics_ports=sdk_metrics,
        codec_origins=_origins(env, CODEC_ORIGINS_SETTING),
        grpc_server_tls=server_tls(env),
        grpc_plaintext_reason=_plaintext_reason(env),
        grpc_caller_tls=caller_tls(env),
        nats_access=nats_access(env),
        nats_cluster=nats_nodes or 1,
        stream_replicas=_raft_size(env, STREAM_REPLICAS_SETTING, "the stream's replicas"),
    )
