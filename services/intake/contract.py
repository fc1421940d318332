"""What other code may know of the intake service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from desk.events import EventSpec
from services.dispatch.contract import WorkOrderRecord
from services.intake.line_test import FaultCode, LineTestOutcome, LineTestResult

__all__ = ["FaultCode", "LineTestOutcome", "LineTestResult"]  # the line test's record is part of a ticket

RECORD_TICKET = "intake.record_ticket"
RUN_LINE_TEST = "intake.run_line_test"

# IVR self-service (ivr_activities.py); the results are the flow's events (workflows.ivr_contract).
IVR_CHECK_EXCHANGE = "intake.ivr_check_exchange"
IVR_CHECK_OUTAGE = "intake.ivr_check_outage"
IVR_CHECK_REPEAT = "intake.ivr_check_repeat"
IVR_CREATE_TICKET = "intake.ivr_create_ticket"
IVR_RECORD_REPEAT = "intake.ivr_record_repeat"
IVR_LEAVE_MESSAGE = "intake.ivr_leave_message"

# Resolving a known outage (outage_activities.py), driven by workflows/outage.py.
MARK_OUTAGE_RESOLVED = "intake.mark_outage_resolved"
RESOLVE_LINKED_TICKETS = "intake.resolve_linked_tickets"


class TicketStatus(StrEnum):
    OPEN = "OPEN"
    PENDING_REVIEW = "PENDING_REVIEW"
    DISPATCHED = "DISPATCHED"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    ARCHIVED = "ARCHIVED"
    CANCELLED = "CANCELLED"


class DeadlineKind(StrEnum):
    RESPONSE = "RESPONSE"
    RESOLUTION = "RESOLUTION"
    CALLBACK = "CALLBACK"


class DeadlineState(StrEnum):
    PENDING = "PENDING"
    WARNED = "WARNED"
    OVERDUE = "OVERDUE"
    MET = "MET"
    CANCELLED = "CANCELLED"  # the ticket was cancelled before it was met


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
    agent_id: str = ""
    region: str = ""
    handling: Handling = Handling.MANUAL
    outage_id: str = ""  # a known outage (KNOWN_OUTAGE): linked to it, not dispatched on its own
    line_test: LineTestResult | None = None  # a test already run (by the IVR, or intake) before opening

    @property
    def line_testable(self) -> bool:
        """A fault with a number: its line is tested (自动测试) when the ticket opens."""
        return self.kind == "FAULT" and bool(self.fault_number)


@dataclass
class Deadline:
    kind: DeadlineKind
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    state: DeadlineState = DeadlineState.PENDING
    work_order_id: str = ""  # set for a response deadline, which belongs to one work order
    team_id: str = ""  # who a miss is recorded against
    met_at: datetime | None = None
    # The inputs due_at and warn_at were derived from (deadlines.derive re-derives them exactly).
    target_seconds: float = 0.0
    warning_percent: int = 80
    calendar: str = "24X7"
    time_zone: str = ""
    not_after: datetime | None = None
    sla_policy_version: int = 0


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


@dataclass
class RunLineTestInput:
    fault_number: str


@dataclass
class RecordTicketInput:
    """Persist the ticket's current view and append these events to its timeline (idempotent)."""

    view: TicketView
    timeline: list[EventSpec] = field(default_factory=list)
    outbox: bool = False  # also queue the events for intake's relay to publish (the workflow does not)


@dataclass
class IvrNumberInput:
    """The fault number an IVR caller confirmed: checked for its exchange, an outage, an open ticket."""

    fault_number: str


@dataclass
class IvrTicketInput:
    """A report taken by the IVR: recorded as CreateTicket records one (channel IVR, handling AUTOMATIC)."""

    call_id: str
    caller_number: str
    fault_number: str
    contact: str
    symptom: str
    line_test: LineTestResult | None = None  # the test the call ran


@dataclass
class IvrRepeatInput:
    """An IVR call repeating the open ticket's fault (重复申告)."""

    call_id: str
    ticket_id: str
    fault_number: str
    caller_number: str
    received_at: datetime


@dataclass
class IvrMessageInput:
    """The caller's confirmed message for the repairman, added to the ticket as a supplement."""

    call_id: str
    ticket_id: str
    message: str


@dataclass
class MarkOutageResolvedInput:
    """Mark the outage resolved (the first resolution wins), so no report matches it any more."""

    outage_id: str
    resolution: str
    resolved_at: datetime


@dataclass
class ResolveLinkedInput:
    """Resolve the next ``limit`` tickets linked to the outage after ticket ``after``, in ticket-id order."""

    outage_id: str
    actor: str
    after: str = ""  # "" from the first
    limit: int = 50


@dataclass
class LinkedResolved:
    ticket_ids: list[str]  # the batch gone through, in id order: fewer than asked for means the last
