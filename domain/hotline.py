"""The manager hotline (经理热线, seed 002 八): its escalations and the compensation rule, as records.

An escalation is one case in the managers' queue: a ticket, why it came (its source), and, once a
manager has dealt with it, how (its outcome). The ticket workflow opens and resolves them
(:mod:`domain.escalations`); the survey service stores them and lists the queue.

Compensation (赔偿, 八.3) is due only when the desk or an ops team was responsible and the ticket went
past its resolution deadline (回单时限): an amount per started hour overdue, capped. The rule is data a
manager sets; each resolution keeps the rule's version and the hours it counted, so the amount can be
checked later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from desk.errors import FieldViolation, InvalidArgument
from domain.deadlines import Deadline, DeadlineKind


class EscalationSource(StrEnum):
    REPEATS = "REPEATS"  # repeat reports past three (一.6)
    OVERDUE_RECONTACT = "OVERDUE_RECONTACT"  # the customer calls again on an overdue ticket (二.4)
    DISPUTED_INVESTIGATION = "DISPUTED_INVESTIGATION"  # the customer disputes NOT_OURS (四.4, 八.1)
    REFUSED_ANSWER = "REFUSED_ANSWER"  # the customer does not accept the normal answer (二.6, 三.1)
    COMPLAINT = "COMPLAINT"


OPENED_BY_THE_DESK = (
    EscalationSource.REFUSED_ANSWER,
    EscalationSource.COMPLAINT,
    EscalationSource.DISPUTED_INVESTIGATION,
)
"""Sources a caller opens; the other two are opened by the ticket itself, on a repeat report."""


class EscalationStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class EscalationOutcome(StrEnum):
    EXPLAINED = "EXPLAINED"  # not ours, or ours without a claim: the customer is told why
    COMPENSATED = "COMPENSATED"  # ours and overdue: the customer is compensated by the rule
    REFERRED = "REFERRED"  # handed on (to the branch, the ops team's management, …)


class Responsibility(StrEnum):
    NOT_OURS = "NOT_OURS"
    SERVICE_DESK = "SERVICE_DESK"
    OPS_TEAM = "OPS_TEAM"


COMPENSABLE = (Responsibility.SERVICE_DESK, Responsibility.OPS_TEAM)


@dataclass
class CompensationRule:
    """An amount per started hour past the resolution deadline, at most ``cap_cents`` in all."""

    amount_per_hour_cents: int
    cap_cents: int
    currency: str = "CNY"
    version: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None


@dataclass
class EscalationRecord:
    escalation_id: str
    ticket_id: str
    source: EscalationSource
    note: str
    opened_by: str
    opened_at: datetime
    open_request_id: str = ""  # a retried opening with it answers this escalation again
    status: EscalationStatus = EscalationStatus.OPEN
    outcome: str = ""  # an EscalationOutcome once resolved
    responsibility: str = ""  # a Responsibility, when the manager named one
    resolution_note: str = ""
    compensation_cents: int = 0
    currency: str = ""
    hours_overdue: int = 0  # counted by the rule
    rule_version: int = 0  # of the compensation rule applied
    resolved_by: str = ""
    resolved_at: datetime | None = None
    resolve_request_id: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN


def hours_overdue(deadlines: list[Deadline], now: datetime) -> int:
    """Started hours past the ticket's first resolution deadline until it was met (or ``now``).

    The first one is the customer's (from the report, shortened by their expected time); a later one
    belongs to a second dispatch. Wall-clock hours: the customer waits on every calendar.
    """
    resolution = next((d for d in deadlines if d.kind == DeadlineKind.RESOLUTION), None)
    if resolution is None:
        return 0
    end = resolution.met_at or now
    late = (end - resolution.due_at).total_seconds()
    return math.ceil(late / 3600) if late > 0 else 0


def compensation_cents(rule: CompensationRule, hours: int) -> int:
    return min(rule.cap_cents, rule.amount_per_hour_cents * hours)


def check_rule(rule: CompensationRule) -> None:
    """A rule a manager may set: amounts not negative, a currency (ISO 4217 code)."""
    violations = []
    if rule.amount_per_hour_cents < 0:
        violations.append(FieldViolation("rule.amount_per_hour_cents", "must not be negative"))
    if rule.cap_cents < 0:
        violations.append(FieldViolation("rule.cap_cents", "must not be negative"))
    currency = rule.currency
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha() or not currency.isupper():
        violations.append(FieldViolation("rule.currency", "must be a three-letter ISO 4217 code, e.g. CNY"))
    if violations:
        raise InvalidArgument(violations)
