"""Bringing a database up to this desk's version: migrations, the default teams and policies, and (on
request) the processes' roles. `helpdesk up` runs it at every start; `helpdesk db migrate` runs it on an
operator's PostgreSQL, as a one-shot job before the desk's processes start (deploy/README.md).

Safe from several processes at once (a job's replicas, a Compose project started twice): the whole
preparation runs under one advisory lock, so the seed's "insert what is missing" is not raced into
overwriting a team an operator changed meanwhile, nor the roles' grants applied twice over each other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from desk.database_roles import DESK_ROLES, apply_roles
from desk.db import migrate
from desk.errors import ConfigurationError
from services.dispatch.seed import seed_defaults

log = logging.getLogger(__name__)

PREPARATION_LOCK = 0x6865_6C71
"""Held around the whole preparation; not desk.db's migration lock, which `migrate` takes itself on
another connection of the pool (a session's advisory locks are per connection)."""


async def prepare(
    pool: asyncpg.Pool, *, roles: bool, passwords: Mapping[str, str] | None = None
) -> list[str]:
    """Apply what migrations are new, seed what defaults are missing and, with ``roles``, grant each desk
    role its schemas (desk/database_roles.py) and set the ``passwords`` given. Returns the migrations
    applied. Idempotent: a second run applies nothing and changes nothing an operator set."""
    async with pool.acquire() as lock:
        await lock.execute("SELECT pg_advisory_lock($1)", PREPARATION_LOCK)
        try:
            applied = await migrate(pool)
            log.info("migrations: %s", ", ".join(applied) if applied else "none new")
            if roles:
                async with pool.acquire() as conn:
                    await apply_roles(conn, passwords)
            await seed_defaults(pool)
        finally:
            await lock.execute("SELECT pg_advisory_unlock($1)", PREPARATION_LOCK)
    return applied


def read_role_passwords(directory: Path) -> dict[str, str]:
    """Each desk role's password from the file of its name in ``directory`` (a mounted secret:
    ``helpdesk_intake``, …). Every role must have one: a role left without would keep whatever password
    it had, or none, and its process would fail to log in long after this job said it was done."""
    if not directory.is_dir():
        raise ConfigurationError(f"--role-passwords: {directory} is not a directory")
    missing = [role for role in DESK_ROLES if not (directory / role).is_file()]
    if missing:
        raise ConfigurationError(f"--role-passwords: no file in {directory} for {', '.join(missing)}")
    passwords = {role: (directory / role).read_text().strip() for role in DESK_ROLES}
    empty = [role for role, password in passwords.items() if not password]
    if empty:
        raise ConfigurationError(f"--role-passwords: the file of {', '.join(empty)} in {directory} is empty")
    return passwords
