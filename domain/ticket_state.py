"""The ticket workflow's state and its transitions, as pure functions.

Every function here takes ``now`` (and, to stamp events, an id source) from its caller and does no
I/O, so the lifecycle rules are unit-testable without Temporal and deterministic inside it. Checks
raise the desk's errors (``TransitionNotAllowed``, ``NotFound``, ``InvalidArgument``); the workflow
turns them into ``ApplicationError`` at its edge. A transition mutates the state it is given and
returns the events it decided (``NewEvent``: not yet numbered); the workflow applies transitions to a
copy and keeps the copy only once it is persisted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from desk.errors import InvalidArgument, NotFound, TransitionNotAllowed
from desk.events import EventSpec, dispatch_subject, survey_subject, ticket_subject
from domain import deadlines, record_completeness
from domain.callbacks import CallbackRecord
from domain.commands import (
    AcceptWorkOrderInput,
    ChaseWorkOrderInput,
    RecordCallbackInput,
    ResolveWorkOrderInput,
    ReturnWorkOrderInput,
)
from domain.deadlines import Deadline, DeadlineKind
from domain.hotline import EscalationRecord
from domain.ticket import TicketDraft, TicketStatus, TicketView
from domain.work_orders import (
    DESK_TEAM_ID,
    DispatchKind,
    SlaPolicyRecord,
    WorkOrderRecord,
    WorkOrderStatus,
)

SYSTEM_ACTOR = "system"
ON_BEHALF_OF = "on_behalf_of"
"""The event fact naming the person an integrator acted for (desk/actors.py); the actor is the caller."""
VIA = "via"
"""The event fact naming the principal whose token drove the IVR (the actor ``ivr``): desk/actors.py."""

_OPEN_WORK_ORDER = (WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED)
_FINISHED = (TicketStatus.CLOSED, TicketStatus.CANCELLED, TicketStatus.ARCHIVED)


@dataclass
class NewEvent:
    """An event decided by a transition; ``stamp`` gives it id, sequence and time."""

    type: str
    subject: str
    actor: str
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketState:
    view: TicketView
    policy: SlaPolicyRecord | None = None  # the policy of the last dispatch (or the desk's before one)
    last_sequence: int = 0  # of the last event stamped
    escalations: list[EscalationRecord] = field(default_factory=list)  # the manager hotline's cases
    archive_at: datetime | None = None  # when a closed ticket whose after-care is done is archived

    @property
    def ticket_id(self) -> str:
        return self.view.draft.ticket_id

    @property
    def finished(self) -> bool:
        return self.view.status in _FINISHED

    def work_order(self, work_order_id: str) -> WorkOrderRecord:
        for work_order in self.view.work_orders:
            if work_order.work_order_id == work_order_id:
                return work_order
        raise NotFound("work order", work_order_id)

    def open_work_order(self) -> WorkOrderRecord | None:
        return next((w for w in self.view.work_orders if w.status in _OPEN_WORK_ORDER), None)

    def pending_work_order(self) -> WorkOrderRecord | None:
        """The work order waiting for review, if any: until it is decided, nothing else is dispatched."""
        return next((w for w in self.view.work_orders if w.status == WorkOrderStatus.PENDING_REVIEW), None)


def new_state(draft: TicketDraft, now: datetime) -> TicketState:
    return TicketState(view=TicketView(draft=draft, status=TicketStatus.OPEN, updated_at=now))


def stamp(
    state: TicketState, events: list[NewEvent], *, now: datetime, new_id: Callable[[], str]
) -> list[EventSpec]:
    """Number decided events in order (1, 2, … per ticket) and give each a unique id."""
    stamped = []
    for event in events:
        state.last_sequence += 1
        stamped.append(
            EventSpec(
                event_id=new_id(),
                type=event.type,
                subject=event.subject,
                ticket_id=state.ticket_id,
                sequence=state.last_sequence,
                occurred_at=now,
                actor=event.actor,
                reason=event.reason,
                payload=event.payload,
            )
        )
    return stamped


# --- checks (used by update validators, and again by handlers under the lock) ---


def check_dispatch(state: TicketState, team_id: str) -> None:
    if not team_id:
        raise InvalidArgument.one("team_id", "required")
    if state.view.status != TicketStatus.OPEN or state.open_work_order() or state.pending_work_order():
        raise TransitionNotAllowed(f"ticket is {state.view.status}, only an OPEN ticket can be dispatched")


def check_accept(state: TicketState, work_order_id: str) -> None:
    _check_work_order(state, work_order_id, (WorkOrderStatus.DISPATCHED,), "accepted")


def check_resolve(state: TicketState, work_order_id: str) -> None:
    _check_work_order(state, work_order_id, _OPEN_WORK_ORDER, "resolved")


def check_return(state: TicketState, work_order_id: str) -> None:
    _check_work_order(state, work_order_id, _OPEN_WORK_ORDER, "returned")


def check_chase(state: TicketState, work_order_id: str) -> None:
    _check_work_order(state, work_order_id, _OPEN_WORK_ORDER, "chased")


def check_callback(state: TicketState, request: RecordCallbackInput) -> None:
    if not request.reached and request.confirmed_resolved:
        raise InvalidArgument.one("confirmed_resolved", "a customer not reached cannot confirm the fix")
    if not request.reached and not request.termination_reason:
        raise InvalidArgument.one("termination_reason", "required when the customer was not reached")
    if state.view.status != TicketStatus.RESOLVED:
        raise TransitionNotAllowed(f"ticket is {state.view.status}, a callback needs a RESOLVED ticket")


def _check_work_order(
    state: TicketState, work_order_id: str, allowed: tuple[WorkOrderStatus, ...], verb: str
) -> None:
    work_order = state.work_order(work_order_id)
    if work_order.status not in allowed:
        raise TransitionNotAllowed(f"work order {work_order_id} is {work_order.status} and cannot be {verb}")


# --- transitions ---


def opened(state: TicketState) -> list[NewEvent]:
    draft = state.view.draft
    actor = draft.agent_id or SYSTEM_ACTOR
    facts: dict[str, Any] = {"channel": draft.channel, "kind": draft.kind, "category": draft.category}
    if draft.on_behalf_of:  # only when set: a history recorded before the field replays unchanged
        facts[ON_BEHALF_OF] = draft.on_behalf_of
    if draft.via:
        facts[VIA] = draft.via
    facts |= {"priority": draft.priority, "customer_tier": draft.customer_tier}
    # For the statistics: manual or automatic, and the record's completeness (field names, no values).
    facts |= {
        "handling": str(draft.handling),
        "record_fields_expected": list(record_completeness.expected_fields(draft)),
        "record_fields_filled": list(record_completeness.filled_fields(draft)),
    }
    return [
        NewEvent("ticket.created", ticket_subject("created"), actor, draft.summary, facts),
        NewEvent("ticket.acknowledged", ticket_subject("acknowledged"), actor, "report accepted", facts),
    ]


def start_resolution_clock(
    state: TicketState, policy: SlaPolicyRecord, *, since: datetime, capped: bool
) -> None:
    """Add a resolution deadline; the first is shortened by the customer's expected time (``capped``)."""
    state.policy = policy
    not_after = state.view.draft.expected_by if capped else None
    resolution = _deadline(
        DeadlineKind.RESOLUTION, policy, policy.resolution_seconds, since, not_after=not_after
    )
    state.view.deadlines.append(resolution)


def dispatch(
    state: TicketState,
    *,
    team_id: str,
    policy: SlaPolicyRecord,
    now: datetime,
    actor: str,
    reason: str,
    kind: DispatchKind | None = None,
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    """A new work order to ``team_id``, with its response deadline."""
    work_order = new_work_order(state, team_id=team_id, now=now, actor=actor, reason=reason, kind=kind)
    state.view.work_orders.append(work_order)
    return work_order, send_to_team(state, work_order, policy=policy, now=now, actor=actor, reason=reason)


def new_work_order(
    state: TicketState,
    *,
    team_id: str,
    now: datetime,
    actor: str,
    reason: str,
    kind: DispatchKind | None = None,
) -> WorkOrderRecord:
    """A work order proposed to ``team_id``; its ``kind`` says why (by default, from the one before it)."""
    sequence = len(state.view.work_orders) + 1
    if kind == DispatchKind.SECOND_DISPATCH:
        state.view.second_dispatches += 1
    return WorkOrderRecord(
        work_order_id=f"{state.ticket_id}-W{sequence}",
        ticket_id=state.ticket_id,
        team_id=team_id,
        status=WorkOrderStatus.PENDING_REVIEW,
        sequence=sequence,
        created_at=now,
        dispatch_reason=reason,
        dispatched_by=actor,
        dispatch_kind=kind or _dispatch_kind_after(state.view.work_orders),
    )


def _dispatch_kind_after(earlier: list[WorkOrderRecord]) -> DispatchKind:
    last = next((w for w in reversed(earlier) if w.status != WorkOrderStatus.CANCELLED), None)
    if last is None:
        return DispatchKind.INITIAL
    if last.status == WorkOrderStatus.RETURNED:
        return DispatchKind.AFTER_RETURN
    if last.status == WorkOrderStatus.REJECTED:
        return DispatchKind.AFTER_REJECTION
    return last.dispatch_kind


def send_to_team(
    state: TicketState,
    work_order: WorkOrderRecord,
    *,
    policy: SlaPolicyRecord,
    now: datetime,
    actor: str,
    reason: str,
) -> list[NewEvent]:
    """The team gets the work order now: its response deadline starts under the team's policy."""
    work_order.status, work_order.sla_policy_version = WorkOrderStatus.DISPATCHED, policy.version
    response = _deadline(DeadlineKind.RESPONSE, policy, policy.response_seconds, now, work_order=work_order)
    state.policy = policy
    state.view.deadlines.append(response)
    state.view.status = TicketStatus.DISPATCHED
    state.view.assigned_team_id = work_order.team_id
    # Who proposed it: the actor is the reviewer when it was reviewed (the quality ledger's DISPATCH item).
    facts = _facts(work_order) | {
        "response_due_at": response.due_at.isoformat(),
        "dispatched_by": work_order.dispatched_by,
    }
    return [_dispatch_event(work_order, "created", actor, reason, facts)]


def accept(
    state: TicketState, request: AcceptWorkOrderInput, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    check_accept(state, request.work_order_id)
    work_order = state.work_order(request.work_order_id)
    _accept(state, work_order, request.engineer, now)
    state.view.status = TicketStatus.IN_PROGRESS
    facts = _facts(work_order) | {"engineer": request.engineer}
    return work_order, [_dispatch_event(work_order, "accepted", request.actor, "", facts)]


def resolve(
    state: TicketState, request: ResolveWorkOrderInput, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    """Resolve the work order (accepting it first if need be) and start the callback clock."""
    check_resolve(state, request.work_order_id)
    work_order = state.work_order(request.work_order_id)
    if work_order.status == WorkOrderStatus.DISPATCHED:
        _accept(state, work_order, request.engineer, now)
    work_order.status, work_order.resolved_at = WorkOrderStatus.RESOLVED, now
    work_order.cause, work_order.action, work_order.onsite = request.cause, request.action, request.onsite
    work_order.engineer = request.engineer or work_order.engineer
    meet_deadlines(state, now, DeadlineKind.RESOLUTION)
    policy = _policy(state)
    callback = _deadline(DeadlineKind.CALLBACK, policy, policy.callback_seconds, now, work_order=work_order)
    callback.team_id = DESK_TEAM_ID
    state.view.deadlines.append(callback)
    state.view.status = TicketStatus.RESOLVED
    facts = _facts(work_order) | {"cause": request.cause, "action": request.action}
    return work_order, [
        _dispatch_event(work_order, "resolved", request.actor, request.action, facts),
        NewEvent(
            "ticket.resolved", ticket_subject("resolved"), request.actor, request.cause, _facts(work_order)
        ),
    ]


def return_work_order(
    state: TicketState, request: ReturnWorkOrderInput, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    """The team sends the work order back (退单): the ticket waits OPEN at the desk to be dispatched again."""
    check_return(state, request.work_order_id)
    work_order = state.work_order(request.work_order_id)
    work_order.status, work_order.returned_at = WorkOrderStatus.RETURNED, now
    work_order.return_reason = request.reason
    meet_deadlines(state, now, DeadlineKind.RESPONSE, work_order.work_order_id)
    state.view.status, state.view.assigned_team_id = TicketStatus.OPEN, ""
    return work_order, [
        _dispatch_event(work_order, "returned", request.actor, request.reason, _facts(work_order))
    ]


def record_callback(
    state: TicketState, request: RecordCallbackInput, now: datetime
) -> tuple[CallbackRecord, list[NewEvent]]:
    """Closed when confirmed; OPEN (for the caller to dispatch again) when not fixed; else unchanged."""
    check_callback(state, request)
    if request.reached:
        meet_deadlines(state, now, DeadlineKind.CALLBACK)
        state.view.status = TicketStatus.CLOSED if request.confirmed_resolved else TicketStatus.OPEN
    callback = CallbackRecord(
        ticket_id=state.ticket_id,
        reached=request.reached,
        confirmed_resolved=request.confirmed_resolved,
        termination_reason=request.termination_reason,
        note=request.note,
        surveyor=request.actor,
        recorded_at=now,
        ticket_status=state.view.status,
    )
    outcome = "confirmed" if request.confirmed_resolved else "not_fixed" if request.reached else "not_reached"
    facts = {"reached": request.reached, "confirmed_resolved": request.confirmed_resolved, "outcome": outcome}
    reason = request.termination_reason or request.note
    events = [
        NewEvent(
            "survey.callback_recorded", survey_subject("callback_recorded"), request.actor, reason, facts
        )
    ]
    if state.view.status == TicketStatus.CLOSED:
        events.append(NewEvent("ticket.closed", ticket_subject("closed"), request.actor, request.note, {}))
    return callback, events


def chase(
    state: TicketState, request: ChaseWorkOrderInput, now: datetime
) -> tuple[WorkOrderRecord, list[NewEvent]]:
    """The desk chases the team (催单): one more on the work order's count, and the team is told."""
    check_chase(state, request.work_order_id)
    work_order = state.work_order(request.work_order_id)
    work_order.chase_count += 1
    work_order.last_chased_at = now
    facts = _facts(work_order) | {"chase_count": work_order.chase_count}
    return work_order, [_dispatch_event(work_order, "chased", request.actor, request.note, facts)]


def last_resolving_team(state: TicketState) -> str:
    resolved = [w for w in state.view.work_orders if w.status == WorkOrderStatus.RESOLVED]
    return resolved[-1].team_id if resolved else ""


# --- alarms ---


def chased(state: TicketState, chased_work_order: WorkOrderRecord, note: str) -> list[NewEvent]:
    """Dispatch chased a work order for a missed deadline: keep its count, tell the team."""
    work_order = state.work_order(chased_work_order.work_order_id)
    work_order.chase_count = chased_work_order.chase_count
    work_order.last_chased_at = chased_work_order.last_chased_at
    facts = _facts(work_order) | {"chase_count": work_order.chase_count}
    return [_dispatch_event(work_order, "chased", SYSTEM_ACTOR, note, facts)]


# --- helpers ---


def _deadline(
    kind: DeadlineKind,
    policy: SlaPolicyRecord,
    target_seconds: float,
    since: datetime,
    *,
    not_after: datetime | None = None,
    work_order: WorkOrderRecord | None = None,
) -> Deadline:
    return deadlines.new_deadline(
        kind,
        started_at=since,
        target_seconds=target_seconds,
        warning_percent=policy.warning_percent,
        calendar=policy.calendar or deadlines.ROUND_THE_CLOCK.name,
        time_zone=policy.time_zone,
        not_after=not_after,
        work_order_id=work_order.work_order_id if work_order else "",
        team_id=work_order.team_id if work_order else "",
        sla_policy_version=policy.version,
    )


def _accept(state: TicketState, work_order: WorkOrderRecord, engineer: str, now: datetime) -> None:
    work_order.status, work_order.accepted_at, work_order.engineer = WorkOrderStatus.ACCEPTED, now, engineer
    meet_deadlines(state, now, DeadlineKind.RESPONSE, work_order.work_order_id)


def meet_deadlines(
    state: TicketState, now: datetime, kind: DeadlineKind, work_order_id: str | None = None
) -> None:
    """Meet the ticket's deadlines of ``kind`` (of one work order, if given)."""
    for deadline in state.view.deadlines:
        if deadline.kind == kind and work_order_id in (None, deadline.work_order_id):
            deadlines.meet(deadline, now)


def _policy(state: TicketState) -> SlaPolicyRecord:
    if state.policy is None:  # cannot happen: every work order was dispatched under a policy
        raise TransitionNotAllowed("ticket has no SLA policy yet")
    return state.policy


def _facts(work_order: WorkOrderRecord) -> dict[str, Any]:
    return {
        "team_id": work_order.team_id,
        "work_order_id": work_order.work_order_id,
        "sequence": work_order.sequence,
        "dispatch_kind": str(work_order.dispatch_kind),
    }


def _dispatch_event(
    work_order: WorkOrderRecord, verb: str, actor: str, reason: str, facts: dict[str, Any]
) -> NewEvent:
    return NewEvent(f"dispatch.{verb}", dispatch_subject(work_order.team_id, verb), actor, reason, facts)
