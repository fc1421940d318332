"""A ticket: the report it started from (the draft), its status, and the whole view every service reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.deadlines import Deadline
from domain.line_tests import LineTestResult
from domain.surveys import SurveyRecord
from domain.work_orders import WorkOrderRecord


class TicketStatus(StrEnum):
    OPEN = "OPEN"
    PENDING_REVIEW = "PENDING_REVIEW"
    DISPATCHED = "DISPATCHED"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    ARCHIVED = "ARCHIVED"
    CANCELLED = "CANCELLED"


class Handling(StrEnum):
    MANUAL = "MANUAL"  # recorded by an agent
    AUTOMATIC = "AUTOMATIC"  # self-service (IVR) without an agent


@dataclass
class Reporter:
    name: str = ""
    organization: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass
class TicketDraft:
    """A validated report. Enum fields hold the names without prefix: PHONE, FAULT, P2, VIP."""

    ticket_id: str
    request_id: str
    channel: str
    kind: str
    reporter: Reporter
    category: str
    priority: str
    customer_tier: str
    summary: str
    created_at: datetime
    description: str = ""
    fault_number: str = ""
    occurred_at: datetime | None = None
    expected_by: datetime | None = None
    agent_id: str = ""  # who recorded it: the caller's principal (desk/actors.py)
    region: str = ""
    handling: Handling = Handling.MANUAL
    outage_id: str = ""  # a known outage (KNOWN_OUTAGE): linked to it, not dispatched on its own
    line_test: LineTestResult | None = None  # a test already run (by the IVR, or intake) before opening
    on_behalf_of: str = ""  # the person an integrator recorded it for (desk/actors.py); "" for none
    via: str = ""  # the principal whose token drove the IVR call that recorded it; "" for none

    @property
    def line_testable(self) -> bool:
        """A fault with a number: its line is tested (自动测试) when the ticket opens."""
        return self.kind == "FAULT" and bool(self.fault_number)


@dataclass
class TicketView:
    """The whole ticket as the workflow knows it; intake keeps it for reads (GetTicket, ListTickets)."""

    draft: TicketDraft
    status: TicketStatus
    updated_at: datetime
    repeat_count: int = 0
    escalated: bool = False
    assigned_team_id: str = ""
    work_orders: list[WorkOrderRecord] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    line_test: LineTestResult | None = None  # the latest, returned to a repeat report
    resolved_at_first_contact: bool = False
    cancel_reason: str = ""
    supplements: int = 0
    callback_attempts: int = 0  # not reached so far, for the current callback
    next_callback_at: datetime | None = None  # the next attempt not before this (the callback policy)
    second_dispatches: int = 0  # 二次派单 made (DispatchKind.SECOND_DISPATCH)
    close_reason: str = ""  # why it closed without a confirmed fix ("customer unreachable")
    archived_at: datetime | None = None
    survey: SurveyRecord | None = None  # the latest survey round
