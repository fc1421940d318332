"""`helpdesk db migrate` and `helpdesk db roles`: the desk's schemas, seed data and database roles
(desk/database_roles.py) on a PostgreSQL the operator runs.

`helpdesk db migrate` is the one-shot job of a deployment (deploy/README.md): the migrations, the default
teams and policies and, with ``--roles``, the roles and their grants, each role's password from a mounted
secret with ``--role-passwords``; safe to run from several replicas at once (deploy/migration.py).

`helpdesk up` applies them itself on its embedded server, with generated passwords. On an operator's
server it prints the SQL (to read, or to run with psql) or, with ``--apply``, runs it against the
running desk's database (endpoints.json), else ``DATABASE_URL`` or ``--database-url``. The passwords
are the operator's to set; the SQL never carries one.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from cli.endpoints import database_url
from deploy.migration import prepare, read_role_passwords
from desk.config import Settings, without_password
from desk.database_roles import DESK_ROLES, apply_roles, script
from desk.db import create_pool


def register(sub: Any) -> None:
    """Add the `helpdesk db` group."""
    group = sub.add_parser("db", help="the desk's PostgreSQL: one role per process, limited to its schemas")
    verbs = group.add_subparsers(dest="verb", required=True, metavar="VERB")
    roles = verbs.add_parser(
        "roles", help="the SQL making each desk process's role and its grants: printed, or run with --apply"
    )
    roles.add_argument(
        "--apply",
        action="store_true",
        help="run it, as the role that ran the migrations (their tables' owner), after them",
    )
    roles.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
    roles.set_defaults(entry=roles_command)
    migrate = verbs.add_parser(
        "migrate",
        help="apply new migrations and seed the default teams and policies (idempotent; a deployment's job)",
    )
    migrate.add_argument(
        "--roles", action="store_true", help="then grant each desk process's role its schemas (`db roles`)"
    )
    migrate.add_argument(
        "--role-passwords",
        type=Path,
        metavar="DIR",
        help="set each role's password from its file in DIR (helpdesk_intake, …); implies --roles",
    )
    migrate.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
    migrate.set_defaults(entry=migrate_command)


def roles_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.apply:
        print(script(), end="")
        return 0
    url = database_url(args, settings)
    try:
        asyncio.run(_apply(url))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise SystemExit(f"the roles were not applied on {without_password(url)}: {error}") from error
    print(f"roles {', '.join(DESK_ROLES)} granted their schemas on {without_password(url)}")
    print("each logs in with the password you set: ALTER ROLE <role> PASSWORD '…' (once, as an admin)")
    return 0


async def _apply(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await apply_roles(conn)
    finally:
        await conn.close()


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    passwords = read_role_passwords(args.role_passwords) if args.role_passwords else None
    url = database_url(args, settings)
    try:
        applied = asyncio.run(_migrate(url, roles=args.roles or passwords is not None, passwords=passwords))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise SystemExit(f"the database {without_password(url)} was not migrated: {error}") from error
    print(f"migrations applied on {without_password(url)}: {', '.join(applied) if applied else 'none new'}")
    if args.roles or passwords is not None:
        with_passwords = " and their passwords set" if passwords is not None else ""
        print(f"roles {', '.join(DESK_ROLES)} granted their schemas{with_passwords}")
    print("default teams and policies: present")
    return 0


async def _migrate(url: str, *, roles: bool, passwords: dict[str, str] | None) -> list[str]:
    pool = await create_pool(url, max_size=2)
    try:
        return await prepare(pool, roles=roles, passwords=passwords)
    finally:
        await pool.close()
