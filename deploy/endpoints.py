"""`.data/endpoints.json`: how tools and tests find the running desk (DESIGN section 7).

It exists only while the desk is ready: written once everything answers, rewritten when a restarted
process gets a new pid, removed first on shutdown. Writes go through a temporary file and a rename so
a reader never sees half a file.

Beside it, ``prometheus/<job>.json``: the metrics endpoints of every process the desk runs, replicas
included, as Prometheus's file-based service discovery reads them (deploy/prometheus/prometheus.yml's
``file_sd_configs``), one file per scrape job. They are left in place when the desk stops, so that
Prometheus sees the stopped processes down rather than forgets them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desk.config import Settings, without_password
from desk.private_files import FILE_MODE, private_directory

SCRAPE_TARGETS_DIR = "prometheus"
"""Under the data directory: the scrape targets files, ``<job>.json``."""


@dataclass
class Endpoints:
    temporal: str
    temporal_ui: str | None
    nats: str
    postgres: str
    tokens: dict[str, str]
    services: dict[str, str] = field(default_factory=dict)
    """One address per service (its first replica's): what a tool that opens one channel uses."""
    replicas: dict[str, list[str]] = field(default_factory=dict)
    """Every replica's address, by service ("http": the HTTP gateway's replicas' URLs)."""
    http: dict[str, str] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Where each generated secret is kept (deploy/secrets.py), by name: paths, never the values."""
    metrics: dict[str, str] = field(default_factory=dict)
    """Each desk process's Prometheus endpoint (desk/metrics.py), by process."""
    temporal_sdk_metrics: dict[str, str] = field(default_factory=dict)
    """The Temporal SDK's runtime metrics of each process with a Temporal client, by process."""
    temporal_metrics: str | None = None  # the embedded Temporal server's Prometheus endpoint
    nats_monitoring: str | None = None  # the embedded NATS's monitoring endpoint (/varz, /jsz, …)
    nats_servers: list[str] = field(default_factory=list)
    """Every NATS server's URL, ``nats`` (the first) among them: a cluster's nodes, for a client that
    should carry on when one dies (each with the desk's password, as ``nats``)."""

    def add_metrics(self, settings: Settings, processes: Iterable[str]) -> None:
        """The metrics URLs of these processes, those served (a port of 0 serves none)."""
        for name in processes:
            if url := settings.metrics_url(name):
                self.metrics[name] = url
            if sdk := settings.temporal_metrics_url(name):
                self.temporal_sdk_metrics[name] = sdk

    def document(self) -> dict[str, Any]:
        return {
            "services": self.services,
            "replicas": self.replicas,
            "http": self.http,
            "temporal": self.temporal,
            "temporal_ui": self.temporal_ui,
            "nats": self.nats,
            "nats_servers": self.nats_servers or [self.nats],
            "postgres": self.postgres,
            "tokens": self.tokens,
            "processes": self.processes,
            "secrets": self.secrets,
            "metrics": self.metrics,
            "temporal_sdk_metrics": self.temporal_sdk_metrics,
            "temporal_metrics": self.temporal_metrics,
            "nats_monitoring": self.nats_monitoring,
        }

    def scrape_targets(self) -> dict[str, list[dict[str, Any]]]:
        """Prometheus's target groups by scrape job (file_sd format): one group a process, labelled
        with the ``process`` the alerts and the runbook name it by (intake, intake-2, worker-2 …)."""
        temporal = {"temporal": self.temporal_metrics} if self.temporal_metrics else {}
        return {
            "helpdesk": _target_groups(self.metrics),
            "helpdesk-temporal-sdk": _target_groups(self.temporal_sdk_metrics),
            "temporal": _target_groups(temporal),
        }

    def table(self) -> str:
        rows = [(name, f"grpc://{address}") for name, address in self.services.items()]
        rows += [
            (f"{name} replicas", ", ".join(addresses))
            for name, addresses in self.replicas.items()
            if len(addresses) > 1 and name != "knowledge"
        ]
        rows += [(f"{name} (http)", url) for name, url in self.http.items()]
        rows += [("temporal", self.temporal), ("temporal ui", self.temporal_ui or "(not embedded)")]
        servers = self.nats_servers or [self.nats]
        rows += [("nats", ", ".join(without_password(server) for server in servers))]
        rows += [("postgres", without_password(self.postgres))]
        rows += [(f"{name} metrics", url) for name, url in self.metrics.items()]
        rows += [(f"{name} sdk metrics", url) for name, url in self.temporal_sdk_metrics.items()]
        rows += [("temporal metrics", self.temporal_metrics)] if self.temporal_metrics else []
        rows += [("nats monitoring", self.nats_monitoring)] if self.nats_monitoring else []
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"  {name.ljust(width)}  {address}" for name, address in rows)


class EndpointsFile:
    def __init__(self, path: Path, endpoints: Endpoints) -> None:
        self.path = path
        self.endpoints = endpoints
        self._published = False

    def publish(self) -> None:
        self._published = True
        self._write()
        targets = private_directory(self.path.parent / SCRAPE_TARGETS_DIR)  # as all the data directory
        for job, groups in self.endpoints.scrape_targets().items():
            _write_json(targets / f"{job}.json", groups, mode=FILE_MODE)

    def process_started(self, name: str, pid: int) -> None:
        self.endpoints.processes[name] = pid
        if self._published:
            self._write()

    def withdraw(self) -> None:
        self._published = False
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        # Owner-only: the file holds bearer tokens, development ones but tokens all the same.
        _write_json(self.path, self.endpoints.document(), mode=FILE_MODE)


def _write_json(path: Path, document: object, *, mode: int) -> None:
    """Through a temporary file and a rename: a reader (a tool, Prometheus) never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, ensure_ascii=False)
        out.write("\n")
    os.replace(temporary, path)


def _target_groups(urls: dict[str, str]) -> list[dict[str, Any]]:
    groups = []
    for process, url in urls.items():
        parts = urlsplit(url)
        labels = {"process": process, "__metrics_path__": parts.path or "/metrics"}
        groups.append({"targets": [parts.netloc], "labels": labels})
    return groups
