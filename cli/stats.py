"""`helpdesk stats rebuild`: the statistics read model made again from the event stream.

An operator tool, like `helpdesk events dead-letters`: it works on the stats schema and the stream
directly (the running desk's, from endpoints.json; else ``DATABASE_URL``/``NATS_URL`` or the
options), beside the running stats service, whose consumer waits only for the final swap
(services/stats/rebuild.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import asyncpg

from cli.endpoints import database_url
from desk.config import Settings


def register(sub: Any) -> None:
    """Add the `helpdesk stats` group with `rebuild`."""
    stats = sub.add_parser("stats", help="statistics: the read model reports and KPIs are made from")
    verbs = stats.add_subparsers(dest="verb", required=True, metavar="VERB")
    rebuild = verbs.add_parser(
        "rebuild", help="make the read model again from the event stream, in fresh tables, then swap"
    )
    rebuild.add_argument("--database-url", default="", help="PostgreSQL URL (default: the running desk's)")
    rebuild.add_argument("--nats-url", default="", help="NATS URL (default: the running desk's)")
    rebuild.add_argument("--json", action="store_true", help="say it as a JSON object")
    rebuild.add_argument("--as", dest="as_role", default="", help=argparse.SUPPRESS)  # not a gRPC call
    rebuild.set_defaults(entry=rebuild_command)


def nats_url(args: argparse.Namespace, settings: Settings) -> str:
    if args.nats_url:
        return str(args.nats_url)
    if settings.endpoints_file.exists():
        running = json.loads(settings.endpoints_file.read_text())
        return ",".join(running.get("nats_servers") or [running["nats"]])  # a cluster's every node
    if settings.nats_url:
        return settings.nats_url
    raise SystemExit("no NATS: no running desk, NATS_URL is not set and --nats-url was not given")


def rebuild_command(args: argparse.Namespace, settings: Settings) -> int:
    from desk.event_bus import connect
    from services.stats.rebuild import rebuild

    async def rebuilt() -> Any:
        nc = await connect(nats_url(args, settings))
        conn = await asyncpg.connect(database_url(args, settings))
        try:
            return await rebuild(conn, nc.jetstream(), settings.zone)
        finally:
            await conn.close()
            await nc.close()

    try:
        done = asyncio.run(rebuilt())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise SystemExit(f"the database did not answer: {error}") from error
    if args.json:
        print(json.dumps(vars(done)))
    else:
        print(
            f"read model rebuilt from {done.events} events (stream sequence {done.last_sequence},"
            f" {done.applied} applied) in {done.seconds:.1f} s"
        )
    return 0
