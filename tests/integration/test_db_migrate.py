"""`helpdesk db migrate`, a deployment's one-shot job (deploy/README.md): on a fresh database of the
session desk's PostgreSQL, run twice at once as two replicas of the job would be, it migrates once,
seeds the default teams once, and grants each role its schemas under the password it is given."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

from deploy.postgres import role_secret
from desk.database_roles import DESK_ROLES
from desk.db import MIGRATION_OWNERS, migrations_dir
from services.dispatch.seed import DEFAULT_TEAMS
from tests.stack import RunningDesk, helpdesk


def on_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def as_role(url: str, role: str, password: str) -> str:
    address = urlsplit(url).netloc.rpartition("@")[2]
    return urlunsplit(urlsplit(url)._replace(netloc=f"{role}:{quote(password, safe='')}@{address}"))


@pytest.fixture
async def fresh_database(desk: RunningDesk) -> AsyncIterator[str]:
    """The admin's URL of a database of its own, dropped afterwards."""
    name = f"migrate_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        try:
            yield on_database(desk.endpoints["postgres"], name)
        finally:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
def role_passwords(desk: RunningDesk, tmp_path: Path) -> Path:
    """A mounted secret's directory: one file per role. The roles are the server's, shared with the
    session desk, so they are given the passwords they already have."""
    directory = tmp_path / "role-passwords"
    directory.mkdir()
    for role in DESK_ROLES:
        kept = Path(desk.endpoints["secrets"][role_secret(role)]).read_text()
        (directory / role).write_text(kept)
    return directory


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HELPDESK_DATA_DIR")}
    return {**env, "HELPDESK_DATA_DIR": "/nonexistent/no-desk-here"}  # no endpoints.json to fall back on


async def test_two_jobs_at_once_migrate_and_seed_once(
    desk: RunningDesk, fresh_database: str, role_passwords: Path
) -> None:
    argv = ("db", "migrate", "--database-url", fresh_database, "--role-passwords", str(role_passwords))
    results = await asyncio.gather(*(helpdesk(*argv, env=command_env()) for _ in range(2)))
    admin_password = urlsplit(fresh_database).password
    assert admin_password
    for status, output in results:
        assert status == 0, output
        assert admin_password not in output
    outputs = sorted(output for _, output in results)
    assert "none new" in outputs[0] or "none new" in outputs[1]  # the second waited, then found all done
    expected = [f"{o}/{p.name}" for o in MIGRATION_OWNERS for p in sorted(migrations_dir(o).glob("*.sql"))]
    admin = await asyncpg.connect(fresh_database)
    try:
        applied = [r["name"] for r in await admin.fetch("SELECT name FROM public.schema_migrations")]
        teams = [r["team_id"] for r in await admin.fetch("SELECT team_id FROM dispatch.teams")]
    finally:
        await admin.close()
    assert sorted(applied) == sorted(expected)
    assert sorted(teams) == sorted(DEFAULT_TEAMS)
    password = (role_passwords / "helpdesk_dispatch").read_text().strip()
    dispatch = await asyncpg.connect(as_role(fresh_database, "helpdesk_dispatch", password))
    try:
        assert await dispatch.fetchval("SELECT count(*) FROM dispatch.teams") == len(DEFAULT_TEAMS)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await dispatch.fetch("SELECT * FROM intake.tickets LIMIT 1")
    finally:
        await dispatch.close()


async def test_again_it_applies_nothing_and_keeps_an_operators_change(fresh_database: str) -> None:
    status, output = await helpdesk("db", "migrate", "--database-url", fresh_database, env=command_env())
    assert status == 0, output
    admin = await asyncpg.connect(fresh_database)
    try:
        await admin.execute(
            "UPDATE dispatch.teams SET name = 'renamed by the operator' WHERE team_id = 'network'"
        )
        status, output = await helpdesk("db", "migrate", "--database-url", fresh_database, env=command_env())
        assert status == 0, output
        assert "none new" in output
        name = await admin.fetchval("SELECT name FROM dispatch.teams WHERE team_id = 'network'")
    finally:
        await admin.close()
    assert name == "renamed by the operator"


async def test_a_missing_password_file_is_named_and_nothing_is_migrated(
    fresh_database: str, role_passwords: Path
) -> None:
    (role_passwords / "helpdesk_stats").unlink()
    status, output = await helpdesk(
        "db",
        "migrate",
        "--database-url",
        fresh_database,
        "--role-passwords",
        str(role_passwords),
        env=command_env(),
    )
    assert status == 1
    assert "--role-passwords" in output and "helpdesk_stats" in output
    admin = await asyncpg.connect(fresh_database)
    try:
        assert await admin.fetchval("SELECT to_regclass('public.schema_migrations')") is None
    finally:
        await admin.close()
