"""Work orders (派单) sent to ops teams, what they report from site, and the SLA policies they follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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


class DispatchKind(StrEnum):
    """Why a work order was made: counted apart in the statistics (二次派单 is not a 退单's redispatch)."""

    INITIAL = "INITIAL"  # the ticket's first dispatch
    AFTER_RETURN = "AFTER_RETURN"  # the team before it sent its work order back (退单)
    AFTER_REJECTION = "AFTER_REJECTION"  # the proposed work order before it was turned down at review
    SECOND_DISPATCH = (
        "SECOND_DISPATCH"  # 二次派单: not fixed at callback, or an investigation blamed the team
    )


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
    dispatch_kind: DispatchKind = DispatchKind.INITIAL


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
