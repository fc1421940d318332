"""The statistics projection: one domain event → changes to a ticket's facts and to the roll-up counters.

Pure: :func:`project` takes the envelope, the ticket's facts as they are (``None`` before its
``ticket.created``) and the desk's time zone, changes the facts in place and adds the counters the
event moves to a :class:`Changes`. services/stats/read_model.py loads the facts, projects a batch
and writes it in one transaction. docs/statistics.md (the read model) states each rule; in short:

- Every counter lands in exactly one roll-up row: ``(day, team, channel, kind, tier, handling,
  stage)``. The ticket counters (tickets, first-contact resolved, record completeness) are on the
  ticket's created day and its key *now*; when its stage or team changes they move from the old key
  to the new one, and so does its place in the backlog (closed on the old key, opened on the new, on
  the day of the change). Event counters are on the event's desk-local day, with the team the event
  names (the work order's, the deadline's holder) or else the ticket's.
- Stage (where the report was handled; seed 002 七.3): the furthest the ticket reached of IVR <
  JUNIOR_AGENT < SENIOR_AGENT < OPS_TEAM < MANAGER_HOTLINE. A self-service (AUTOMATIC) report starts
  at IVR; an agent's at JUNIOR_AGENT, a VIP's at SENIOR_AGENT (seed 002 二.3: a VIP goes straight to a
  senior agent); a review moves it to SENIOR_AGENT, a dispatch to OPS_TEAM, a manager-hotline case
  to MANAGER_HOTLINE. A ticket resolved at first contact was handled at the desk: a work order
  withdrawn before any team took it up does not make it the ops team's (its stage goes back to the
  furthest reached at the desk, its team to none).
- SLA: each deadline, by key (``RESPONSE:<work order>``, ``RESOLUTION:<round>``,
  ``CALLBACK:<round>``, ``INVESTIGATION:<survey round>``, ``KNOWLEDGE_ENTRY:1``), is opened by the
  event that starts it and counted once: missed at its ``sla.overdue``, met at the event that meets
  it while still open, neither when cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from google.protobuf import struct_pb2

from helpdesk.v1 import events_pb2
from services.stats.rollups import ESCALATION_SOURCES, RATINGS, STAGES, bucket_of

DESK_TEAM_ID = "service-desk"  # domain.work_orders.DESK_TEAM_ID: who holds the desk's own deadlines
SYSTEM_ACTORS = ("", "system")
IVR_ACTOR = "ivr"  # services.intake.ivr.activities.IVR_ACTOR: who records what the IVR takes

OPEN, MET, MISSED, CANCELLED = "OPEN", "MET", "MISSED", "CANCELLED"

# Ticket counters: on the created day, moved with the ticket when its key changes.
TICKET_COUNTERS = (
    "tickets",
    "first_contact_resolved",
    "record_fields_filled",
    "record_fields_total",
    "complete_records",
)


@dataclass
class TicketFacts:
    """One row of ``stats.tickets``: what later events of the ticket need to be counted."""

    ticket_id: str
    created_at: datetime
    created_day: date
    channel: str = ""
    kind: str = ""
    customer_tier: str = ""
    category: str = ""
    priority: str = ""
    handling: str = ""
    stage: str = ""
    team_id: str = ""
    agent_id: str = ""
    first_contact_resolved: bool = False
    record_fields_filled: int = 0
    record_fields_total: int = 0
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    survey_rating: str = ""
    resolutions: int = 0
    survey_round: int = 0
    in_backlog: bool = False
    desk_stage: str = ""  # the furthest stage at the desk, where a first-contact resolution was handled
    deadlines: dict[str, str] = field(default_factory=dict)

    @property
    def complete_record(self) -> bool:
        return self.record_fields_total > 0 and self.record_fields_filled == self.record_fields_total


@dataclass(frozen=True, order=True)
class DailyKey:
    day: date
    team_id: str
    channel: str
    kind: str
    customer_tier: str
    handling: str
    stage: str


@dataclass(frozen=True, order=True)
class DurationKey:
    day: date
    team_id: str
    channel: str
    kind: str
    customer_tier: str
    measure: str  # RESPOND, RESOLVE
    bucket: int


@dataclass
class Changes:
    """Counter increments (and decrements, for a move) of a batch of events, summed per row."""

    daily: defaultdict[DailyKey, defaultdict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    durations: defaultdict[DurationKey, int] = field(default_factory=lambda: defaultdict(int))
    agents: defaultdict[tuple[date, str], defaultdict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )

    def add(self, key: DailyKey, counter: str, amount: float = 1) -> None:
        self.daily[key][counter] += amount

    def agent(self, day: date, agent_id: str, counter: str) -> None:
        if agent_id not in SYSTEM_ACTORS:
            self.agents[(day, agent_id)][counter] += 1

    def nonzero_daily(self) -> dict[DailyKey, dict[str, float]]:
        """The rows with any change (a move back and forth within one batch cancels out)."""
        rows = {key: {c: v for c, v in counters.items() if v} for key, counters in self.daily.items()}
        return {key: counters for key, counters in sorted(rows.items()) if counters}


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The desk's local day of an instant."""
    return moment.astimezone(zone).date()


def payload_of(envelope: events_pb2.EventEnvelope) -> dict[str, Any]:
    """The payload as plain Python values (numbers arrive as floats)."""
    plain = _plain(envelope.payload)
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any) -> Any:
    # Faster than json_format.MessageToDict, which the ingest target cannot afford per event.
    if isinstance(value, struct_pb2.Struct):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(item) for item in value]
    return value


def occurred_at(envelope: events_pb2.EventEnvelope) -> datetime:
    return envelope.occurred_at.ToDatetime(tzinfo=UTC)


def ticket_of(envelope: events_pb2.EventEnvelope) -> str:
    """The ticket an event is about: the envelope's, or (knowledge events) the payload's case."""
    if envelope.ticket_id:
        return str(envelope.ticket_id)
    case = envelope.payload.fields.get("ticket_id")
    return str(case.string_value) if case is not None else ""


def _enum_name(value: Any, prefix: str) -> str:
    """PHONE from PHONE or CHANNEL_PHONE (events carry the names without prefix; tolerate both)."""
    text = str(value or "")
    return text[len(prefix) :] if text.startswith(prefix) else text


def first_stage(handling: str, customer_tier: str) -> str:
    """Where a new report is first handled (the stage rule's start)."""
    if handling == "AUTOMATIC":
        return "IVR"
    return "SENIOR_AGENT" if customer_tier == "VIP" else "JUNIOR_AGENT"


def further_stage(current: str, reached: str) -> str:
    """The furthest of two stages (an unknown one counts as the first)."""
    rank = {stage: index for index, stage in enumerate(STAGES)}
    return reached if rank.get(reached, 0) > rank.get(current, -1) else current


@dataclass
class _Event:
    """One event being projected: what every rule needs at hand."""

    envelope: events_pb2.EventEnvelope
    payload: dict[str, Any]
    at: datetime
    day: date
    changes: Changes

    @property
    def type(self) -> str:
        return str(self.envelope.type)

    @property
    def actor(self) -> str:
        return str(self.envelope.actor)

    def text(self, key: str) -> str:
        return str(self.payload.get(key) or "")


def project(
    envelope: events_pb2.EventEnvelope, facts: TicketFacts | None, zone: tzinfo, changes: Changes
) -> TicketFacts | None:
    """Add the event's counters to ``changes``; return the ticket's facts after it (``facts`` changed
    in place, or new ones for ``ticket.created``), or None when the event has no ticket."""
    at = occurred_at(envelope)
    event = _Event(envelope, payload_of(envelope), at, local_day(at, zone), changes)
    ticket_id = ticket_of(envelope)
    if event.type == "ticket.created":
        return _created_once(event, ticket_id, facts)
    rule = _RULES.get(event.type)
    if rule is None or not ticket_id:
        return facts  # counts nothing (acknowledged, line_tested, archived, quality.* …)
    if facts is None:
        facts = _unknown_ticket(event, ticket_id)
    rule(event, facts)
    return facts


# --- keys and moves ---


def _key(facts: TicketFacts, day: date, team_id: str | None = None) -> DailyKey:
    team = facts.team_id if team_id is None else team_id
    return DailyKey(day, team, facts.channel, facts.kind, facts.customer_tier, facts.handling, facts.stage)


def _ticket_counters(facts: TicketFacts) -> dict[str, int]:
    return {
        "tickets": 1,
        "first_contact_resolved": int(facts.first_contact_resolved),
        "record_fields_filled": facts.record_fields_filled,
        "record_fields_total": facts.record_fields_total,
        "complete_records": int(facts.complete_record),
    }


def _move(event: _Event, facts: TicketFacts, *, stage: str | None = None, team_id: str | None = None) -> None:
    """Change the ticket's stage or team, moving its counters from the old key to the new one."""
    moved = replace(
        facts,
        stage=facts.stage if stage is None else stage,
        team_id=facts.team_id if team_id is None else team_id,
    )
    if (moved.stage, moved.team_id) == (facts.stage, facts.team_id):
        return
    if not facts.ticket_id or facts.created_day == date.min:
        facts.stage, facts.team_id = moved.stage, moved.team_id
        return
    old, new = _key(facts, facts.created_day), _key(moved, facts.created_day)
    for counter, amount in _ticket_counters(facts).items():
        event.changes.add(old, counter, -amount)
        event.changes.add(new, counter, amount)
    if facts.in_backlog:
        event.changes.add(_key(facts, event.day), "closed")
        event.changes.add(_key(moved, event.day), "opened")
    facts.stage, facts.team_id = moved.stage, moved.team_id


def _reach(event: _Event, facts: TicketFacts, stage: str) -> None:
    if stage != "OPS_TEAM":
        facts.desk_stage = further_stage(facts.desk_stage, stage)
    _move(event, facts, stage=further_stage(facts.stage, stage))


def _into_backlog(event: _Event, facts: TicketFacts) -> None:
    if not facts.in_backlog:
        facts.in_backlog = True
        event.changes.add(_key(facts, event.day), "opened")


def _out_of_backlog(event: _Event, facts: TicketFacts) -> None:
    if facts.in_backlog:
        facts.in_backlog = False
        event.changes.add(_key(facts, event.day), "closed")


# --- deadlines ---


def _open_deadline(facts: TicketFacts, key: str) -> None:
    facts.deadlines.setdefault(key, OPEN)


def _meet(event: _Event, facts: TicketFacts, key: str, team_id: str) -> None:
    if facts.deadlines.get(key) == OPEN:
        facts.deadlines[key] = MET
        kind = key.split(":", 1)[0].lower()
        event.changes.add(_key(facts, event.day, team_id), f"sla_{kind}_met")


def _deadline_key(event: _Event, facts: TicketFacts, kind: str) -> str:
    if kind == "RESPONSE":
        return f"RESPONSE:{event.text('work_order_id')}"
    if kind == "RESOLUTION":
        return f"RESOLUTION:{facts.resolutions + 1}"
    if kind == "CALLBACK":
        return f"CALLBACK:{facts.resolutions}"
    if kind == "INVESTIGATION":
        return f"INVESTIGATION:{facts.survey_round}"
    return f"{kind}:1"


# --- rules, one per event type ---


def _created(event: _Event, ticket_id: str) -> TicketFacts:
    p = event.payload
    channel = _enum_name(p.get("channel"), "CHANNEL_")
    handling = event.text("handling") or (
        "AUTOMATIC" if channel == "IVR" and event.actor in (*SYSTEM_ACTORS, IVR_ACTOR) else "MANUAL"
    )
    tier = _enum_name(p.get("customer_tier"), "CUSTOMER_TIER_")
    expected = list(p.get("record_fields_expected") or [])
    filled = [f for f in p.get("record_fields_filled") or [] if f in expected]
    counted = handling == "MANUAL"  # completeness grades the agents' records, not the IVR's
    facts = TicketFacts(
        ticket_id=ticket_id,
        created_at=event.at,
        created_day=event.day,
        channel=channel,
        kind=_enum_name(p.get("kind"), "TICKET_KIND_"),
        customer_tier=tier,
        category=event.text("category"),
        priority=_enum_name(p.get("priority"), "PRIORITY_"),
        handling=handling,
        stage=first_stage(handling, tier),
        desk_stage=first_stage(handling, tier),
        agent_id="" if handling == "AUTOMATIC" or event.actor in SYSTEM_ACTORS else event.actor,
        record_fields_filled=len(filled) if counted else 0,
        record_fields_total=len(expected) if counted else 0,
        deadlines={"RESOLUTION:1": OPEN},
    )
    for counter, amount in _ticket_counters(facts).items():
        event.changes.add(_key(facts, event.day), counter, amount)
    _into_backlog(event, facts)
    event.changes.agent(event.day, facts.agent_id, "recorded")
    return facts


def _unknown_ticket(event: _Event, ticket_id: str) -> TicketFacts:
    """Facts for an event whose ticket.created was not seen yet: no ticket counters until it is."""
    return TicketFacts(ticket_id=ticket_id, created_at=event.at, created_day=date.min)


def _created_once(event: _Event, ticket_id: str, facts: TicketFacts | None) -> TicketFacts:
    """The ticket counted once; a created event after others of its ticket keeps what they recorded."""
    if facts is not None and facts.created_day != date.min:
        return facts
    created = _created(event, ticket_id)
    if facts is not None:
        created.deadlines |= facts.deadlines
        created.resolutions, created.survey_round = facts.resolutions, facts.survey_round
    return created


def _first_response(event: _Event, facts: TicketFacts, team_id: str) -> None:
    if facts.first_response_at is None and facts.created_day != date.min:
        facts.first_response_at = event.at
        _duration(event, facts, team_id, "RESPOND", "response")


def _duration(event: _Event, facts: TicketFacts, team_id: str, measure: str, column: str) -> None:
    # Whole seconds: sums of whole numbers are exact in any order, so a rebuild (batched otherwise)
    # gives the same sums to the last digit; a KPI's mean needs no finer grain.
    seconds = float(max(round((event.at - facts.created_at).total_seconds()), 0))
    key = _key(facts, event.day, team_id)
    event.changes.add(key, f"{column}_seconds_sum", seconds)
    event.changes.add(key, f"{column}_count")
    bucket = DurationKey(
        event.day, key.team_id, key.channel, key.kind, key.customer_tier, measure, bucket_of(seconds)
    )
    event.changes.durations[bucket] += 1


def _dispatch_created(event: _Event, facts: TicketFacts) -> None:
    team = event.text("team_id")
    _move(event, facts, stage=further_stage(facts.stage, "OPS_TEAM"), team_id=team)  # past the desk
    _into_backlog(event, facts)  # a closed ticket dispatched again (二次派单) is open again
    key = _key(facts, event.day, team)
    event.changes.add(key, "dispatches")
    if event.text("dispatch_kind") == "SECOND_DISPATCH":
        event.changes.add(key, "second_dispatches")
        _open_deadline(facts, _deadline_key(event, facts, "RESOLUTION"))  # the workflow starts a new one
    event.changes.agent(event.day, event.text("dispatched_by"), "dispatches")
    _open_deadline(facts, _deadline_key(event, facts, "RESPONSE"))


def _dispatch_responded(event: _Event, facts: TicketFacts) -> None:
    """accepted, returned, resolved: the work order's response deadline is met."""
    team = event.text("team_id")
    _meet(event, facts, _deadline_key(event, facts, "RESPONSE"), team)
    key = _key(facts, event.day, team)
    if event.type == "dispatch.accepted":
        _first_response(event, facts, team)
    elif event.type == "dispatch.returned":
        event.changes.add(key, "returns")
    elif event.type == "dispatch.resolved":
        _first_response(event, facts, team)
        event.changes.add(key, "dispatches_answered")


def _dispatch_chased(event: _Event, facts: TicketFacts) -> None:
    event.changes.add(_key(facts, event.day, event.text("team_id")), "chases")


def _dispatch_cancelled(event: _Event, facts: TicketFacts) -> None:
    key = _deadline_key(event, facts, "RESPONSE")
    if facts.deadlines.get(key) == OPEN:
        facts.deadlines[key] = CANCELLED


def _sla_alarm(event: _Event, facts: TicketFacts) -> None:
    kind = event.text("deadline")
    # The holder the alarm names; a knowledge case's (no team in its payload) is the desk's.
    team = event.text("team_id") or (DESK_TEAM_ID if kind == "KNOWLEDGE_ENTRY" else facts.team_id)
    key = _key(facts, event.day, team)
    if event.type == "sla.warning":
        event.changes.add(key, "warnings")
        return
    event.changes.add(key, "overdue_alarms")
    deadline = _deadline_key(event, facts, kind)
    if facts.deadlines.get(deadline) != MISSED and kind:
        facts.deadlines[deadline] = MISSED
        event.changes.add(key, f"sla_{kind.lower()}_missed")


def _review(event: _Event, facts: TicketFacts) -> None:
    _reach(event, facts, "SENIOR_AGENT")
    if event.type in ("review.approved", "review.rejected"):
        event.changes.add(_key(facts, event.day), "reviews")
        event.changes.agent(event.day, event.actor, "reviews")


def _ticket_resolved(event: _Event, facts: TicketFacts) -> None:
    team = event.text("team_id")
    key = _key(facts, event.day, team or facts.team_id)
    event.changes.add(key, "resolved")
    if event.payload.get("first_contact") and not facts.first_contact_resolved:
        # Handled at the desk: a work order withdrawn before any team took it up is not the team's.
        if facts.stage == "OPS_TEAM":
            _move(event, facts, stage=facts.desk_stage, team_id="")
        facts.first_contact_resolved = True
        if facts.created_day != date.min:
            event.changes.add(_key(facts, facts.created_day), "first_contact_resolved")
        event.changes.agent(event.day, event.actor, "first_contact_resolved")
    _meet(event, facts, _deadline_key(event, facts, "RESOLUTION"), team or facts.team_id)
    _first_response(event, facts, team or facts.team_id)
    if facts.resolved_at is None and facts.created_day != date.min:
        facts.resolved_at = event.at
        _duration(event, facts, team or facts.team_id, "RESOLVE", "resolve")
    _out_of_backlog(event, facts)
    facts.resolutions += 1
    _open_deadline(facts, _deadline_key(event, facts, "CALLBACK"))


def _ticket_cancelled(event: _Event, facts: TicketFacts) -> None:
    facts.cancelled_at = event.at
    event.changes.add(_key(facts, event.day), "cancelled")
    _out_of_backlog(event, facts)
    for key, state in facts.deadlines.items():
        if state == OPEN:
            facts.deadlines[key] = CANCELLED


def _ticket_closed(event: _Event, facts: TicketFacts) -> None:
    facts.closed_at = facts.closed_at or event.at


def _ticket_escalated(event: _Event, facts: TicketFacts) -> None:
    _reach(event, facts, "MANAGER_HOTLINE")


def _callback_recorded(event: _Event, facts: TicketFacts) -> None:
    event.changes.add(_key(facts, event.day, DESK_TEAM_ID), "callbacks")
    event.changes.agent(event.day, event.actor, "callbacks")
    if event.payload.get("reached"):
        _meet(event, facts, _deadline_key(event, facts, "CALLBACK"), DESK_TEAM_ID)
    if event.text("outcome") == "not_fixed":  # back at the desk, to be dispatched again
        _into_backlog(event, facts)
        _open_deadline(facts, _deadline_key(event, facts, "RESOLUTION"))


def _survey_submitted(event: _Event, facts: TicketFacts) -> None:
    rating = _enum_name(event.payload.get("rating"), "SURVEY_RATING_")
    facts.survey_round = int(event.payload.get("round") or facts.survey_round + 1)
    # On the ticket's team, as GetKpis' team filter means it: a team's satisfaction is its tickets'.
    # (The desk holds the callback and investigation deadlines; the customer's answer is about the ticket.)
    key = _key(facts, event.day)
    event.changes.add(key, "surveys_answered")
    if rating in RATINGS:
        facts.survey_rating = rating
        event.changes.add(key, f"rating_{rating.lower()}")
    event.changes.agent(event.day, event.actor, "surveys")
    if event.payload.get("investigation_due_at"):
        _open_deadline(facts, _deadline_key(event, facts, "INVESTIGATION"))


def _survey_expired(event: _Event, facts: TicketFacts) -> None:
    facts.survey_round = int(event.payload.get("round") or facts.survey_round)
    event.changes.add(_key(facts, event.day), "surveys_expired")


def _survey_investigated(event: _Event, facts: TicketFacts) -> None:
    _meet(event, facts, _deadline_key(event, facts, "INVESTIGATION"), DESK_TEAM_ID)


def _escalation_opened(event: _Event, facts: TicketFacts) -> None:
    _reach(event, facts, "MANAGER_HOTLINE")
    source = event.text("source")
    if source in ESCALATION_SOURCES:
        event.changes.add(_key(facts, event.day), f"escalations_{source.lower()}")


def _escalation_resolved(event: _Event, facts: TicketFacts) -> None:
    event.changes.add(_key(facts, event.day), "escalations_resolved")


def _knowledge_proposed(event: _Event, facts: TicketFacts) -> None:
    _open_deadline(facts, "KNOWLEDGE_ENTRY:1")


def _knowledge_published(event: _Event, facts: TicketFacts) -> None:
    if event.text("ticket_id"):
        _meet(event, facts, "KNOWLEDGE_ENTRY:1", DESK_TEAM_ID)


_RULES = {
    "dispatch.created": _dispatch_created,
    "dispatch.accepted": _dispatch_responded,
    "dispatch.returned": _dispatch_responded,
    "dispatch.resolved": _dispatch_responded,
    "dispatch.chased": _dispatch_chased,
    "dispatch.cancelled": _dispatch_cancelled,
    "sla.warning": _sla_alarm,
    "sla.overdue": _sla_alarm,
    "review.requested": _review,
    "review.approved": _review,
    "review.rejected": _review,
    "ticket.resolved": _ticket_resolved,
    "ticket.cancelled": _ticket_cancelled,
    "ticket.closed": _ticket_closed,
    "ticket.escalated": _ticket_escalated,
    "survey.callback_recorded": _callback_recorded,
    "survey.submitted": _survey_submitted,
    "survey.expired": _survey_expired,
    "survey.investigated": _survey_investigated,
    "escalation.opened": _escalation_opened,
    "escalation.resolved": _escalation_resolved,
    "knowledge.proposed": _knowledge_proposed,
    "knowledge.published": _knowledge_published,
}
"""What each event type counts; the others (acknowledged, line_tested, archived …) count nothing."""
