"""Fixtures of the integration tests beyond the session's desk (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from desk import db
from tests.stack import RunningDesk


@pytest.fixture
async def scratch(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own on the desk's PostgreSQL, migrated: the desk's loops do not touch it."""
    url = desk.endpoints["postgres"]
    name = f"record_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool = await db.create_pool(url.rsplit("/", 1)[0] + f"/{name}")
    try:
        await db.migrate(pool)
        yield pool
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()
