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
from cli.output import add_output_options, terminal_width, wants_json
from cli.render import local_time
from cli.tables import table
from desk.config import Settings

T = TypeVar("T")

LISTED = 1000


def register(sub: Any) -> None:
    """Add `events dead-letters` and `events retry` to the `helpdesk` parser's subcommands."""
    events = sub.add_parser("events", help="domain events intake could not publish (dead letters)")
    verbs = events.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("dead-letters", help="list the events parked because NATS refused them")
    add_output_options(listing)  # JSON: one object a line
    listing.set_defaults(entry=list_command)
    retry = verbs.add_parser("retry", help="queue a parked event for publishing again, behind the others")
    retry.add_argument("letter_id", type=int, help="the dead letter's id (first column of dead-letters)")
    retry.add_argument("--json", action="store_true", help="say it as a JSON object")
    retry.set_defaults(entry=retry_command)
    for verb in (listing, retry):
        verb.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
        verb.add_argument("--as", dest="as_role", default="", help=argparse.SUPPRESS)  # not a gRPC call


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.intake.events import outbox

    letters = _run(database_url(args, settings), lambda conn: outbox.dead_letters(db=conn, limit=LISTED))
    if wants_json(args):
        for letter in letters:
            print(json.dumps({**vars(letter), "parked_at": letter.parked_at.isoformat()}, ensure_ascii=False))
        return 0
    headers = ("ID", "PARKED AT", "TYPE", "TICKET", "SIZE", "ERROR")
    rows = [
        (str(x.letter_id), local_time(x.parked_at), x.type, x.ticket_id, f"{x.size} bytes", x.error)
        for x in letters
    ]
    for line in table(headers, rows, width=terminal_width()) if letters else []:
        print(line)
    print(f"{len(letters)} dead letter(s)" + (f" (the first {LISTED})" if len(letters) == LISTED else ""))
    return 0


def retry_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.intake.events import outbox

    letter_id: int = args.letter_id
    position = _run(database_url(args, settings), lambda conn: outbox.requeue(db=conn, letter_id=letter_id))
    if position is None:
        print(f"no dead letter {letter_id}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"letter_id": letter_id, "position": position}))
    else:
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
