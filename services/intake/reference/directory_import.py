"""Import CSV files into the intake directory: all rows or none, every bad row named by its line.

Formats (a header row first; columns in any order; optional columns may be left out):

- ``exchanges``: ``prefix,name,region``. ``prefix`` 1-20 digits (``0755``, ``138``), ``name`` required,
  ``region`` optional (a district code such as ``440300``: the region of tickets that name none).
- ``subscribers``: ``fault_number,owner_name,contact_phones``. ``fault_number`` 5-20 digits,
  ``owner_name`` required, ``contact_phones`` optional, several separated by ``;``.
- ``vip``: ``kind,value,note``. ``kind`` is ``fault_number``, ``phone`` or ``organization``; ``value``
  the number, phone or organization name; ``note`` optional.

Existing rows with the same key (prefix, fault number, kind + value) are replaced; nothing is deleted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from desk.db import Executor
from desk.errors import FieldViolation, InvalidArgument
from services.intake.reference import directory_repository as repo
from services.intake.reference.directory import normalise_phone, vip_value
from services.intake.reference.directory_repository import Exchange, Subscriber, Upserted, VipEntry

KINDS = ("exchanges", "subscribers", "vip")
COLUMNS = {
    "exchanges": (("prefix", "name"), ("region",)),
    "subscribers": (("fault_number", "owner_name"), ("contact_phones",)),
    "vip": (("kind", "value"), ("note",)),
}
"""Per kind: (required columns, optional columns)."""

_PREFIX = re.compile(r"^[0-9]{1,20}$")
_FAULT_NUMBER = re.compile(r"^[0-9]{5,20}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,22}$")  # as intake accepts a reporter's phone
_LIMITS = {"name": 100, "owner_name": 100, "region": 64, "value": 200, "note": 500}


@dataclass
class Batch:
    exchanges: list[Exchange] = field(default_factory=list)
    subscribers: list[Subscriber] = field(default_factory=list)
    vip: list[VipEntry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.exchanges) + len(self.subscribers) + len(self.vip)


class _Row:
    """One CSV record being checked; problems are collected as `line N, column` violations."""

    def __init__(self, line: int, values: dict[str, str], problems: list[FieldViolation]) -> None:
        self.line, self.values, self.problems = line, values, problems

    def fail(self, column: str, description: str) -> None:
        self.problems.append(FieldViolation(f"line {self.line}, {column}", description))

    def text(self, column: str, *, required: bool = False) -> str:
        value = " ".join(self.values.get(column, "").split())
        if required and not value:
            self.fail(column, "is required")
        elif len(value) > _LIMITS.get(column, 200):
            self.fail(column, f"is longer than {_LIMITS.get(column, 200)} characters")
        return value

    def digits(self, column: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.values.get(column, "").strip()
        if not value:
            self.fail(column, "is required")
        elif not pattern.match(value):
            self.fail(column, f"is not {what}")
        return value

    def phone(self, column: str, value: str) -> str:
        digits = normalise_phone(value)
        if not _PHONE.match(value) or not 7 <= len(digits) <= 15:
            self.fail(column, f"{value!r} is not a telephone number (7 to 15 digits)")
        return digits


def _exchange(row: _Row, batch: Batch) -> str:
    prefix = row.digits("prefix", _PREFIX, "1 to 20 digits")
    batch.exchanges.append(Exchange(prefix, row.text("name", required=True), row.text("region")))
    return prefix


def _subscriber(row: _Row, batch: Batch) -> str:
    number = row.digits("fault_number", _FAULT_NUMBER, "5 to 20 digits")
    raw = [p.strip() for p in row.values.get("contact_phones", "").split(";") if p.strip()]
    phones = tuple(dict.fromkeys(row.phone("contact_phones", p) for p in raw))
    batch.subscribers.append(Subscriber(number, row.text("owner_name", required=True), phones))
    return number


def _vip(row: _Row, batch: Batch) -> str:
    kind = row.values.get("kind", "").strip()
    if kind not in repo.VIP_KINDS:
        row.fail("kind", f"must be one of {', '.join(repo.VIP_KINDS)}")
    raw = row.text("value", required=True)
    if kind == "fault_number" and raw and not _FAULT_NUMBER.match(raw):
        row.fail("value", "is not a fault number (5 to 20 digits)")
    value = row.phone("value", raw) if kind == "phone" and raw else vip_value(kind, raw)
    batch.vip.append(VipEntry(kind, value, row.text("note")))
    return f"{kind} {value}"


_PARSERS: dict[str, Callable[[_Row, Batch], str]] = {
    "exchanges": _exchange,
    "subscribers": _subscriber,
    "vip": _vip,
}


def _header(kind: str, header: list[str] | None) -> list[FieldViolation]:
    if header is None:
        return [FieldViolation("line 1", "the header row is missing (the file is empty)")]
    required, optional = COLUMNS[kind]
    names = [h.strip().lower() for h in header]
    problems = [FieldViolation("line 1", f"column {c!r} is missing") for c in required if c not in names]
    problems += [
        FieldViolation("line 1", f"unknown column {c!r}; expected {', '.join(required + optional)}")
        for c in names
        if c not in required + optional
    ]
    return problems


def parse(kind: str, lines: Iterable[str]) -> Batch:
    """Every row of a CSV file of this kind, or InvalidArgument naming every bad line and column."""
    reader = csv.reader(lines)
    header = next(reader, None)
    problems = _header(kind, header)
    if problems or header is None:
        raise InvalidArgument(problems)
    columns = [h.strip().lower() for h in header]
    batch, first_line = Batch(), dict[str, int]()
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        row = _Row(reader.line_num, dict(zip(columns, record, strict=False)), problems)
        if len(record) > len(columns):
            row.fail("row", f"has {len(record)} fields; the header names {len(columns)}")
        key = _PARSERS[kind](row, batch)
        if key in first_line:
            row.fail("row", f"repeats {key} of line {first_line[key]}")
        first_line.setdefault(key, row.line)
    if problems:
        raise InvalidArgument(problems)
    return batch


async def store(*, db: Executor, batch: Batch) -> Upserted:
    """Upsert a parsed batch (run it inside one transaction: all rows or none)."""
    counts = [
        await repo.upsert_exchanges(db=db, exchanges=batch.exchanges) if batch.exchanges else None,
        await repo.upsert_subscribers(db=db, subscribers=batch.subscribers) if batch.subscribers else None,
        await repo.upsert_vip(db=db, entries=batch.vip) if batch.vip else None,
    ]
    done = [c for c in counts if c is not None]
    return Upserted(sum(c.inserted for c in done), sum(c.updated for c in done))
