"""Does a report belong to a known outage (已修复 / 受工程影响)? The rule, and the bounds of a declaration.

An outage names the exchanges (fault-number prefixes), categories and regions it affects; a report
matches when it falls within every list the outage gives (an empty list does not restrict). The
earliest-declared matching outage wins (then the smaller id), so a report always links to the same one.

The rule is answered by an index (``repository.matching_outage`` over ``intake.outage_scope``): an
active outage is stored as the terms it covers in each dimension (:func:`scope_terms`, ``ANY`` for an
empty list) and a report looks up its own terms (:func:`report_terms`: its number's prefixes, its
category, its region, each with ``ANY``); an outage whose terms meet the report's in every dimension
matches. :func:`matching` is the same rule over records in memory, which the tests hold the index to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from desk.errors import FieldViolation, InvalidArgument

EXCHANGE, CATEGORY, REGION = "exchange", "category", "region"
DIMENSIONS = (EXCHANGE, CATEGORY, REGION)
ANY = ""
"""The term of an outage whose list in a dimension is empty; never a real value (entries are stripped)."""

# An outage is read by every report it may match and sent back with each one it does: its size is
# bounded. A fault number has at most 20 digits, a report's category and region at most 64 characters,
# so a longer entry could never match anything.
MAX_EXCHANGES = 1000
MAX_CATEGORIES = 100
MAX_REGIONS = 1000
MAX_PREFIX = 20
MAX_CATEGORY = 64
MAX_REGION = 64
MAX_CAUSE = 2000
MAX_RESOLUTION = 2000
MAX_REQUEST_ID = 128
MAX_REPORTED = 5  # bad entries named per list


@dataclass
class OutageRecord:
    outage_id: str
    request_id: str
    cause: str
    declared_at: datetime
    exchanges: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    eta: datetime | None = None
    active: bool = True
    resolved_at: datetime | None = None
    resolution: str = ""


@dataclass(frozen=True)
class KnownOutage:
    """What a report needs of the outage it falls in (without the outage's lists, which may be long)."""

    outage_id: str
    cause: str
    declared_at: datetime
    eta: datetime | None = None


def check_declaration(outage: OutageRecord, *, now: datetime) -> None:
    violations = [
        *_text("request_id", outage.request_id, MAX_REQUEST_ID),
        *_text("cause", outage.cause, MAX_CAUSE),
    ]
    if not (outage.exchanges or outage.categories or outage.regions):
        violations.append(
            FieldViolation("exchanges", "an outage affects some exchanges, categories or regions")
        )
    violations += _entries(
        "exchanges",
        outage.exchanges,
        count=MAX_EXCHANGES,
        valid=lambda prefix: prefix.isdigit() and len(prefix) <= MAX_PREFIX,
        what=f"a number prefix (1 to {MAX_PREFIX} digits)",
    )
    violations += _entries(
        "categories",
        outage.categories,
        count=MAX_CATEGORIES,
        valid=lambda category: len(category) <= MAX_CATEGORY,
        what=f"a category (at most {MAX_CATEGORY} characters)",
    )
    violations += _entries(
        "regions",
        outage.regions,
        count=MAX_REGIONS,
        valid=lambda region: len(region) <= MAX_REGION,
        what=f"a region (at most {MAX_REGION} characters)",
    )
    if outage.eta is not None and outage.eta <= now:
        violations.append(FieldViolation("eta", "must be in the future"))
    if violations:
        raise InvalidArgument(violations)


def check_resolution(resolution: str) -> None:
    if violations := _text("resolution", resolution, MAX_RESOLUTION):
        raise InvalidArgument(violations)


def _text(name: str, value: str, limit: int) -> list[FieldViolation]:
    if not value.strip():
        return [FieldViolation(name, "is required")]
    if len(value) > limit:
        return [FieldViolation(name, f"is {len(value)} characters long; at most {limit} are allowed")]
    return []


def _entries(
    name: str, values: list[str], *, count: int, valid: Callable[[str], bool], what: str
) -> list[FieldViolation]:
    """Too many entries, or the first few bad ones (a huge request is not echoed back)."""
    if len(values) > count:
        return [FieldViolation(name, f"has {len(values)} entries; at most {count} are allowed")]
    bad = [value for value in values if not valid(value)][:MAX_REPORTED]
    return [FieldViolation(name, f"{_shown(value)} is not {what}") for value in bad]


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 24 else f"{value[:24]!r}… ({len(value)} characters)"


def scope_terms(outage: OutageRecord) -> list[tuple[str, str]]:
    """The (dimension, term) pairs an active outage is found by: its entries, or ANY for an empty list."""
    lists = {EXCHANGE: outage.exchanges, CATEGORY: outage.categories, REGION: outage.regions}
    return [(d, term) for d in DIMENSIONS for term in sorted(set(lists[d]) or {ANY})]


def report_terms(*, fault_number: str, category: str, region: str) -> dict[str, list[str]]:
    """The terms a report looks up in each dimension: every prefix of its number is an exchange it
    may belong to, so prefix matching becomes equality, which a btree answers."""
    prefixes = [fault_number[:n] for n in range(1, len(fault_number) + 1)]
    return {
        EXCHANGE: [*prefixes, ANY],
        CATEGORY: [category, ANY] if category else [ANY],
        REGION: [region, ANY] if region else [ANY],
    }


def matches(outage: OutageRecord, terms: dict[str, list[str]]) -> bool:
    covered: dict[str, set[str]] = {d: set() for d in DIMENSIONS}
    for dimension, term in scope_terms(outage):
        covered[dimension].add(term)
    return outage.active and all(covered[d].intersection(terms[d]) for d in DIMENSIONS)


def matching(
    outages: list[OutageRecord], *, fault_number: str, category: str, region: str
) -> OutageRecord | None:
    terms = report_terms(fault_number=fault_number, category=category, region=region)
    found = [o for o in outages if matches(o, terms)]
    return min(found, key=lambda o: (o.declared_at, o.outage_id), default=None)
