"""`helpdesk token issue|revoke|list`: an operator's bearer tokens, straight in the desk's database.

An operator tool, like `helpdesk stats rebuild`: it talks to PostgreSQL (the running desk's, from
endpoints.json; else ``DATABASE_URL`` or ``--database-url``), not to a service. The only token it ever
prints is the one `issue` has just made; the database keeps digests only, and `list` names each token
by its id (the start of its digest), which `revoke` accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg

from cli.endpoints import database_url
from desk.auth import ROLES, Principal, issue_token, token_id_of
from desk.config import Settings
from desk.errors import FieldViolation, InvalidArgument
from desk.token_records import (
    TokenRecord,
    list_tokens,
    revoke_development_tokens,
    revoke_tokens,
    team_is_active,
)

DEFAULT_HOURS = 30 * 24.0  # an operator's token: a person's month, a system's until its next rotation
MAX_HOURS = 366 * 24.0
MAX_PRINCIPAL_LENGTH = 64

T = TypeVar("T")


def register(sub: Any) -> None:
    """Add the `helpdesk token` group."""
    token = sub.add_parser("token", help="bearer tokens: issue one, revoke, list (no secret shown)")
    verbs = token.add_subparsers(dest="verb", required=True, metavar="VERB")
    issue = verbs.add_parser("issue", help="a new token for a principal; printed once, never again")
    issue.add_argument("--principal", required=True, help="who the token is (a person's or system's id)")
    issue.add_argument("--role", action="append", required=True, choices=ROLES, help="a role (repeatable)")
    issue.add_argument("--team", default="", help="the team of an ops_engineer")
    issue.add_argument(
        "--hours", type=float, default=DEFAULT_HOURS, help=f"lifetime (default {DEFAULT_HOURS:g})"
    )
    issue.set_defaults(entry=issue_command)
    revoke = verbs.add_parser("revoke", help="every token of a principal, or one token by its id")
    revoke.add_argument("principal_or_id", nargs="?", default="", help="a principal id or a token id")
    revoke.add_argument("--development", action="store_true", help="every development token instead")
    revoke.set_defaults(entry=revoke_command)
    listing = verbs.add_parser("list", help="tokens in force: ids, principals, roles, expiry")
    listing.add_argument("--all", dest="everything", action="store_true", help="also expired and revoked")
    listing.set_defaults(entry=list_command)
    for verb in (issue, revoke, listing):
        verb.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
        verb.add_argument("--json", action="store_true", help="answer as JSON")
        verb.add_argument("--as", dest="as_role", default="", help=argparse.SUPPRESS)  # not a gRPC call


def token_principal(args: argparse.Namespace) -> tuple[Principal, timedelta]:
    """The principal and lifetime asked for, every bad field named at once."""
    principal_id, team = args.principal.strip(), args.team.strip()
    roles = frozenset(args.role)
    problems = []
    if not principal_id or len(principal_id) > MAX_PRINCIPAL_LENGTH or not principal_id.isprintable():
        problems.append(FieldViolation("principal", f"1 to {MAX_PRINCIPAL_LENGTH} printable characters"))
    if "ops_engineer" in roles and not team:
        problems.append(FieldViolation("team", "an ops_engineer's token names its team"))
    if team and "ops_engineer" not in roles:
        problems.append(FieldViolation("team", "only an ops_engineer's token is bound to a team"))
    if not 0 < args.hours <= MAX_HOURS:
        problems.append(FieldViolation("hours", f"more than 0 and at most {MAX_HOURS:g}"))
    if problems:
        raise InvalidArgument(problems)
    return Principal(principal_id, roles, team), timedelta(hours=args.hours)


def issue_command(args: argparse.Namespace, settings: Settings) -> int:
    principal, lifetime = token_principal(args)

    async def issue(conn: asyncpg.Connection) -> str:
        if principal.team_id and not await team_is_active(conn, principal.team_id):
            raise InvalidArgument.one("team", f"no active team {principal.team_id!r}")
        return await issue_token(conn, principal, lifetime=lifetime)

    token = _with_database(args, settings, issue)
    if args.json:
        print(json.dumps({"token": token, "token_id": token_id_of(token), "hours": args.hours}))
    else:
        print(token)
        print(
            f"token {token_id_of(token)} for {principal.principal_id}, {args.hours:g} h;"
            " shown this once: the desk keeps only its digest",
            file=sys.stderr,
        )
    return 0


def revoke_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.development == bool(args.principal_or_id):
        raise InvalidArgument.one("principal_or_id", "name a principal or a token id, or give --development")
    if args.development:
        revoked = _with_database(args, settings, revoke_development_tokens)
    else:
        revoked = _with_database(args, settings, lambda conn: revoke_tokens(conn, args.principal_or_id))
    if args.json:
        print(json.dumps({"revoked": revoked}))
    elif revoked:
        print(f"revoked {len(revoked)} token(s): {', '.join(revoked)}")
    if not revoked:
        print(f"no token in force matches {args.principal_or_id or 'development'!r}", file=sys.stderr)
        return 1
    return 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    records = _with_database(args, settings, lambda conn: list_tokens(conn, everything=args.everything))
    if args.json:
        print(json.dumps([_document(record) for record in records]))
    else:
        print(_table(records))
    return 0


def _document(record: TokenRecord) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "principal_id": record.principal_id,
        "roles": list(record.roles),
        "team_id": record.team_id,
        "development": record.development,
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "state": record.state,
    }


def _table(records: list[TokenRecord]) -> str:
    header = ("TOKEN ID", "PRINCIPAL", "ROLES", "TEAM", "KIND", "EXPIRES (UTC)", "STATE")
    rows = [
        (
            record.token_id,
            record.principal_id,
            ",".join(record.roles),
            record.team_id or "-",
            "development" if record.development else "issued",
            record.expires_at.strftime("%Y-%m-%d %H:%M"),
            record.state,
        )
        for record in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _with_database(
    args: argparse.Namespace, settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(database_url(args, settings))
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise SystemExit(f"the database did not answer: {error}") from error
