"""PostgreSQL: the connection pool and the schema migrations of every service.

Each service owns one schema and keeps its migrations in ``services/<name>/migrations/NNN_name.sql``.
Applied migrations are recorded in ``public.schema_migrations`` so each runs once; an advisory lock
keeps two processes starting at once from applying the same one twice.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy
"""Anything a repository function can run SQL on: the pool, or a connection inside a transaction."""

MIGRATION_OWNERS = ("desk", "intake", "dispatch", "survey", "quality", "stats", "knowledge")
_LOCK_KEY = 0x6865_6C70  # "help": any fixed number shared by every process of the desk

_ROOT = Path(__file__).resolve().parent.parent


def migrations_dir(owner: str) -> Path:
    if owner == "desk":
        return _ROOT / "desk" / "migrations"
    return _ROOT / "services" / owner / "migrations"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset of a connection returned to the pool (RESET ALL, UNLISTEN, unlock…).

    The desk never changes session state (no SET, LISTEN or session advisory locks outside
    :func:`migrate`, which unlocks before release), and the reset cost a round trip per release.
    """


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, reset=_keep_session)
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply every migration not applied yet, in owner then file order. Returns what it applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM public.schema_migrations")}
            for owner in MIGRATION_OWNERS:
                for path in sorted(migrations_dir(owner).glob("*.sql")):
                    name = f"{owner}/{path.name}"
                    if name in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(path.read_text())
                        await conn.execute("INSERT INTO public.schema_migrations (name) VALUES ($1)", name)
                    applied.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied
