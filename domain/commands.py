"""What callers ask of a ticket: the inputs of the ticket workflow's updates, decided by the transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.hotline import CompensationRule
from domain.ticket import Reporter
from domain.work_orders import OnsiteReport


@dataclass
class DispatchTicketInput:
    team_id: str
    reason: str
    actor: str
    needs_review: bool = False  # the dispatcher may not dispatch alone (a junior agent)


@dataclass
class ReviewWorkOrderInput:
    work_order_id: str
    approve: bool
    team_id: str  # approve to this team instead of the proposed one; "" keeps it
    reason: str
    actor: str


@dataclass
class ChaseWorkOrderInput:
    work_order_id: str
    note: str
    actor: str


@dataclass
class AcceptWorkOrderInput:
    work_order_id: str
    engineer: str
    actor: str


@dataclass
class ResolveWorkOrderInput:
    work_order_id: str
    cause: str
    action: str
    engineer: str
    actor: str
    onsite: OnsiteReport | None = None


@dataclass
class ReturnWorkOrderInput:
    work_order_id: str
    reason: str
    actor: str


@dataclass
class RecordCallbackInput:
    reached: bool
    confirmed_resolved: bool
    termination_reason: str
    note: str
    actor: str
    request_id: str = ""  # the caller's idempotency key: a retry with it counts once


@dataclass
class RepeatReport:
    """A further report of a fault the ticket already holds (重复申告), kept on its timeline."""

    request_id: str
    channel: str
    reporter: Reporter
    summary: str
    received_at: datetime
    description: str = ""
    agent_id: str = ""


@dataclass
class RecordRepeatInput:
    report: RepeatReport
    actor: str
    on_behalf_of: str = ""  # the person an integrator reported it for (desk/actors.py)
    via: str = ""  # the principal whose token drove the IVR call that reported it


@dataclass
class AddSupplementInput:
    text: str
    actor: str


@dataclass
class ResolveAtFirstContactInput:
    resolution: str
    actor: str


@dataclass
class CancelTicketInput:
    reason: str
    actor: str


@dataclass
class ResolveByOutageInput:
    outage_id: str
    resolution: str
    actor: str


@dataclass
class OpenEscalationInput:
    """A case for the manager hotline (经理热线), opened by a caller: a domain.hotline.OPENED_BY_THE_DESK
    source. The survey service sends DISPUTED_INVESTIGATION when a customer disputes NOT_OURS."""

    source: str
    note: str
    actor: str
    request_id: str = ""  # the same one again answers the escalation it opened


@dataclass
class ResolveEscalationInput:
    escalation_id: str
    outcome: str  # a domain.hotline.EscalationOutcome
    note: str
    actor: str
    request_id: str  # resolving again with it answers the same; with another, refused
    responsibility: str = ""  # a domain.hotline.Responsibility; required to compensate
    rule: CompensationRule | None = None  # the rule in force, read by the caller; required to compensate
    compensation_cents: int | None = None  # the manager's own amount, within the rule's cap


@dataclass
class SubmitSurveyInput:
    rating: str  # a domain.surveys.Rating
    comment: str
    actor: str
    request_id: str = ""  # a retry with it answers the same; another id finds the survey answered


@dataclass
class RecordInvestigationInput:
    responsibility: str  # a domain.surveys.Responsibility
    finding: str
    actor: str
    staff_id: str = ""  # who at the desk is held responsible (SERVICE_DESK)
    disputed: bool = False  # the customer disputes a NOT_OURS finding
    request_id: str = ""
