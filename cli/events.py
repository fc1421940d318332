"""`helpdesk events dead-letters` and `helpdesk events retry ID`: events NATS refused for good.

Intake's relay parks an event it can never publish (services/intake/events/relay.py) so that the events
behind it flow on. An operator tool, like `helpdesk directory import`: it works on intake's schema
directly, in the running desk's database (endpoints.json), else ``DATABASE_URL`` or ``--database-url``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from cli.endpoints import database_url
from desk.config import Settings

T = TypeVar("T")

LISTED = 1000


def register(sub: Any) -> None:
    """Add `events dead-letters` and `events retry` to the `helpdesk` parser's subcommands."""
    events = sub.add_parser("events", help="domain events intake could not publish (dead letters)")
    verbs = events.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("dead-letters", help="list the events parked because NATS refused them")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(entry=list_command)
    retry = verbs.add_parser("retry", help="queue a parked event for publishing again, behind the others")
    retry.add_argument("letter_id", type=int, help="the dead letter's id (first column of dead-letters)")
    retry.set_defaults(entry=retry_command)
    for verb in (listing, retry):
        verb.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
        verb.add_argument("--as", dest="as_role", default="", help=argparse.SUPPRESS)  # not a gRPC call


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.intake.events import outbox

    letters = _run(database_url(args, settings), lambda conn: outbox.dead_letters(db=conn, limit=LISTED))
    for letter in letters:
        if args.json:
            print(json.dumps({**vars(letter), "parked_at": letter.parked_at.isoformat()}, ensure_ascii=False))
        else:
            print(
                f"{letter.letter_id}\t{letter.parked_at:%Y-%m-%d %H:%M:%S%z}\t{letter.type}\t"
                f"{letter.ticket_id}\t{letter.size} bytes\t{letter.error}"
            )
    if not args.json:
        print(f"{len(letters)} dead letter(s)" + (f" (the first {LISTED})" if len(letters) == LISTED else ""))
    return 0


def retry_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.intake.events import outbox

    letter_id: int = args.letter_id
    position = _run(database_url(args, settings), lambda conn: outbox.requeue(db=conn, letter_id=letter_id))
    if position is None:
        print(f"no dead letter {letter_id}", file=sys.stderr)
        return 1
    print(f"dead letter {letter_id} queued again at outbox position {position}")
    return 0


def _run(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def connected() -> T:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(connected())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise SystemExit(f"the database did not answer: {error}") from error
