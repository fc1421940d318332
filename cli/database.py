"""`helpdesk db roles`: the database roles of desk/database_roles.py, for a PostgreSQL the operator runs.

`helpdesk up` applies them itself on its embedded server, with generated passwords. On an operator's
server it prints the SQL (to read, or to run with psql) or, with ``--apply``, runs it against the
running desk's database (endpoints.json), else ``DATABASE_URL`` or ``--database-url``. The passwords
are the operator's to set; the SQL never carries one.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import asyncpg

from cli.endpoints import database_url
from desk.config import Settings, without_password
from desk.database_roles import DESK_ROLES, apply_roles, script


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
