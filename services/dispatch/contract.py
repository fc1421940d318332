"""What other code may know of the dispatch service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

ROUTE_TICKET = "dispatch.route_ticket"
FIND_SLA_POLICY = "dispatch.find_sla_policy"
RECORD_VIOLATION = "dispatch.record_violation"

DESK_TEAM_ID = "service-desk"
"""Violations of deadlines the desk itself holds (the callback) are recorded against this id."""


class WorkOrderStatus(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    DISPATCHED = "DISPATCHED"
    ACCEPTED = "ACCEPTED"
    RETURNED = "RETURNED"
    RESOLVED = "RESOLVED"
    REJECTED = "REJECTED"  # turned down at review; the ticket went back to the desk
    CANCELLED = "CANCELLED"  # withdrawn: the ticket was cancelled or resolved at first contact


@dataclass
class PartUsed:
    name: str
    model: str = ""
    unit: str = ""
    quantity: int = 1
    note: str = ""


@dataclass
class OnsiteReport:
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    restored_at: datetime | None = None
    test_result: str = ""  # NORMAL, ABNORMAL or empty
    parts: list[PartUsed] = field(default_factory=list)
    customer_signed: bool = False


@dataclass
class WorkOrderRecord:
    work_order_id: str
    ticket_id: str
    team_id: str
    status: WorkOrderStatus
    sequence: int
    created_at: datetime
    chase_count: int = 0
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    returned_at: datetime | None = None
    engineer: str = ""
    cause: str = ""
    action: str = ""
    return_reason: str = ""
    dispatch_reason: str = ""
    onsite: OnsiteReport | None = None
    dispatched_by: str = ""
    reviewed_by: str = ""
    review_reason: str = ""
    reviewed_at: datetime | None = None
    sla_policy_version: int = 0
    last_chased_at: datetime | None = None


@dataclass
class SlaPolicyRecord:
    """A policy in force. Targets are seconds (Temporal's JSON converter has no timedelta)."""

    priority: str  # P1..P4, or "" for any
    customer_tier: str  # STANDARD, VIP, or "" for any
    team_id: str  # "" for any team
    response_seconds: float
    resolution_seconds: float
    callback_seconds: float
    warning_percent: int = 80
    calendar: str = ""  # "" in a stored policy: the calendar of the team the work order goes to
    version: int = 0
    time_zone: str = ""  # filled in with the team's when the policy is found for a work order


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


@dataclass
class RecordViolationResult:
    recorded: bool  # False when it was already recorded (a retry or replay)
    work_order: WorkOrderRecord | None  # the chased work order, with its new chase_count
