"""The embedded NATS's nodes: one server, or a cluster of 3 or 5 on loopback (HELPDESK_NATS_CLUSTER).

Node ``k`` (1 …) listens on the configured ports plus ``k - 1``: clients on HELPDESK_EMBEDDED_NATS_PORT
(14222, 14223, …), monitoring on HELPDESK_EMBEDDED_NATS_MONITOR_PORT (18222, …), and, in a cluster, the
routes between the nodes on HELPDESK_EMBEDDED_NATS_CLUSTER_PORT (16222, …). Node 1 is the single
server of old: same name, same ports, pid file ``run/nats.json``. Each node runs from its own generated
file, ``nats/nats-server.conf`` (a single server) or ``nats/nats-server-<k>.conf``, which includes the
one users file (deploy/nats_users.py); JetStream flushes every write to disk (``sync_interval:
always``, DESIGN section 4). A single server keeps JetStream in ``nats/jetstream``, node ``k`` of a
cluster in ``nats/node-<k>/jetstream``.

A data directory keeps the topology it was started with: a single server's stream is not one a
cluster knows (its metadata lives in the cluster's RAFT log, which the single server never had), so
starting a cluster on it, or one server on a cluster's, or a cluster of another size, would leave the
stream behind. :func:`check_topology` refuses that before anything starts (docs/deployment.md, NATS
cluster, says how to move a stream).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desk.config import (
    NATS_CLUSTER_SETTING,
    RAFT_SIZES,
    STREAM_REPLICAS_SETTING,
    Settings,
    embedded_port_setting,
)
from desk.errors import ConfigurationError

USERS_FILE = "users.conf"  # beside the configuration files (deploy/nats_users.py writes it)
CLUSTER_NAME = "helpdesk"
SINGLE_SERVER_NAME = "helpdesk-dev"  # JetStream keys its state by server name: kept stable
NODE_NAMES = tuple(f"nats-{number}" if number > 1 else "nats" for number in range(1, max(RAFT_SIZES) + 1))
"""Each node's process name (its log, its pid file): "nats", "nats-2", … ."""


@dataclass(frozen=True)
class NatsNode:
    number: int  # 1 …
    nodes: int  # in the cluster (1: a single server)
    host: str
    port: int  # clients'
    monitor_port: int  # 0: no monitoring endpoint
    cluster_port: int  # the routes' (unused by a single server)

    @property
    def name(self) -> str:
        return NODE_NAMES[self.number - 1]

    @property
    def clustered(self) -> bool:
        return self.nodes > 1

    @property
    def server_name(self) -> str:
        return f"{SINGLE_SERVER_NAME}-{self.number}" if self.clustered else SINGLE_SERVER_NAME

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def store_dir(self, nats_dir: Path) -> Path:
        """Where JetStream keeps this node's streams (its ``jetstream`` directory, inside)."""
        return nats_dir / f"node-{self.number}" if self.clustered else nats_dir

    def config_path(self, nats_dir: Path) -> Path:
        return nats_dir / (f"nats-server-{self.number}.conf" if self.clustered else "nats-server.conf")


def nats_nodes(settings: Settings, host: str) -> list[NatsNode]:
    """The nodes `helpdesk up` runs for these settings, on ``host``."""
    ports, count = settings.embedded, settings.nats_cluster
    return [
        NatsNode(
            number=number,
            nodes=count,
            host=host,
            port=ports.nats + number - 1,
            monitor_port=ports.nats_monitor + number - 1 if ports.nats_monitor else 0,
            cluster_port=ports.nats_cluster + number - 1,
        )
        for number in range(1, count + 1)
    ]


def node_config(node: NatsNode, cluster: list[NatsNode], nats_dir: Path) -> str:
    """The node's configuration file: its ports and store, the routes to every node, the users."""
    # json.dumps quotes strings the way the NATS configuration format expects.
    lines = [
        "# Written by `helpdesk up` at every start; edits are overwritten.",
        f"server_name: {json.dumps(node.server_name)}",
        f"listen: {json.dumps(node.address)}",
        *([f"http: {json.dumps(f'{node.host}:{node.monitor_port}')}"] if node.monitor_port else []),
        "jetstream {",
        f"  store_dir: {json.dumps(str(node.store_dir(nats_dir)))}",
        "  sync_interval: always",
        "}",
    ]
    if node.clustered:
        routes = [f"nats://{other.host}:{other.cluster_port}" for other in cluster]
        lines += [
            "cluster {",
            f"  name: {json.dumps(CLUSTER_NAME)}",
            f"  listen: {json.dumps(f'{node.host}:{node.cluster_port}')}",
            f"  routes: {json.dumps(routes)}",  # itself too: a server skips the route to itself
            "}",
        ]
    lines += [f"include {json.dumps(USERS_FILE)}", ""]  # relative to this file; rewritten with teams
    return "\n".join(lines)


def check_embedded(settings: Settings) -> None:
    """Refuse, before anything starts, a NATS `helpdesk up` could not run as the settings ask: a
    cluster beside NATS_URL, more replicas than nodes, or another topology than the data directory's."""
    embedded = settings.nats_url is None
    if not embedded and settings.nats_cluster > 1:
        raise ConfigurationError(
            f"{NATS_CLUSTER_SETTING}={settings.nats_cluster} with NATS_URL set: the cluster is the embedded"
            f" NATS's; unset NATS_URL, or {NATS_CLUSTER_SETTING} and give NATS_URL every server of yours"
        )
    copies = settings.jetstream_replicas
    if embedded and copies > settings.nats_cluster:
        raise ConfigurationError(
            f"{STREAM_REPLICAS_SETTING}={copies} on an embedded NATS of"
            f" {settings.nats_cluster} node(s): JetStream keeps a copy per node; set"
            f" {NATS_CLUSTER_SETTING} to {copies} or more, or {STREAM_REPLICAS_SETTING} lower"
        )
    if embedded:
        check_topology(settings.data_dir / "nats", settings.nats_cluster)


def check_topology(nats_dir: Path, nodes: int) -> None:
    """Refuse to start ``nodes`` nodes on a data directory whose JetStream another topology wrote."""
    found = stored_topology(nats_dir)
    if found is None or found == nodes:
        return
    had = "a single NATS server" if found == 1 else f"a NATS cluster of {found} nodes"
    wanted = "a single server" if nodes == 1 else f"a cluster of {nodes}"
    raise ConfigurationError(
        f"{NATS_CLUSTER_SETTING}={nodes}: {nats_dir} holds the JetStream of {had}; {wanted} would not"
        f" find its stream (the desk's events). Set {NATS_CLUSTER_SETTING}={found} (`helpdesk up"
        f" --nats-cluster {found}`), or move the stream first (docs/deployment.md, NATS cluster)."
        " Nothing was started."
    )


def stored_topology(nats_dir: Path) -> int | None:
    """The nodes whose JetStream this directory holds: 1, a cluster's count, or None (none yet)."""
    if (nats_dir / "jetstream").is_dir():
        return 1
    numbered = [path for path in nats_dir.glob("node-*") if (path / "jetstream").is_dir()]
    return len(numbered) or None


def listening(node: NatsNode) -> list[tuple[str, str, int]]:
    """(owner, setting, port) of each port the node listens on: node k's is the setting's plus k - 1."""
    wanted = [("nats", node.port), ("nats_monitor", node.monitor_port)]
    wanted += [("nats_cluster", node.cluster_port)] if node.clustered else []
    of_node = f" (node {node.number})" if node.clustered else ""
    plus = f" (node {node.number} listens on it plus {node.number - 1})" if node.number > 1 else ""
    return [(server + of_node, embedded_port_setting(server) + plus, port) for server, port in wanted if port]
