"""One PostgreSQL role per desk process, limited to its own schemas: DESIGN principle 3, enforced by the
database rather than by convention.

A service's role reads and writes the tables of its own schemas and reads the desk's token table (every
service authenticates its callers, desk/auth.py); it creates nothing, anywhere, and cannot see another
service's data or ``public.schema_migrations``. The workflow worker hosts every service's activities
(workflows/worker.py) and writes several schemas in one transaction (workflows/ticket_persistence.py),
so its role is a member of all of them. Schemas, tables and sequences stay the admin's, who migrates.

`helpdesk up` applies :func:`role_statements` after the migrations at every start (so a table a later
migration adds is granted too) and sets each role's generated password; `helpdesk db roles` prints or
applies the same statements on an operator's PostgreSQL (docs/security.md, "PostgreSQL").
"""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from desk.db import MIGRATION_OWNERS

ROLE_PREFIX = "helpdesk_"
WORKER = "worker"
GATEWAY = "http"
"""The HTTP gateway owns no data; it reads the token table to authenticate the trace page's callers."""

SERVICE_SCHEMAS: Mapping[str, tuple[str, ...]] = {
    "intake": ("intake", "knowledge"),  # the intake process serves knowledge too
    "dispatch": ("dispatch",),
    "survey": ("survey",),
    "quality": ("quality",),
    "stats": ("stats",),
}
"""Each service process and the schemas it owns: all it may read and write, beside :data:`SHARED_READS`."""

SHARED_READS = ("desk.tokens",)
"""Tables every service reads and none writes: the tokens it authenticates callers with (desk/auth.py;
in production mode desk/token_records.py; quality's staff roles, services/quality/staff.py)."""

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def role_name(process: str) -> str:
    """The role a desk process logs in as: ``helpdesk_intake`` …, and for every workflow worker
    (``worker``, ``worker-2`` …) ``helpdesk_worker``."""
    if process == WORKER or process.startswith(f"{WORKER}-"):
        return ROLE_PREFIX + WORKER
    if process not in SERVICE_SCHEMAS and process != GATEWAY:
        raise ValueError(f"{process!r} is no desk process with a database role")
    return ROLE_PREFIX + process


SERVICE_ROLES = tuple(role_name(service) for service in SERVICE_SCHEMAS)
DESK_ROLES = (*SERVICE_ROLES, role_name(WORKER), role_name(GATEWAY))


def role_statements() -> list[str]:
    """Idempotent SQL giving each role exactly what :data:`SERVICE_SCHEMAS` says, run in one transaction.

    Everything the roles held in the desk's schemas is revoked first, so a schema moved between
    services or a grant made by hand does not outlast the next run (inside the transaction nobody sees
    the gap).
    """
    statements = [*(_create_role(role) for role in DESK_ROLES), *_database_statements(), *_revoke_all()]
    for service, schemas in SERVICE_SCHEMAS.items():
        statements += _grant_service(role_name(service), schemas)
    statements += _grant_service(role_name(GATEWAY), ())
    statements.append(f"GRANT {', '.join(SERVICE_ROLES)} TO {role_name(WORKER)}")
    return statements


def _database_statements() -> list[str]:
    """No object of anyone's but the admin's: no temporary tables, nothing in ``public`` (PostgreSQL
    before 15 let everyone create there); the roles may connect even where the operator revoked that."""
    return [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "DO $$ BEGIN"
        " EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());"
        f" EXECUTE format('GRANT CONNECT ON DATABASE %I TO {', '.join(DESK_ROLES)}', current_database());"
        " END $$",
    ]


def _create_role(role: str) -> str:
    """The role made once; every run makes sure it can log in and holds no power beyond its grants."""
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role};"
        f" END IF; ALTER ROLE {role} {attributes}; END $$"
    )


def _revoke_all() -> list[str]:
    roles = ", ".join(DESK_ROLES)
    statements = []
    for schema in MIGRATION_OWNERS:
        statements += [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {roles}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {roles}",
            f"REVOKE ALL ON SCHEMA {schema} FROM {roles}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {roles}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {roles}",
        ]
    return [*statements, f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles}"]


def _grant_service(role: str, schemas: tuple[str, ...]) -> list[str]:
    statements = []
    for schema in schemas:
        statements += [
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            # What the admin creates there later (`helpdesk stats rebuild`'s fresh tables, swapped in
            # while the desk runs) is the role's at once, not at the next start.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {TABLE_PRIVILEGES} ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {role}",
        ]
    for table in SHARED_READS:
        schema = table.partition(".")[0]
        statements += [f"GRANT USAGE ON SCHEMA {schema} TO {role}", f"GRANT SELECT ON {table} TO {role}"]
    return statements


def script() -> str:
    """:func:`role_statements` as one SQL script, for an operator to read or run with psql."""
    body = "".join(f"{statement};\n" for statement in role_statements())
    return f"BEGIN;\n{body}COMMIT;\n"


async def apply_roles(
    conn: asyncpg.Connection | PoolConnectionProxy, passwords: Mapping[str, str] | None = None
) -> None:
    """Run :func:`role_statements` in one transaction, then set each role's password in ``passwords``."""
    async with conn.transaction():
        for statement in role_statements():
            await conn.execute(statement)
        for role, password in (passwords or {}).items():
            if role not in DESK_ROLES:
                raise ValueError(f"{role!r} is no desk role")
            await conn.execute(f"ALTER ROLE {role} PASSWORD {sql_literal(password)}")


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (standard_conforming_strings: only quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"
