"""What other code may know of the dispatch service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.work_orders import SlaPolicyRecord, WorkOrderRecord

ROUTE_TICKET = "dispatch.route_ticket"
FIND_SLA_POLICY = "dispatch.find_sla_policy"
RECORD_VIOLATION = "dispatch.record_violation"


@dataclass
class RoutingRuleRecord:
    """Category x region x customer tier -> team; "" matches anything, an empty team keeps it at the desk."""

    rule_id: str
    category: str = ""
    region: str = ""
    customer_tier: str = ""
    team_id: str = ""
    require_review: bool = False
    updated_at: datetime | None = None


@dataclass
class RouteTicketInput:
    ticket_id: str
    category: str
    exclude_team_ids: list[str] = field(default_factory=list)
    region: str = ""
    customer_tier: str = ""
    priority: str = ""  # given, the result also carries the SLA policy in force for the team chosen


@dataclass
class RouteTicketResult:
    team_id: str | None  # None: no active team takes it; it waits at the desk for manual dispatch
    rule_id: str = ""  # the routing rule that decided, "" when the teams' coverage did
    require_review: bool = False
    policy: SlaPolicyRecord | None = None  # for the team chosen (the desk's, for none), if asked


@dataclass
class FindSlaPolicyInput:
    priority: str
    customer_tier: str
    team_id: str


@dataclass
class SaveWorkOrderInput:
    work_order: WorkOrderRecord


class ViolationSource(StrEnum):
    """Where a violation came from."""

    DEADLINE = "DEADLINE"  # a deadline missed (overdue)
    INVESTIGATION = "INVESTIGATION"  # an unsatisfied survey's investigation blamed a desk staff member
    INSPECTION = "INSPECTION"  # quality inspection found it


@dataclass
class RecordViolationInput:
    """A missed deadline. Recorded once per (ticket, deadline kind, work order); a chase goes with it."""

    violation_id: str
    ticket_id: str
    team_id: str
    deadline_kind: str
    work_order_id: str  # "" when the deadline is not a work order's
    due_at: datetime
    recorded_at: datetime
    agent_id: str = ""  # the engineer holding the work order; for desk deadlines the recording agent
    source: str = ViolationSource.DEADLINE
    code: str = ""  # an inspection's violation code (services/quality/scorecards.py), else ""
    note: str = ""  # the inspector's note on it


@dataclass
class RecordViolationResult:
    recorded: bool  # False when it was already recorded (a retry or replay)
    work_order: WorkOrderRecord | None  # the chased work order, with its new chase_count


LIST_VIOLATIONS = "dispatch.list_violations"


@dataclass
class ListViolationsInput:
    """The violations recorded in [since, until), every source (the quality report's week)."""

    since: datetime
    until: datetime


@dataclass
class ViolationRecord:
    """One violation of the ledger, as a reader outside dispatch needs it (no customer data)."""

    violation_id: str
    source: str  # ViolationSource
    agent_id: str  # "" when no one person was held to it
    team_id: str
    code: str  # an inspection's code, else ""
    recorded_at: datetime


@dataclass
class ViolationList:
    violations: list[ViolationRecord] = field(default_factory=list)
