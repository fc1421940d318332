"""No open back door in the embedded PostgreSQL (issue 16, item 4): a generated password (SCRAM) for
everyone, and each desk process a role of its own that reaches only its own schemas (DESIGN principle
3, enforced by the database). The services doing their work under these roles is the rest of the
suite: every integration test runs on a desk whose processes log in this way."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from deploy.postgres import (
    ADMIN_SECRET,
    OS_USER,
    PGDATA,
    EmbeddedPostgres,
    bin_dir,
    grant_access,
    role_secret,
)
from desk.config import HTTP_GATEWAY, SERVICES
from desk.database_roles import DESK_ROLES, SERVICE_SCHEMAS, role_name
from desk.db import MIGRATION_OWNERS
from tests.stack import RunningDesk, free_ports, helpdesk

REFUSED = (asyncpg.InsufficientPrivilegeError,)
LOGIN_REFUSED = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)


def url_as(desk: RunningDesk, user: str, password: str | None) -> str:
    address = urlsplit(desk.endpoints["postgres"]).netloc.rpartition("@")[2]
    login = user if password is None else f"{user}:{password}"
    return f"postgresql://{login}@{address}/helpdesk"


def role_password(desk: RunningDesk, role: str) -> str:
    """A role's password ("admin": the superuser's), read where endpoints.json says it is kept."""
    secret = ADMIN_SECRET if role == "admin" else role_secret(role)
    return Path(desk.endpoints["secrets"][secret]).read_text().strip()


@pytest.fixture
async def connect(desk: RunningDesk) -> AsyncIterator[dict[str, asyncpg.Connection]]:
    """One connection per desk role, each with its own password."""
    connections = {
        role: await asyncpg.connect(url_as(desk, role, role_password(desk, role))) for role in DESK_ROLES
    }
    try:
        yield connections
    finally:
        for conn in connections.values():
            await conn.close()


async def one_table_per_schema(desk: RunningDesk) -> dict[str, str]:
    admin = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        rows = await admin.fetch(
            "SELECT DISTINCT ON (schemaname) schemaname, tablename FROM pg_tables"
            " WHERE schemaname = ANY($1::text[]) ORDER BY schemaname, tablename",
            [*MIGRATION_OWNERS, "public"],
        )
    finally:
        await admin.close()
    return {row["schemaname"]: f"{row['schemaname']}.{row['tablename']}" for row in rows}


@pytest.mark.parametrize("user", ["postgres", *DESK_ROLES])
async def test_no_login_without_the_password(desk: RunningDesk, user: str) -> None:
    for password in (None, "", "wrong-password"):
        with pytest.raises(LOGIN_REFUSED):
            await asyncpg.connect(url_as(desk, user, password))


async def test_the_admin_password_is_scram_and_in_endpoints(desk: RunningDesk) -> None:
    url = desk.endpoints["postgres"]
    assert urlsplit(url).password == role_password(desk, "admin")
    admin = await asyncpg.connect(url)
    try:
        assert await admin.fetchval("SHOW password_encryption") == "scram-sha-256"
        stored = await admin.fetch("SELECT rolname, rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL")
        assert {row["rolname"] for row in stored} == {"postgres", *DESK_ROLES}
        assert all(row["rolpassword"].startswith("SCRAM-SHA-256$") for row in stored)
    finally:
        await admin.close()


async def test_each_service_reaches_its_own_schemas_and_no_other(
    desk: RunningDesk, connect: dict[str, asyncpg.Connection]
) -> None:
    tables = await one_table_per_schema(desk)
    assert set(tables) == {*MIGRATION_OWNERS, "public"}  # schema_migrations in public
    for service, schemas in SERVICE_SCHEMAS.items():
        conn = connect[role_name(service)]
        for schema, table in tables.items():
            if schema in schemas:
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
            elif schema != "desk":
                with pytest.raises(REFUSED):
                    await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
        assert await conn.fetchval("SELECT count(*) FROM desk.tokens") > 0  # every service authenticates
        with pytest.raises(REFUSED):
            await conn.execute("UPDATE desk.tokens SET revoked_at = now()")


async def test_intake_cannot_read_dispatch_quality_or_the_migrations(
    connect: dict[str, asyncpg.Connection],
) -> None:
    intake = connect["helpdesk_intake"]
    for query in (
        "SELECT * FROM dispatch.teams",
        "SELECT * FROM quality.items",
        "SELECT * FROM public.schema_migrations",
    ):
        with pytest.raises(REFUSED):
            await intake.fetch(query)
    assert await intake.fetchval("SELECT count(*) >= 0 FROM knowledge.entries")  # served by intake


@pytest.mark.parametrize("role", DESK_ROLES)
async def test_no_role_creates_anything(connect: dict[str, asyncpg.Connection], role: str) -> None:
    conn = connect[role]
    attempts = [
        *(f"CREATE TABLE {schema}.made_by_a_service (x int)" for schema in (*MIGRATION_OWNERS, "public")),
        "CREATE TEMPORARY TABLE made_by_a_service (x int)",
        "CREATE SCHEMA made_by_a_service",
        "CREATE FUNCTION public.made_by_a_service() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ]
    for statement in attempts:
        with pytest.raises(REFUSED):
            await conn.execute(statement)


async def test_the_worker_reaches_every_service_schema_but_the_migrations(
    desk: RunningDesk, connect: dict[str, asyncpg.Connection]
) -> None:
    worker = connect["helpdesk_worker"]
    tables = await one_table_per_schema(desk)
    for schema in (schema for schemas in SERVICE_SCHEMAS.values() for schema in schemas):
        await worker.fetch(f"SELECT * FROM {tables[schema]} LIMIT 1")
    with pytest.raises(REFUSED):
        await worker.fetch("SELECT * FROM public.schema_migrations")


async def test_a_table_the_admin_makes_later_is_its_schemas_roles_at_once(
    desk: RunningDesk, connect: dict[str, asyncpg.Connection]
) -> None:
    """As `helpdesk stats rebuild` swaps fresh tables in while the desk runs."""
    admin = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        await admin.execute("CREATE TABLE stats.made_later (n bigint GENERATED BY DEFAULT AS IDENTITY)")
        try:
            await connect["helpdesk_stats"].execute("INSERT INTO stats.made_later DEFAULT VALUES")
            with pytest.raises(REFUSED):
                await connect["helpdesk_dispatch"].fetch("SELECT * FROM stats.made_later")
        finally:
            await admin.execute("DROP TABLE stats.made_later")
    finally:
        await admin.close()


def test_each_process_logs_in_as_its_own_role(desk: RunningDesk) -> None:
    """Its DATABASE_URL names its role."""
    workers = [name for name in desk.endpoints["processes"] if name.startswith("worker")]
    assert workers
    for process in (*SERVICES, HTTP_GATEWAY, *workers):
        environ = Path(f"/proc/{desk.pid(process)}/environ").read_bytes().split(b"\0")
        urls = [entry.split(b"=", 1)[1].decode() for entry in environ if entry.startswith(b"DATABASE_URL=")]
        assert [urlsplit(url).username for url in urls] == [role_name(process)], process


async def test_the_gateway_reads_the_tokens_and_nothing_else(
    desk: RunningDesk, connect: dict[str, asyncpg.Connection]
) -> None:
    """The HTTP gateway keeps no data; it authenticates the trace page's callers."""
    gateway = connect[role_name(HTTP_GATEWAY)]
    assert await gateway.fetchval("SELECT count(*) FROM desk.tokens") > 0
    for schema, table in (await one_table_per_schema(desk)).items():
        if schema != "desk":
            with pytest.raises(REFUSED):
                await gateway.fetch(f"SELECT * FROM {table} LIMIT 1")


async def test_the_roles_command_applies_again_and_keeps_the_passwords(desk: RunningDesk) -> None:
    """`helpdesk db roles --apply`, as an operator runs it on their server: idempotent, no password."""
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    status, output = await helpdesk("db", "roles", "--apply", env=env)
    assert status == 0, output
    assert role_password(desk, "admin") not in output and ":***@" in output
    stats = await asyncpg.connect(url_as(desk, "helpdesk_stats", role_password(desk, "helpdesk_stats")))
    try:
        await stats.fetch("SELECT * FROM stats.daily LIMIT 1")
        with pytest.raises(REFUSED):
            await stats.fetch("SELECT * FROM intake.tickets LIMIT 1")
    finally:
        await stats.close()


def test_no_password_is_printed_or_logged(desk: RunningDesk) -> None:
    passwords = [Path(path).read_text().strip() for path in desk.endpoints["secrets"].values()]
    assert len(passwords) >= len(DESK_ROLES) + 1
    written = [desk.data_dir / "up.out", *(desk.data_dir / "logs").glob("*.log")]
    texts = {path: path.read_text(errors="replace") for path in written}
    leaks = [str(path) for path, text in texts.items() for secret in passwords if secret in text]
    assert not leaks


def test_the_secret_files_are_owner_only(desk: RunningDesk) -> None:
    assert desk.endpoints["secrets"]
    for path in map(Path, desk.endpoints["secrets"].values()):
        assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)


# The data directory of an older desk, which let everyone in (`trust`), is upgraded at start.


def old_desks_cluster(data_dir: Path) -> Path:
    """A cluster initialised as the desk did before passwords, holding a row to keep."""
    pgdata = data_dir / PGDATA
    pgdata.mkdir(parents=True)
    user = OS_USER if os.geteuid() == 0 else None
    if user is not None:
        grant_access(pgdata, user)
    initdb = [str(bin_dir() / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    initdb += ["--encoding=UTF8", "--locale=C", "--no-instructions"]
    subprocess.run(initdb, user=user, cwd=pgdata, capture_output=True, check=True)
    single = [str(bin_dir() / "postgres"), "--single", "-D", str(pgdata), "postgres"]
    kept = "CREATE TABLE kept (answer int)\nINSERT INTO kept VALUES (42)\n"
    subprocess.run(single, user=user, cwd=pgdata, input=kept, text=True, capture_output=True, check=True)
    assert "trust" in (pgdata / "pg_hba.conf").read_text()
    return pgdata


async def test_an_older_desks_cluster_gets_a_password(tmp_path: Path) -> None:
    pgdata = old_desks_cluster(tmp_path)
    (port,) = free_ports(1)
    for start in ("upgrade", "restart"):
        server = EmbeddedPostgres(data_dir=tmp_path, host="127.0.0.1", port=port, run_dir=tmp_path / "run")
        await server.start()
        try:
            with pytest.raises(LOGIN_REFUSED):
                await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
            with pytest.raises(LOGIN_REFUSED):
                await asyncpg.connect(f"postgresql://postgres:wrong@127.0.0.1:{port}/postgres")
            conn = await asyncpg.connect(server.url.rsplit("/", 1)[0] + "/postgres")
            try:
                assert await conn.fetchval("SELECT answer FROM kept") == 42, start
            finally:
                await conn.close()
        finally:
            await server.stop()
        hba = pgdata / "pg_hba.conf"
        assert "trust" not in hba.read_text()
        assert hba.stat().st_mode & 0o777 == 0o600
        assert hba.stat().st_uid == pgdata.stat().st_uid  # the server's account's
    assert [path.name for path in (tmp_path / "secrets").iterdir()] == [ADMIN_SECRET]
