"""The whole desk for tests: `helpdesk up` as a real subprocess, in a temporary directory, on free ports.

Tests reach it the way any tool does, through its endpoints.json: gRPC channels, development tokens,
and the pids of its processes (to kill the worker and watch the desk carry on).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from desk.config import (
    HTTP_GATEWAY,
    NATS_CLUSTER_SETTING,
    REPLICAS_SETTING,
    SERVICES,
    Settings,
    embedded_port_setting,
    metrics_port_setting,
    parse_sampling_secret,
    port_setting,
    replica_names,
    temporal_metrics_port_setting,
    worker_names,
)

EMBEDDED = ("temporal", "temporal_ui", "nats", "postgres", "temporal_metrics", "nats_monitor")
NATS_NODE_SERVERS = ("nats", "nats_monitor", "nats_cluster")  # a cluster's node k: each + k - 1
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Settings that would point the desk at servers outside the test, or its spans away from the span files;
# and the sampling secret: a test desk keeps its own in its data dir, as `helpdesk up` does, where the
# tests read it (RunningDesk.quality_sampling_secret).
_NOT_INHERITED = (
    "TEMPORAL_ADDRESS",
    "NATS_URL",
    "DATABASE_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "HELPDESK_QUALITY_SAMPLING_SECRET",
    "HELPDESK_PAYLOAD_KEY",  # each test desk keeps its own payload keys in its data dir
    "HELPDESK_PAYLOAD_KEYS",
    "HELPDESK_PAGE_TOKEN_KEY",  # each test desk keeps its own in its data dir's secrets
)
_OTHER_SERVERS = ("TEMPORAL_", "HELPDESK_TLS", "NATS_TLS_", "NATS_CREDS")


def free_ports(count: int, *, runs: int = 0, run_length: int = 1) -> list[int]:
    """Distinct ports free right now, from a block of consecutive ones: all are held at once while
    checked, so none is handed out twice.

    The block is drawn below the kernel's range for outgoing connections' ports: a desk's processes
    open hundreds of connections while it starts, and one of them could take an ephemeral port before
    the server it was chosen for binds it. One block per desk keeps two desks starting at once apart.
    With ``runs``: first the lowest port of each of ``runs`` runs of ``run_length`` consecutive ports
    (an embedded NATS cluster's node k listens on a setting's port + k - 1), then ``count`` more.
    """
    size = runs * run_length + count
    for _ in range(100):
        base = random.randrange(_LISTENING_PORTS.start, _LISTENING_PORTS.stop - size)
        held: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                held.append(_bound(port))
        except OSError:  # one is taken: another block
            continue
        finally:
            for sock in held:
                sock.close()
        singles = base + runs * run_length
        return [base + run * run_length for run in range(runs)] + list(range(singles, base + size))
    raise RuntimeError(f"no {size} consecutive free ports found in {_LISTENING_PORTS}")


def _ephemeral_start() -> int:
    """The lowest port the kernel hands out to outgoing connections (Linux's; 32768 if unknown)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


_LISTENING_PORTS = range(10_000, _ephemeral_start())


def _bound(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def desk_environment(data_dir: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.removesuffix("_FILE") not in _NOT_INHERITED
        and not key.startswith(_OTHER_SERVERS)  # TLS, API keys: for another server
    }
    env.update(settings or {})
    replicas = int(env.get(REPLICAS_SETTING) or Settings.replicas)
    workers = worker_names(
        int(env.get("HELPDESK_WORKFLOW_WORKERS") or max(Settings.workflow_workers, replicas))
    )
    services = [name for service in SERVICES for name in replica_names(service, replicas)]
    listening = [*services, *replica_names(HTTP_GATEWAY, replicas)]
    metered = [metrics_port_setting(name) for name in (*listening, *workers)]
    metered += [temporal_metrics_port_setting(name) for name in (*services, *workers)]
    # An embedded NATS cluster's node k listens on each of its servers' ports + k - 1: runs of them.
    nodes = int(env.get(NATS_CLUSTER_SETTING) or Settings.nats_cluster)
    clustered = NATS_NODE_SERVERS if nodes > 1 else ()
    single = [name for name in EMBEDDED if name not in clustered]
    count = len(listening) + len(single) + len(metered)
    ports = iter(free_ports(count, runs=len(clustered), run_length=nodes))
    env["HELPDESK_DATA_DIR"] = str(data_dir)
    env.update({embedded_port_setting(name): str(next(ports)) for name in clustered})
    env.update({port_setting(name): str(next(ports)) for name in listening})
    env.update({embedded_port_setting(name): str(next(ports)) for name in single})
    env.update({setting: str(next(ports)) for setting in metered})
    return env


@dataclass
class RunningDesk:
    endpoints: dict[str, Any]
    data_dir: Path
    _channels: dict[str, grpc.aio.Channel] = field(default_factory=dict, repr=False)

    def token(self, role: str) -> str:
        """The development token of a role, e.g. "agent" or "ops_engineer:network"."""
        return str(self.endpoints["tokens"][role])

    def channel(self, service: str) -> grpc.aio.Channel:
        """One shared channel per service, closed when the session ends."""
        if service not in self._channels:
            # The service's own answers, as it gives them: no retries, no balancing (callers' channels,
            # desk/grpc_channels.py, retry an UNAVAILABLE that a test asserts). Plaintext on 127.0.0.1.
            self._channels[service] = grpc.aio.insecure_channel(self.endpoints["services"][service])
        return self._channels[service]

    def pid(self, process: str) -> int:
        """A desk process's pid now ("worker", "intake", …): re-read, as the desk restarts one that dies."""
        current = json.loads((self.data_dir / "endpoints.json").read_text())
        return int(current["processes"][process])

    async def restarted(self, process: str, old_pid: int, *, within: float = 15.0) -> int:
        """Wait until the desk has replaced a process that died; returns the new pid."""
        for _ in range(int(within / 0.05)):
            if (pid := self.pid(process)) != old_pid:
                return pid
            await asyncio.sleep(0.05)
        raise AssertionError(f"{process} {old_pid} was not replaced within {within:.0f} s")

    def quality_sampling_secret(self) -> bytes:
        """The secret the desk draws its daily quality samples with (its data dir's key file)."""
        return parse_sampling_secret((self.data_dir / "quality-sampling.key").read_text())

    def worker_pid(self) -> int:
        return self.pid("worker")

    async def worker_restarted(self, old_pid: int, *, within: float = 15.0) -> int:
        return await self.restarted("worker", old_pid, within=within)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


async def helpdesk(*argv: str, env: Mapping[str, str], within: float = 60.0) -> tuple[int, str]:
    """Run the command line; its exit status and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "cli", *argv),
        env=dict(env),
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()  # it did not stop: it is serving on a port someone else holds
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


class DeskProcess:
    """`helpdesk up` started by the test session, its output kept in a file to show on failure."""

    def __init__(
        self, data_dir: Path, settings: Mapping[str, str] | None = None, *, services: bool = True
    ) -> None:
        self.data_dir = data_dir
        self.settings = dict(settings or {})  # HELPDESK_… variables for this desk only
        self.output_path = data_dir / "up.out"
        self._up = ["up"] if services else ["up", "--no-services"]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.output_path.open("wb") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "cli", *self._up],
                env=desk_environment(self.data_dir, self.settings),
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest reaches the desk only through teardown
            )

    async def wait_until_up(self, *, within: float = 120.0) -> dict[str, Any]:
        endpoints_file = self.data_dir / "endpoints.json"
        for _ in range(int(within / 0.2)):
            if endpoints_file.exists():  # written by rename, so never half a file
                endpoints: dict[str, Any] = json.loads(endpoints_file.read_text())
                return endpoints
            if self._running.poll() is not None:
                raise RuntimeError(f"helpdesk up exited with {self._running.returncode}\n{self.output()}")
            await asyncio.sleep(0.2)
        raise RuntimeError(f"helpdesk up was not ready after {within:.0f} s\n{self.output()}")

    async def stop(self, *, within: float = 90.0) -> int | None:
        """SIGINT, as a Ctrl-C would, then wait for the orderly shutdown. None if it did not finish."""
        self._running.send_signal(signal.SIGINT)
        for _ in range(int(within / 0.1)):
            if self._running.poll() is not None:
                return self._running.returncode
            await asyncio.sleep(0.1)
        return None

    def kill(self) -> None:
        """Last resort: the desk and everything of it still running."""
        self._running.kill()
        self._running.wait()
        for pid in leftovers(self.data_dir):
            os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        parts = [self.output_path.read_text(errors="replace")]
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- last lines of {log}\n" + "\n".join(tail))
        return "\n".join(parts)

    @property
    def _running(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "the desk was not started"
        return self._process


@asynccontextmanager
async def running_desk(
    data_dir: Path, settings: Mapping[str, str] | None = None, *, services: bool = True
) -> AsyncIterator[RunningDesk]:
    """`helpdesk up` in `data_dir` for the block; then SIGINT, and it must stop cleanly, leaving nothing.

    Without ``services``: `helpdesk up --no-services`, the backing servers, migrations and tokens only.
    """
    process = DeskProcess(data_dir, settings, services=services)
    process.start()
    try:
        running = RunningDesk(await process.wait_until_up(), process.data_dir)
    except BaseException:
        process.kill()
        raise
    try:
        yield running
    finally:
        await running.close()
        status = await process.stop()
    left = leftovers(process.data_dir)
    if status is None or left:
        process.kill()  # so that they do not outlive the session
    assert status == 0, f"helpdesk up did not stop cleanly ({status})\n{process.output()}"
    assert not left, f"processes left behind by helpdesk up: {left}"


def leftovers(data_dir: Path) -> list[int]:
    """Pids of processes of this desk still running: their command line or environment names its data dir.

    Every child of `helpdesk up` inherits HELPDESK_DATA_DIR, and the servers name the directory on their
    command lines, so this finds them however they were started. Linux only (it reads /proc).
    """
    inside, exactly = f"{data_dir}/".encode(), f"{data_dir}\0".encode()  # not a sibling like desk01
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            zombie = (entry / "stat").read_text().rpartition(")")[2].split()[0] == "Z"
        except OSError:
            continue  # gone meanwhile
        if (inside in seen or exactly in seen) and not zombie:
            found.append(int(entry.name))
    return found
