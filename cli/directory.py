"""`helpdesk directory import KIND FILE.csv`: load the reference data intake checks reports against.

An operator tool, like a migration: it writes the intake schema directly, in one transaction, so a
file with any bad row imports nothing. The database is the running desk's (the ``postgres`` URL of
endpoints.json), else ``DATABASE_URL``, unless ``--database-url`` names one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from cli.endpoints import database_url
from desk.config import Settings
from desk.errors import InvalidArgument

if TYPE_CHECKING:
    from services.intake.reference.directory_import import Batch

FORMATS = """\
CSV files are UTF-8 with a header row; columns in any order, optional ones may be left out:

  exchanges    prefix,name,region
               局向. prefix: 1-20 digits, e.g. 0755 or 138; name: required; region: optional
               district code, e.g. 440300, given to tickets that name no region.
               A fault number belongs to the exchange of the longest prefix it starts with.
  subscribers  fault_number,owner_name,contact_phones
               机主资料. fault_number: 5-20 digits; owner_name: required; contact_phones:
               optional, several separated by ';'. Only the owner (by name, organization or a
               contact phone) may report a registered line, except through IVR.
  vip          kind,value,note
               大用户. kind: fault_number, phone or organization; value: that number, phone
               or organization name; note: optional. Matching reports become VIP, one
               priority step higher, and are reviewed by a senior agent.

Rows replace existing ones with the same key (prefix, fault_number, kind+value); nothing is
deleted. A file with any bad row imports nothing; every bad row is reported with its line.

e.g.  helpdesk directory import exchanges exchanges.csv
      prefix,name,region
      0755,深圳 Shenzhen,440300"""


def register(sub: Any) -> None:
    """Add `directory import` to the `helpdesk` parser's subcommands."""
    directory = sub.add_parser(
        "directory", help="reference data for intake: exchanges, subscribers, VIP customers"
    )
    verbs = directory.add_subparsers(dest="verb", required=True)
    load = verbs.add_parser(
        "import",
        help="upsert the rows of a CSV file, all or none",
        description="Upsert the rows of a CSV file into the intake directory, in one transaction.",
        epilog=FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("kind", choices=("subscribers", "exchanges", "vip"), help="what the file holds")
    load.add_argument("file", type=Path, help="the CSV file")
    load.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL (default: the running desk's, from endpoints.json, else DATABASE_URL)",
    )
    load.add_argument("--json", action="store_true", help="say what it imported as a JSON object")
    load.add_argument("--as", dest="as_role", default="", help=argparse.SUPPRESS)  # not a gRPC call
    load.set_defaults(entry=import_command)


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.intake.reference import directory_import

    path: Path = args.file
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            batch = directory_import.parse(args.kind, lines)
    except OSError as error:
        print(f"cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as error:
        print(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})", file=sys.stderr)
        return 1
    except InvalidArgument as bad:
        for v in bad.violations:
            print(f"{path}: {v.field}: {v.description}", file=sys.stderr)
        print(f"{path}: {len(bad.violations)} problem(s); nothing imported", file=sys.stderr)
        return 1
    url = database_url(args, settings)
    try:
        inserted, updated = asyncio.run(_store(url, batch))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        print(f"nothing imported: {error}", file=sys.stderr)
        return 1
    if args.json:
        said = {"kind": args.kind, "file": str(path), "rows": len(batch), "new": inserted, "updated": updated}
        print(json.dumps(said, ensure_ascii=False))
        return 0
    rows = f"{len(batch)} row{'' if len(batch) == 1 else 's'}"
    print(f"{args.kind}: {rows} from {path}: {inserted} new, {updated} updated")
    return 0


async def _store(url: str, batch: Batch) -> tuple[int, int]:
    from services.intake.reference import directory_import

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            counts = await directory_import.store(db=conn, batch=batch)
    finally:
        await conn.close()
    return counts.inserted, counts.updated
