"""SQL of the intake directory: exchanges (局向), subscribers (机主资料) and the VIP directory (大用户)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desk.db import Executor

VIP_KINDS = ("fault_number", "phone", "organization")


@dataclass(frozen=True)
class Exchange:
    prefix: str
    name: str
    region: str = ""


@dataclass(frozen=True)
class Subscriber:
    fault_number: str
    owner_name: str
    contact_phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class VipEntry:
    kind: str  # one of VIP_KINDS
    value: str  # normalised: see directory.vip_value
    note: str = ""


@dataclass(frozen=True)
class Lookup:
    """What the directory holds for one report: candidate exchanges, its subscriber, VIP entries."""

    exchanges: Sequence[Exchange] = ()
    subscriber: Subscriber | None = None
    vip_matches: Sequence[tuple[str, str]] = ()  # (kind, normalised value)


@dataclass(frozen=True)
class Upserted:
    inserted: int
    updated: int


_LOOKUP = """
SELECT 'exchange' AS source, prefix AS key, name AS value, region, NULL::text[] AS phones
  FROM intake.exchanges WHERE prefix = ANY($1::text[])
UNION ALL
SELECT 'subscriber', fault_number, owner_name, '', contact_phones
  FROM intake.subscribers WHERE fault_number = $2
UNION ALL
SELECT 'vip', kind, value, '', NULL
  FROM intake.vip_directory WHERE (kind, value) IN (SELECT * FROM unnest($3::text[], $4::text[]))
"""


async def lookup(
    *, db: Executor, prefixes: list[str], fault_number: str, vip_keys: list[tuple[str, str]]
) -> Lookup:
    """Everything the checks of one report need, in one round trip."""
    rows = await db.fetch(_LOOKUP, prefixes, fault_number, [k for k, _ in vip_keys], [v for _, v in vip_keys])
    exchanges, vip, subscriber = [], [], None
    for row in rows:
        if row["source"] == "exchange":
            exchanges.append(Exchange(row["key"], row["value"], row["region"]))
        elif row["source"] == "subscriber":
            subscriber = Subscriber(row["key"], row["value"], tuple(row["phones"]))
        else:
            vip.append((row["key"], row["value"]))
    return Lookup(exchanges, subscriber, vip)


def _counted(flags: Sequence[object]) -> Upserted:
    inserted = sum(1 for flag in flags if flag)
    return Upserted(inserted, len(flags) - inserted)


# Each upsert is one statement over arrays, whatever the number of rows; `xmax = 0` marks a new row.
async def upsert_exchanges(*, db: Executor, exchanges: list[Exchange]) -> Upserted:
    rows = await db.fetch(
        "INSERT INTO intake.exchanges (prefix, name, region)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
        " ON CONFLICT (prefix) DO UPDATE SET name = excluded.name, region = excluded.region,"
        " updated_at = now() RETURNING xmax = 0 AS inserted",
        [e.prefix for e in exchanges],
        [e.name for e in exchanges],
        [e.region for e in exchanges],
    )
    return _counted([r["inserted"] for r in rows])


async def upsert_subscribers(*, db: Executor, subscribers: list[Subscriber]) -> Upserted:
    """Contact phones travel joined by commas (they are digits only) and are split again in SQL."""
    rows = await db.fetch(
        "INSERT INTO intake.subscribers (fault_number, owner_name, contact_phones)"
        " SELECT n, o, coalesce(string_to_array(nullif(p, ''), ','), '{}')"
        " FROM unnest($1::text[], $2::text[], $3::text[]) AS s (n, o, p)"
        " ON CONFLICT (fault_number) DO UPDATE SET owner_name = excluded.owner_name,"
        " contact_phones = excluded.contact_phones, updated_at = now() RETURNING xmax = 0 AS inserted",
        [s.fault_number for s in subscribers],
        [s.owner_name for s in subscribers],
        [",".join(s.contact_phones) for s in subscribers],
    )
    return _counted([r["inserted"] for r in rows])


async def upsert_vip(*, db: Executor, entries: list[VipEntry]) -> Upserted:
    rows = await db.fetch(
        "INSERT INTO intake.vip_directory (kind, value, note)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
        " ON CONFLICT (kind, value) DO UPDATE SET note = excluded.note, updated_at = now()"
        " RETURNING xmax = 0 AS inserted",
        [v.kind for v in entries],
        [v.value for v in entries],
        [v.note for v in entries],
    )
    return _counted([r["inserted"] for r in rows])
