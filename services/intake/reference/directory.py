"""What the desk's reference data says about a report (seed 002 一.4, 二.2-3), before anything is created.

Three checks, in this order; :func:`check_report` runs them against the database, everything else here
is a pure rule:

1. **Exchange (局向).** A report naming a fault number must name one of a known exchange: the
   number (national format, e.g. ``02145678901``, ``13800136138``) starts with an exchange prefix.
   The longest matching prefix wins. An unknown exchange is INVALID_ARGUMENT on ``fault_number``.
   When the report names no region, the exchange's region becomes the ticket's (routing uses it).
   A report without a fault number skips this check and the next.
2. **Owner (机主资料核对).** When the fault number is in the subscriber directory, only its owner may
   report it: a reporter is the owner when their name or organization equals the registered owner
   name (trimmed, case-folded, inner whitespace collapsed), or their phone is one of the subscriber's
   registered contact phones (digits only, a +86 / 0086 country code dropped). Anyone else is refused
   with FAILED_PRECONDITION ("the owner must report in person") and nothing is created. An IVR report
   skips the check: the caller keyed the number in from the line itself, which is the proof.
3. **VIP (大用户).** A report is VIP when it says so (``customer_tier`` VIP) or when its fault number,
   its reporter's phone or its reporter's organization is in the VIP directory. A VIP ticket's priority
   is raised one step (P4→P3, P3→P2, P2→P1; P1 stays), and dispatch sends it to a senior agent for
   review (domain/review_policy.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from desk.db import Executor
from desk.errors import InvalidArgument, TransitionNotAllowed
from domain.ticket import Reporter
from services.intake.reference import directory_repository
from services.intake.reference.directory_repository import Exchange, Lookup, Subscriber
from services.intake.validation import ValidReport

VIP = "VIP"
SELF_SERVICE_CHANNELS = frozenset({"IVR"})
"""Channels where the caller keys the fault number in from the line itself: no owner check."""

_RAISED = {"P4": "P3", "P3": "P2", "P2": "P1", "P1": "P1"}


@dataclass(frozen=True)
class ReportFacts:
    """What the checks derived; :func:`applied` puts it on the report."""

    region: str
    customer_tier: str
    priority: str
    exchange: Exchange | None = None


def normalise_name(value: str) -> str:
    """Trimmed, case-folded, inner whitespace (ideographic space included) collapsed to one space."""
    return " ".join(value.split()).casefold()


def normalise_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 country code: "+86 138-0013-6138" → "13800136138"."""
    digits = "".join(c for c in value if c.isdigit() and c.isascii())
    if value.strip().startswith("+86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def prefixes(number: str) -> list[str]:
    """Every prefix of a fault number, shortest first: the exchange prefixes it could belong to."""
    return [number[:i] for i in range(1, len(number) + 1)]


def match_exchange(number: str, exchanges: Iterable[Exchange]) -> Exchange | None:
    """The exchange of the longest prefix `number` starts with, or None."""
    matching = [e for e in exchanges if e.prefix and number.startswith(e.prefix)]
    return max(matching, key=lambda e: len(e.prefix), default=None)


def owner_check_applies(channel: str) -> bool:
    """IVR (self-service from the line itself) skips the owner check; every other channel has it."""
    return channel not in SELF_SERVICE_CHANNELS


def is_owner(subscriber: Subscriber, reporter: Reporter) -> bool:
    owner = normalise_name(subscriber.owner_name)
    if owner and owner in (normalise_name(reporter.name), normalise_name(reporter.organization)):
        return True
    phone = normalise_phone(reporter.phone)
    return bool(phone) and phone in {normalise_phone(p) for p in subscriber.contact_phones}


def vip_keys(*, fault_number: str, reporter: Reporter) -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a report is looked up by in the VIP directory."""
    keys = [
        ("fault_number", fault_number),
        ("phone", normalise_phone(reporter.phone)),
        ("organization", normalise_name(reporter.organization)),
    ]
    return [(kind, value) for kind, value in keys if value]


def vip_value(kind: str, value: str) -> str:
    """A VIP directory entry's value as it is stored and looked up."""
    if kind == "phone":
        return normalise_phone(value)
    if kind == "organization":
        return normalise_name(value)
    return value.strip()


def raise_priority(priority: str) -> str:
    """One step more urgent; P1 stays P1."""
    return _RAISED.get(priority, priority)


def decide(report: ValidReport, found: Lookup) -> ReportFacts:
    """Run the three checks on what the directory holds for this report."""
    exchange = None
    if report.fault_number:
        exchange = match_exchange(report.fault_number, found.exchanges)
        if exchange is None:
            raise InvalidArgument.one("fault_number", "belongs to no known exchange (局向); check the number")
        subscriber = found.subscriber
        if (
            subscriber is not None
            and subscriber.fault_number == report.fault_number
            and owner_check_applies(report.channel)
            and not is_owner(subscriber, report.reporter)
        ):
            raise TransitionNotAllowed(
                "the owner must report in person (请机主亲自报障碍): the reporter matches neither the"
                " registered owner of this line nor one of its registered contact phones"
            )
    wanted = set(vip_keys(fault_number=report.fault_number, reporter=report.reporter))
    vip = report.customer_tier == VIP or any(match in wanted for match in found.vip_matches)
    return ReportFacts(
        region=report.region or (exchange.region if exchange else ""),
        customer_tier=VIP if vip else report.customer_tier,
        priority=raise_priority(report.priority) if vip else report.priority,
        exchange=exchange,
    )


def applied(report: ValidReport, facts: ReportFacts) -> ValidReport:
    return replace(report, region=facts.region, customer_tier=facts.customer_tier, priority=facts.priority)


async def check_report(*, db: Executor, report: ValidReport) -> ReportFacts:
    """Look the report up in the directory (one query) and run the checks; raises what refuses it."""
    found = await directory_repository.lookup(
        db=db,
        prefixes=prefixes(report.fault_number) if report.fault_number else [],
        fault_number=report.fault_number,
        vip_keys=vip_keys(fault_number=report.fault_number, reporter=report.reporter),
    )
    return decide(report, found)


async def find_exchange(*, db: Executor, number: str) -> Exchange | None:
    """The exchange a number belongs to, or None: the 局向 check alone (the IVR asks it per call)."""
    found = await directory_repository.lookup(db=db, prefixes=prefixes(number), fault_number="", vip_keys=[])
    return match_exchange(number, found.exchanges)
