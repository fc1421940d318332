"""How services talk to the ticket workflow: its id, task queue, update names and results.

The updates' inputs are the domain's commands (:mod:`domain.commands`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.callbacks import CallbackRecord, PendingCallback
from domain.hotline import EscalationRecord
from domain.surveys import SurveyRecord
from domain.ticket import TicketDraft, TicketView
from domain.work_orders import WorkOrderRecord
from services.intake.contract import RecordTicketInput

TASK_QUEUE = "tickets"

PERSIST_CHANGE = "ticket.persist_change"
"""Local activity run by the workflow worker: one change's writes, each by its service's activities."""

# Update names, sent by the services.
AWAIT_RECORDED = "await_recorded"
DISPATCH_TICKET = "dispatch_ticket"
ACCEPT_WORK_ORDER = "accept_work_order"
RESOLVE_WORK_ORDER = "resolve_work_order"
RETURN_WORK_ORDER = "return_work_order"
REVIEW_WORK_ORDER = "review_work_order"
CHASE_WORK_ORDER = "chase_work_order"
RECORD_REPEAT = "record_repeat"
ADD_SUPPLEMENT = "add_supplement"
RESOLVE_AT_FIRST_CONTACT = "resolve_at_first_contact"
CANCEL_TICKET = "cancel_ticket"
RESOLVE_BY_OUTAGE = "resolve_by_outage"
RECORD_CALLBACK = "record_callback"
OPEN_ESCALATION = "open_escalation"
"""Update (domain.commands.OpenEscalationInput → EscalationResult): a case for the manager hotline."""
RESOLVE_ESCALATION = "resolve_escalation"
"""Update (domain.commands.ResolveEscalationInput → EscalationResult): a manager's resolution of one."""
SUBMIT_SURVEY = "submit_survey"
RECORD_INVESTIGATION = "record_investigation"

# ApplicationError types raised by update validators and handlers; the services' ticket client maps
# them back to desk.errors for the gRPC edge.
TRANSITION_NOT_ALLOWED = "TransitionNotAllowed"
WORK_ORDER_NOT_FOUND = "WorkOrderNotFound"
"""Its one detail is the work order id."""
ESCALATION_NOT_FOUND = "EscalationNotFound"
"""Its one detail is the escalation id."""
ALREADY_EXISTS = "AlreadyExists"
"""Another request made it already (a survey answered with another request id)."""
INVALID_ARGUMENT = "InvalidArgument"
"""Its details are the desk.errors.FieldViolation of each bad field (they arrive as JSON objects)."""


@dataclass
class PersistChangeInput:
    """What one change of a ticket stores: its work orders, callback and escalations, then the ticket's
    record."""

    record: RecordTicketInput
    work_orders: list[WorkOrderRecord] = field(default_factory=list)
    callback: CallbackRecord | None = None
    escalations: list[EscalationRecord] = field(default_factory=list)
    pending_callback: PendingCallback | None = None  # the ticket's place in survey's callback queue
    survey: SurveyRecord | None = None  # its survey round, when the change touched it


def ticket_workflow_id(ticket_id: str) -> str:
    return f"ticket/{ticket_id}"


@dataclass
class TicketWorkflowInput:
    draft: TicketDraft


@dataclass
class WorkOrderResult:
    work_order: WorkOrderRecord
    ticket: TicketView


@dataclass
class RecordCallbackResult:
    callback: CallbackRecord
    ticket: TicketView


@dataclass
class EscalationResult:
    escalation: EscalationRecord
    ticket: TicketView


@dataclass
class SurveyResult:
    survey: SurveyRecord
    ticket: TicketView


# --- resolving a known outage (workflows/outage.py): one workflow per outage, on TASK_QUEUE ---


def outage_workflow_id(outage_id: str) -> str:
    return f"outage/{outage_id}"


@dataclass
class ResolveOutageInput:
    outage_id: str
    resolution: str
    actor: str
    batch_size: int = 50  # tickets per activity
    batches_per_run: int = 100  # then the workflow continues as new, so its history stays short
    # Carried over when it continues as new:
    marked: bool = False  # the outage is marked resolved
    after: str = ""  # the last ticket gone through, in ticket-id order
    done: int = 0  # tickets gone through


@dataclass
class OutageResolved:
    outage_id: str
    tickets: int  # linked tickets gone through: each resolved, or no longer waiting for the outage


# --- IVR calls (workflows/ivr.py): one workflow per call, on TASK_QUEUE, driven by intake ---

IVR_CURRENT_TURN = "ivr_current_turn"
"""Update (sent with the start, so starting a call again answers too): the call's current turn."""
IVR_INPUT = "ivr_input"
"""Update: the caller's input for one turn; answers the next turn once the workflow has acted on it."""
IVR_TURN = "ivr_turn"
"""Query: the call's current turn (its last one once it has ended)."""


def ivr_workflow_id(call_id: str) -> str:
    return f"ivr/{call_id}"


@dataclass
class IvrCallInput:
    call_id: str  # the switch's id of the call
    caller_number: str = ""  # caller id, if the switch has it
    switch: str = ""  # the principal whose token started the call: recorded as ``via`` (desk/actors.py)


@dataclass
class IvrInput:
    """What the caller entered for ``turn``, or that nobody entered anything in time (``no_input``)."""

    turn: int
    text: str = ""
    no_input: bool = False


@dataclass
class IvrPromptView:
    code: str  # V1..V11, or one of the flow's further prompts (workflows.ivr_contract.Prompt)
    text: str  # Chinese, for speech synthesis
    gloss: str  # English
    params: dict[str, str]


AWAITING_NOTHING = "NONE"


@dataclass
class IvrTurnView:
    """One turn of a call: what to play, then what to wait for (or how the call ended)."""

    call_id: str
    turn: int
    prompts: list[IvrPromptView]
    awaiting: str  # KEY, ENTRY, RECORDING, or NONE (ended, or on hold)
    timeout_seconds: int = 0  # awaiting input: the no-input timeout; on hold: ask again after it
    ended: bool = False
    end_reason: str = ""  # workflows.ivr_contract.EndReason
    transfer_to_agent: bool = False
    to_main_menu: bool = False
    ticket_id: str = ""
    fault_number: str = ""

    @property
    def on_hold(self) -> bool:
        return self.awaiting == AWAITING_NOTHING and not self.ended
