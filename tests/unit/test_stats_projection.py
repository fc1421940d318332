"""The statistics projection (services/stats/projection.py): each event type → its counters, the
desk-local day, the stage and handling rules, SLA met/missed once, the backlog's ins and outs."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from desk.event_bus import envelope
from desk.events import EventSpec
from domain.record_completeness import expected_fields, filled_fields
from domain.ticket_state import new_state, opened
from helpdesk.v1 import events_pb2
from services.stats.projection import Changes, TicketFacts, project
from services.stats.rollups import bucket_of, percentile
from tests.unit.test_ticket_state import T0, draft

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
_sequence = itertools.count(1)


def event(
    type_: str,
    payload: dict[str, Any] | None = None,
    *,
    actor: str = "amy",
    at: datetime = AT,
    ticket_id: str = "T1",
) -> events_pb2.EventEnvelope:
    n = next(_sequence)
    spec = EventSpec(f"e-{n}", type_, f"helpdesk.{type_}", ticket_id, n, at, actor, "", payload or {})
    return envelope(spec, {})


CREATED = {
    "channel": "PHONE",
    "kind": "FAULT",
    "category": "broadband",
    "priority": "P2",
    "customer_tier": "STANDARD",
    "handling": "MANUAL",
    "record_fields_expected": ["reporter.name", "reporter.phone", "category", "summary", "description"],
    "record_fields_filled": ["reporter.name", "reporter.phone", "category", "summary"],
}


class Run:
    """Projects events of one ticket in order and keeps the summed changes."""

    def __init__(self) -> None:
        self.facts: TicketFacts | None = None
        self.changes = Changes()

    def apply(self, *events: events_pb2.EventEnvelope) -> Run:
        for e in events:
            self.facts = project(e, self.facts, SHANGHAI, self.changes)
        return self

    def total(self, counter: str) -> float:
        return sum(values.get(counter, 0) for values in self.changes.nonzero_daily().values())

    def by(self, dimension: str, counter: str = "tickets") -> dict[str, float]:
        sums: defaultdict[str, float] = defaultdict(float)
        for key, values in self.changes.nonzero_daily().items():
            sums[getattr(key, dimension)] += values.get(counter, 0)
        return {k: v for k, v in sums.items() if v}

    def on(self, day: date, counter: str) -> float:
        return sum(v.get(counter, 0) for k, v in self.changes.nonzero_daily().items() if k.day == day)


def created(actor: str = "amy", **overrides: Any) -> events_pb2.EventEnvelope:
    return event("ticket.created", CREATED | overrides, actor=actor)


def test_a_created_ticket_counts_once_on_its_desk_local_day_with_its_dimensions() -> None:
    run = Run().apply(created(), created())  # a second created event of the ticket changes nothing
    assert run.total("tickets") == 1
    assert run.total("opened") == 1
    assert run.by("channel") == {"PHONE": 1}
    assert run.by("handling") == {"MANUAL": 1}
    assert run.by("stage") == {"JUNIOR_AGENT": 1}
    assert (run.total("record_fields_filled"), run.total("record_fields_total")) == (4, 5)
    assert run.total("complete_records") == 0
    assert run.changes.agents[(date(2026, 12, 1), "amy")]["recorded"] == 1


def test_the_day_is_the_desk_local_day_across_utc_midnight() -> None:
    late_utc = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 December in Shanghai
    run = Run().apply(event("ticket.created", CREATED, at=late_utc))
    assert run.on(date(2026, 12, 2), "tickets") == 1
    assert run.on(date(2026, 12, 1), "tickets") == 0


def test_stage_starts_at_ivr_for_self_service_and_at_the_senior_agent_for_a_vip() -> None:
    ivr = Run().apply(created(channel="IVR", handling="AUTOMATIC", actor="ivr"))
    assert ivr.by("stage") == {"IVR": 1}
    assert not ivr.changes.agents  # the IVR is no agent: no agent line
    assert ivr.by("handling") == {"AUTOMATIC": 1}
    assert ivr.total("record_fields_total") == 0  # completeness grades the agents' records only
    vip = Run().apply(created(customer_tier="VIP"))
    assert vip.by("stage") == {"SENIOR_AGENT": 1}


def test_handling_of_an_older_created_event_follows_its_channel_and_actor() -> None:
    old = {k: v for k, v in CREATED.items() if k != "handling"} | {"channel": "IVR"}
    run = Run().apply(event("ticket.created", old, actor="ivr"))
    assert run.by("handling") == {"AUTOMATIC": 1}


def test_stage_is_the_furthest_reached_and_the_ticket_moves_with_it() -> None:
    run = Run().apply(created())
    run.apply(event("review.requested", {"team_id": "network", "work_order_id": "T1-W1"}))
    assert run.by("stage") == {"SENIOR_AGENT": 1}
    run.apply(dispatched("network", "T1-W1"))
    assert run.by("stage") == {"OPS_TEAM": 1}
    assert run.by("team_id") == {"network": 1}
    run.apply(event("escalation.opened", {"escalation_id": "E1", "source": "REPEATS"}, actor="system"))
    assert run.by("stage") == {"MANAGER_HOTLINE": 1}
    run.apply(event("review.approved", {"team_id": "network", "work_order_id": "T1-W2"}, actor="sue"))
    assert run.by("stage") == {"MANAGER_HOTLINE": 1}  # never back
    assert run.total("tickets") == 1
    assert run.total("opened") - run.total("closed") == 1  # still one in the backlog, on the new key
    assert run.by("stage", "opened") == {
        "JUNIOR_AGENT": 1,
        "SENIOR_AGENT": 1,
        "OPS_TEAM": 1,
        "MANAGER_HOTLINE": 1,
    }
    assert run.by("stage", "closed") == {"JUNIOR_AGENT": 1, "SENIOR_AGENT": 1, "OPS_TEAM": 1}
    assert run.total("escalations_repeats") == 1
    assert run.total("reviews") == 1


def dispatched(
    team: str, work_order: str, kind: str = "INITIAL", by: str = "amy"
) -> events_pb2.EventEnvelope:
    payload = {"team_id": team, "work_order_id": work_order, "dispatch_kind": kind, "dispatched_by": by}
    return event("dispatch.created", payload, actor="sue")


def test_the_work_order_counters() -> None:
    wo = {"team_id": "network", "work_order_id": "T1-W1"}
    wo2 = {"team_id": "network", "work_order_id": "T1-W2"}
    run = Run().apply(created(), dispatched("network", "T1-W1"))
    run.apply(event("dispatch.chased", wo | {"chase_count": 1}, actor="system"))
    run.apply(event("dispatch.returned", wo))
    run.apply(dispatched("network", "T1-W2", "AFTER_RETURN"))
    run.apply(event("dispatch.accepted", wo2 | {"engineer": "Wang"}, at=AT + timedelta(minutes=30)))
    run.apply(event("dispatch.resolved", wo2, at=AT + timedelta(hours=2)))
    run.apply(event("ticket.resolved", wo2, at=AT + timedelta(hours=2)))
    assert run.total("dispatches") == 2
    assert run.total("returns") == 1
    assert run.total("chases") == 1
    assert run.total("dispatches_answered") == 1
    assert run.total("second_dispatches") == 0
    assert run.total("sla_response_met") == 2  # the return met the first work order's response too
    assert run.total("sla_resolution_met") == 1
    assert run.total("resolved") == 1
    assert run.total("response_count") == 1 and run.total("response_seconds_sum") == 1800
    assert run.total("resolve_count") == 1 and run.total("resolve_seconds_sum") == 7200
    assert run.total("opened") - run.total("closed") == 0
    assert run.changes.agents[(date(2026, 12, 1), "amy")]["dispatches"] == 2


def test_an_overdue_deadline_is_missed_once_and_never_met() -> None:
    wo = {"team_id": "network", "work_order_id": "T1-W1"}
    run = Run().apply(created(), dispatched("network", "T1-W1"))
    run.apply(event("sla.warning", wo | {"deadline": "RESPONSE"}, actor="system"))
    run.apply(event("sla.overdue", wo | {"deadline": "RESPONSE"}, actor="system"))
    run.apply(event("dispatch.accepted", wo | {"engineer": "Wang"}))
    assert (run.total("warnings"), run.total("overdue_alarms")) == (1, 1)
    assert (run.total("sla_response_met"), run.total("sla_response_missed")) == (0, 1)
    assert run.by("team_id", "sla_response_missed") == {"network": 1}


def test_first_contact_resolution_counts_on_the_created_day_for_the_agent() -> None:
    later = AT + timedelta(days=1)
    run = Run().apply(created(), event("ticket.resolved", {"first_contact": True}, at=later))
    assert run.on(date(2026, 12, 1), "first_contact_resolved") == 1
    assert run.changes.agents[(date(2026, 12, 2), "amy")]["first_contact_resolved"] == 1


def test_after_care_callbacks_surveys_and_a_second_dispatch() -> None:
    run = Run().apply(created(), dispatched("network", "T1-W1"))
    run.apply(event("ticket.resolved", {"team_id": "network", "work_order_id": "T1-W1"}))
    run.apply(event("survey.callback_recorded", {"reached": True, "outcome": "not_fixed"}, actor="sam"))
    assert run.total("opened") - run.total("closed") == 1  # back in the backlog
    run.apply(dispatched("network", "T1-W2", "SECOND_DISPATCH"))
    run.apply(event("ticket.resolved", {"team_id": "network", "work_order_id": "T1-W2"}))
    run.apply(event("survey.callback_recorded", {"reached": True, "outcome": "confirmed"}, actor="sam"))
    run.apply(event("ticket.closed", {}))
    run.apply(event("survey.submitted", {"round": 1, "rating": "UNSATISFIED", "investigation_due_at": "x"}))
    run.apply(event("survey.investigated", {"round": 1, "responsibility": "NOT_OURS"}))
    run.apply(event("survey.expired", {"round": 2}, actor="system"))
    assert run.total("second_dispatches") == 1
    assert run.total("callbacks") == 2
    assert run.total("sla_callback_met") == 2
    assert run.total("sla_resolution_met") == 2
    assert run.total("sla_investigation_met") == 1
    run.apply(dispatched("network", "T1-W3", "SECOND_DISPATCH"))  # after the investigation
    run.apply(event("ticket.resolved", {"team_id": "network", "work_order_id": "T1-W3"}))
    assert run.total("second_dispatches") == 2
    assert run.total("sla_resolution_met") == 3  # the second dispatch's own resolution deadline
    assert (run.total("surveys_answered"), run.total("surveys_expired")) == (1, 1)
    assert run.total("rating_unsatisfied") == 1
    assert run.total("opened") - run.total("closed") == 0
    assert run.facts is not None and run.facts.closed_at is not None


def test_a_survey_counts_on_the_tickets_team_and_its_deadlines_on_the_desk() -> None:
    """GetKpis(team_id=network) is about network's tickets: their customers' answers are network's;
    the callback and investigation deadlines stay the desk's, who holds them."""
    run = Run().apply(created(), dispatched("network", "T1-W1"))
    run.apply(event("ticket.resolved", {"team_id": "network", "work_order_id": "T1-W1"}))
    run.apply(event("survey.callback_recorded", {"reached": True, "outcome": "confirmed"}, actor="sam"))
    run.apply(event("survey.submitted", {"round": 1, "rating": "UNSATISFIED", "investigation_due_at": "x"}))
    run.apply(event("survey.investigated", {"round": 1, "responsibility": "SERVICE_DESK"}))
    run.apply(event("survey.expired", {"round": 2}, actor="system"))
    assert run.by("team_id", "surveys_answered") == {"network": 1}
    assert run.by("team_id", "rating_unsatisfied") == {"network": 1}
    assert run.by("team_id", "surveys_expired") == {"network": 1}
    assert run.by("team_id", "sla_callback_met") == {"service-desk": 1}
    assert run.by("team_id", "sla_investigation_met") == {"service-desk": 1}


def test_a_cancelled_ticket_leaves_the_backlog_and_its_deadlines_count_neither_way() -> None:
    run = Run().apply(created(), dispatched("network", "T1-W1"))
    run.apply(event("ticket.cancelled", {}))
    run.apply(event("dispatch.accepted", {"team_id": "network", "work_order_id": "T1-W1"}))
    assert run.total("cancelled") == 1
    assert run.total("opened") - run.total("closed") == 0
    assert run.total("sla_response_met") + run.total("sla_response_missed") == 0


def test_escalation_resolved_and_knowledge_case_deadline() -> None:
    run = Run().apply(created())
    run.apply(event("escalation.opened", {"escalation_id": "E1", "source": "COMPLAINT"}))
    run.apply(event("escalation.resolved", {"escalation_id": "E1", "source": "COMPLAINT"}))
    run.apply(event("knowledge.proposed", {"ticket_id": "T1"}, ticket_id=""))
    run.apply(event("knowledge.published", {"ticket_id": "T1", "entry_id": "K1"}, ticket_id=""))
    assert run.total("escalations_complaint") == 1
    assert run.total("escalations_resolved") == 1
    assert run.total("sla_knowledge_entry_met") == 1
    assert run.by("stage") == {"MANAGER_HOTLINE": 1}


def test_a_knowledge_case_overdue_is_missed_by_the_desk_and_then_never_met() -> None:
    run = Run().apply(created())
    run.apply(event("knowledge.proposed", {"ticket_id": "T1", "deadline": "KNOWLEDGE_ENTRY"}, ticket_id=""))
    run.apply(event("sla.overdue", {"ticket_id": "T1", "deadline": "KNOWLEDGE_ENTRY"}, ticket_id=""))
    run.apply(event("knowledge.published", {"ticket_id": "T1", "entry_id": "K1"}, ticket_id=""))
    assert run.by("team_id", "sla_knowledge_entry_missed") == {"service-desk": 1}
    assert run.total("sla_knowledge_entry_met") == 0


def test_events_without_a_ticket_or_a_rule_count_nothing() -> None:
    run = Run().apply(event("quality.sampled", {"day": "2026-12-01"}, ticket_id=""))
    run.apply(event("ticket.acknowledged", CREATED, ticket_id="T9"))
    assert run.changes.nonzero_daily() == {}
    assert run.facts is None


def test_the_created_event_names_handling_and_the_record_fields_never_values() -> None:
    state = new_state(draft(), T0)
    payload = opened(state)[0].payload
    assert payload["handling"] == "MANUAL"
    assert payload["record_fields_expected"] == list(expected_fields(state.view.draft))
    assert payload["record_fields_filled"] == list(filled_fields(state.view.draft))
    assert state.view.draft.reporter.phone not in str(payload)


def test_p90_from_the_bucket_histogram() -> None:
    histogram = [0] * 18
    for seconds in [30] * 9 + [4000]:
        histogram[bucket_of(seconds)] += 1
    assert percentile(histogram, 0.9) <= 60
    assert percentile([0] * 18, 0.9) == 0.0


def test_a_first_contact_resolution_was_handled_at_the_desk_even_after_a_withdrawn_dispatch() -> None:
    run = Run().apply(created(), dispatched("network", "T1-W1", by="system"))
    run.apply(event("dispatch.cancelled", {"team_id": "network", "work_order_id": "T1-W1"}))
    run.apply(event("ticket.resolved", {"first_contact": True}))
    assert run.by("stage") == {"JUNIOR_AGENT": 1}
    assert run.by("team_id") == {"": 1}
    assert run.total("first_contact_resolved") == 1
    assert run.total("dispatches") == 1  # the dispatch happened, and stays counted for the team
    assert run.total("sla_response_met") + run.total("sla_response_missed") == 0
