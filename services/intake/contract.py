"""What other code may know of the intake service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from desk.events import EventSpec
from domain.line_tests import LineTestResult
from domain.ticket import TicketView

RUN_LINE_TEST = "intake.run_line_test"

# IVR self-service (ivr/activities.py); the results are the flow's events (workflows.ivr_contract).
IVR_CHECK_EXCHANGE = "intake.ivr_check_exchange"
IVR_CHECK_OUTAGE = "intake.ivr_check_outage"
IVR_CHECK_REPEAT = "intake.ivr_check_repeat"
IVR_CREATE_TICKET = "intake.ivr_create_ticket"
IVR_RECORD_REPEAT = "intake.ivr_record_repeat"
IVR_LEAVE_MESSAGE = "intake.ivr_leave_message"

# Resolving a known outage (outages/activities.py), driven by workflows/outage.py.
MARK_OUTAGE_RESOLVED = "intake.mark_outage_resolved"
RESOLVE_LINKED_TICKETS = "intake.resolve_linked_tickets"


@dataclass
class RunLineTestInput:
    fault_number: str


@dataclass
class RecordTicketInput:
    """Persist the ticket's current view and append these events to its timeline (idempotent)."""

    view: TicketView
    timeline: list[EventSpec] = field(default_factory=list)  # also queued for intake's relay to publish


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
    switch: str = ""  # the principal whose token started the call (IvrCallInput.switch)


@dataclass
class IvrRepeatInput:
    """An IVR call repeating the open ticket's fault (重复申告)."""

    call_id: str
    ticket_id: str
    fault_number: str
    caller_number: str
    received_at: datetime
    switch: str = ""  # the principal whose token started the call (IvrCallInput.switch)


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
