"""Does a report belong to a known outage (已修复 / 受工程影响)? Pure matching over declared outages.

An outage names the exchanges (fault-number prefixes), categories and regions it affects; a report
matches when it falls within every list the outage gives (an empty list does not restrict). The
earliest-declared matching outage wins, so a report always links to the same one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from desk.errors import FieldViolation, InvalidArgument


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


def check_declaration(outage: OutageRecord, *, now: datetime) -> None:
    violations = []
    if not outage.request_id.strip():
        violations.append(FieldViolation("request_id", "is required"))
    if not outage.cause.strip():
        violations.append(FieldViolation("cause", "is required"))
    if not (outage.exchanges or outage.categories or outage.regions):
        violations.append(
            FieldViolation("exchanges", "an outage affects some exchanges, categories or regions")
        )
    violations += [
        FieldViolation("exchanges", f"{prefix!r} is not a number prefix")
        for prefix in outage.exchanges
        if not prefix.isdigit()
    ]
    if outage.eta is not None and outage.eta <= now:
        violations.append(FieldViolation("eta", "must be in the future"))
    if violations:
        raise InvalidArgument(violations)


def matching(
    outages: list[OutageRecord], *, fault_number: str, category: str, region: str
) -> OutageRecord | None:
    found = [
        o
        for o in outages
        if o.active
        and (not o.exchanges or any(fault_number.startswith(p) for p in o.exchanges if fault_number))
        and (not o.categories or category in o.categories)
        and (not o.regions or region in o.regions)
    ]
    return min(found, key=lambda o: (o.declared_at, o.outage_id), default=None)
