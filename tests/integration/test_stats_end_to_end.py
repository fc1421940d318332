"""Issue 15's acceptance scenario: a scripted week with known counts, from the events on the stream to
GenerateReport and GetKpis, on the real stack; every field of the report and of the KPIs is the
number the scenario implies, written out here by hand.

The week is 2018-W15 (Monday 9 to Sunday 15 April 2018, Asia/Shanghai, the test desk's zone): long
over, and before every day any other test puts in the read model, so the backlog at its end is only
this scenario's. Its teams (``e2e-*``) have no team consumer, so no ops-team test sees its work
orders; it uses no fax (test_stats_read_model counts every fax).

The events are the ones the desk's workflows publish, payloads copied from real tickets run through
the main path, the survey, escalation, IVR and dispatch tests (``ticket_events``), at the scenario's
times. Nine tickets:

======  =========================================================================================
T1      phone fault, junior agent A, Monday 07:30 (Sunday 23:30 UTC: the desk's day is Monday);
        routed to network, accepted in 20 min, answered (回单) in 2 h; callback; VERY_SATISFIED
T2      phone fault, junior agent B; network misses the response deadline: warning, overdue alarm,
        chase (and dispatch's violation); the customer calls again: a repeat on an overdue ticket
        goes to the manager hotline (OVERDUE_RECONTACT, still open); answered in 6 h; SATISFIED
T3      e-mail fault, A; software returns it (退单), a senior agent sends it to machine-room, which
        answers; the callback finds it not fixed: a second dispatch (二次派单), reviewed; answered
        again; UNSATISFIED, investigated (the desk's fault)
T4      VIP phone service request, B: reviewed before network sees it; answered; the senior agent
        proposes it as a knowledge case, written up in time; NEUTRAL
T5      web consultation, B, routed to software and resolved at first contact (the work order
        withdrawn): handled by the junior agent; the survey expires
T6      IVR self-service (AUTOMATIC), linked to an outage and resolved by its repair: handled at IVR
T7      IVR self-service dispatched to network Sunday 23:00, accepted, still open at the week's end
        (the backlog); answered next Monday 07:30 (Sunday 23:30 UTC: next week for the desk)
T8      phone fault, A, with software; four repeat reports send it to the manager hotline
        (REPEATS, resolved by a manager); answered
T9      IM change request, A: the junior agent's dispatch is rejected in review; cancelled
======  =========================================================================================
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from nats.js import JetStreamContext

from desk.event_bus import envelope
from desk.events import EventSpec, dispatch_subject
from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats.read_model import CONSUMER
from tests.integration.desk_client import auth
from tests.integration.test_quality_ledger import caught_up
from tests.stack import RunningDesk

S = stats_pb2
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test desk's time zone (the default)
MONDAY = date(2018, 4, 9)
NEXT_MONDAY = MONDAY + timedelta(days=7)
MON, TUE, WED, THU, FRI, SAT, SUN, NEXT_MON = range(8)

JUNIOR_A, JUNIOR_B, SENIOR = "e2e-junior-a", "e2e-junior-b", "e2e-senior"
SURVEYOR, MANAGER, LIBRARIAN = "e2e-surveyor", "e2e-manager", "e2e-librarian"
SYSTEM, IVR = "system", "ivr"
NETWORK, SOFTWARE, MACHINE_ROOM = "e2e-network", "e2e-software", "e2e-machine-room"
DESK = "service-desk"

FAULT_FIELDS = (
    "reporter.name", "reporter.phone", "category", "summary", "description", "region", "occurred_at",
    "fault_number",
)  # fmt: skip
OTHER_FIELDS = FAULT_FIELDS[:-1]  # no fault number but on a fault


def at(day: int, clock: str) -> datetime:
    """``clock`` (HH:MM) on the week's ``day`` (MON …) in the desk's zone, as UTC."""
    local = datetime.combine(MONDAY + timedelta(days=day), time.fromisoformat(clock), SHANGHAI)
    return local.astimezone(UTC)


# --- the stories, as the desk publishes them ---


@dataclass(frozen=True)
class WorkOrder:
    ticket_id: str
    number: int
    team_id: str
    dispatch_kind: str = "INITIAL"

    @property
    def facts(self) -> dict[str, Any]:
        """What every dispatch.* payload carries."""
        return {
            "work_order_id": f"{self.ticket_id}-W{self.number}",
            "team_id": self.team_id,
            "sequence": self.number,
            "dispatch_kind": self.dispatch_kind,
        }


@dataclass
class Story:
    """One ticket's events in the order its workflow decides them (``sequence`` 1, 2, …)."""

    ticket_id: str
    events: list[EventSpec] = field(default_factory=list)

    def add(
        self, event_type: str, when: datetime, actor: str, reason: str = "", /, **payload: Any
    ) -> EventSpec:
        family, verb = event_type.split(".", 1)
        subject = (
            dispatch_subject(payload["team_id"], verb) if family == "dispatch" else f"helpdesk.{event_type}"
        )
        event = EventSpec(
            event_id=str(uuid.uuid4()),
            type=event_type,
            subject=subject,
            ticket_id=self.ticket_id,
            sequence=len(self.events) + 1,
            occurred_at=when,
            actor=actor,
            reason=reason,
            payload=payload,
        )
        self.events.append(event)
        return event

    def created(
        self,
        when: datetime,
        actor: str,
        *,
        channel: str,
        kind: str,
        category: str,
        tier: str = "STANDARD",
        handling: str = "MANUAL",
        missing: Sequence[str] = (),
    ) -> None:
        expected = FAULT_FIELDS if kind == "FAULT" else OTHER_FIELDS
        facts = {
            "priority": "P3",
            "record_fields_expected": list(expected),
            "kind": kind,
            "channel": channel,
            "customer_tier": tier,
            "category": category,
            "handling": handling,
            "record_fields_filled": [f for f in expected if f not in missing],
        }
        self.add("ticket.created", when, actor, "the customer's summary", **facts)
        self.add("ticket.acknowledged", when, actor, "report accepted", **facts)
        if kind == "FAULT":
            line = {"fault_code": "OPEN_CIRCUIT", "result": "ABNORMAL", "tester": "simulator"}
            self.add("ticket.line_tested", when, SYSTEM, "The line is open (断线).", **line)

    def dispatched(
        self,
        order: WorkOrder,
        when: datetime,
        actor: str = SYSTEM,
        *,
        by: str = SYSTEM,
        reason: str = "routed",
    ) -> None:
        due = (when + timedelta(hours=2)).isoformat()
        self.add(
            "dispatch.created", when, actor, reason, **order.facts, response_due_at=due, dispatched_by=by
        )

    def accepted(self, order: WorkOrder, when: datetime) -> None:
        self.add("dispatch.accepted", when, f"ops-{order.team_id}", "", **order.facts, engineer="Wang Wu")

    def answered(self, order: WorkOrder, when: datetime) -> None:
        """回单: the team resolves its work order, and with it the ticket."""
        engineer = f"ops-{order.team_id}"
        self.add(
            "dispatch.resolved", when, engineer, "replaced", **order.facts, cause="worn", action="replaced"
        )
        self.add("ticket.resolved", when, engineer, "worn", **order.facts)

    def called_back(self, when: datetime, *, fixed: bool = True) -> None:
        outcome = "confirmed" if fixed else "not_fixed"
        self.add(
            "survey.callback_recorded",
            when,
            SURVEYOR,
            "" if fixed else "still failing",
            reached=True,
            confirmed_resolved=fixed,
            outcome=outcome,
            attempt=1,
            max_attempts=3,
            request_id=f"cb-{uuid.uuid4().hex[:8]}",
        )
        if fixed:
            self.add("ticket.closed", when, SURVEYOR, "", close_reason="")

    def surveyed(self, when: datetime, rating: str, **more: Any) -> None:
        self.add("survey.submitted", when, SURVEYOR, "", round=1, rating=rating, **more)

    def review(self, verb: str, order: WorkOrder, when: datetime, actor: str, proposed_by: str) -> None:
        facts: dict[str, Any] = {
            "work_order_id": f"{order.ticket_id}-W{order.number}",
            "team_id": order.team_id,
        }
        if verb == "approved":
            facts["proposed"] = order.team_id
        self.add(f"review.{verb}", when, actor, "", proposed_by=proposed_by, **facts)

    def repeated(self, when: datetime, actor: str, channel: str, count: int) -> None:
        request = f"repeat-{uuid.uuid4().hex[:8]}"
        self.add("ticket.repeated", when, actor, "still no dial tone", request_id=request, channel=channel,
                 repeat_count=count)  # fmt: skip

    def escalated(self, when: datetime, source: str, repeats: int, why: str) -> None:
        self.add("ticket.escalated", when, SYSTEM, why, to="manager_hotline", repeat_count=repeats)
        self.add("escalation.opened", when, SYSTEM, why, escalation_id=f"{self.ticket_id}-E1", source=source)


def _t1(story: Story) -> None:
    story.created(at(MON, "07:30"), JUNIOR_A, channel="PHONE", kind="FAULT", category="network",
                  missing=["occurred_at"])  # fmt: skip
    order = WorkOrder(story.ticket_id, 1, NETWORK)
    story.dispatched(order, at(MON, "07:30"))
    story.accepted(order, at(MON, "07:50"))
    story.answered(order, at(MON, "09:30"))
    story.called_back(at(MON, "14:00"))
    story.surveyed(at(TUE, "10:00"), "VERY_SATISFIED")


def _t2(story: Story) -> None:
    story.created(at(MON, "10:00"), JUNIOR_B, channel="PHONE", kind="FAULT", category="network")
    order = WorkOrder(story.ticket_id, 1, NETWORK)
    story.dispatched(order, at(MON, "10:00"))
    deadline = {
        "deadline": "RESPONSE",
        "team_id": NETWORK,
        "work_order_id": order.facts["work_order_id"],
        "warn_at": at(MON, "11:36").isoformat(),
        "due_at": at(MON, "12:00").isoformat(),
    }
    story.add("sla.warning", at(MON, "11:36"), SYSTEM, "response deadline due at 12:00", **deadline)
    story.add("sla.overdue", at(MON, "12:00"), SYSTEM, "response deadline missed at 12:00", **deadline)
    story.add("dispatch.chased", at(MON, "12:00"), SYSTEM, "RESPONSE deadline missed", **order.facts,
              chase_count=1)  # fmt: skip
    story.repeated(at(MON, "12:30"), JUNIOR_A, "PHONE", 1)
    story.escalated(at(MON, "12:30"), "OVERDUE_RECONTACT", 1, "a repeat on an overdue ticket")
    story.accepted(order, at(MON, "13:00"))
    story.answered(order, at(MON, "16:00"))
    story.called_back(at(TUE, "09:30"))
    story.surveyed(at(WED, "10:00"), "SATISFIED")


def _t3(story: Story) -> None:
    story.created(at(TUE, "09:00"), JUNIOR_A, channel="EMAIL", kind="FAULT", category="software")
    first = WorkOrder(story.ticket_id, 1, SOFTWARE)
    story.dispatched(first, at(TUE, "09:00"))
    story.add(
        "dispatch.returned", at(TUE, "09:30"), "ops-e2e-software", "not a software fault", **first.facts
    )
    after_return = WorkOrder(story.ticket_id, 2, MACHINE_ROOM, "AFTER_RETURN")
    story.dispatched(after_return, at(TUE, "10:00"), SENIOR, by=SENIOR, reason="server room")
    story.accepted(after_return, at(TUE, "10:15"))
    story.answered(after_return, at(TUE, "12:00"))
    story.called_back(at(TUE, "15:00"), fixed=False)
    second = WorkOrder(story.ticket_id, 3, MACHINE_ROOM, "SECOND_DISPATCH")
    story.review("requested", second, at(TUE, "15:00"), SURVEYOR, SURVEYOR)
    story.review("approved", second, at(TUE, "15:10"), SENIOR, SURVEYOR)
    story.dispatched(second, at(TUE, "15:10"), SENIOR, by=SURVEYOR, reason="not fixed")
    story.accepted(second, at(TUE, "15:30"))
    story.answered(second, at(WED, "09:00"))
    story.called_back(at(WED, "11:00"))
    story.surveyed(at(THU, "10:00"), "UNSATISFIED", investigation_due_at=at(FRI, "09:00").isoformat())
    story.add("survey.investigated", at(THU, "16:00"), SURVEYOR, "promised too much", round=1,
              responsibility="SERVICE_DESK", staff_id=JUNIOR_A, disputed=False)  # fmt: skip


def _t4(story: Story) -> list[EventSpec]:
    """The VIP's; returns the knowledge events (no ticket's: ticket_id empty)."""
    story.created(at(WED, "09:00"), JUNIOR_B, channel="PHONE", kind="SERVICE_REQUEST", category="network",
                  tier="VIP")  # fmt: skip
    order = WorkOrder(story.ticket_id, 1, NETWORK)
    story.review("requested", order, at(WED, "09:00"), SYSTEM, SYSTEM)
    story.review("approved", order, at(WED, "09:10"), SENIOR, SYSTEM)
    story.dispatched(order, at(WED, "09:10"), SENIOR)
    story.accepted(order, at(WED, "09:30"))
    story.answered(order, at(WED, "11:00"))
    story.called_back(at(WED, "15:00"))
    story.surveyed(at(THU, "11:00"), "NEUTRAL")
    case = {"ticket_id": story.ticket_id, "deadline": "KNOWLEDGE_ENTRY", "proposed_by": SENIOR,
            "warn_at": at(WED, "14:42").isoformat(), "due_at": at(WED, "15:30").isoformat()}  # fmt: skip
    entry = f"KB-{story.ticket_id}"
    return [
        EventSpec(f"knowledge-case/{story.ticket_id}/1", "knowledge.proposed", "helpdesk.knowledge.proposed",
                  "", 1, at(WED, "11:30"), SENIOR, "a hard case", case),
        EventSpec(f"knowledge/{entry}/1", "knowledge.published", "helpdesk.knowledge.published", "", 1,
                  at(WED, "14:30"), LIBRARIAN, "", {"entry_id": entry, "version": 1, "title": "VIP lines",
                  "category": "network", "ticket_id": story.ticket_id}),
    ]  # fmt: skip


def _t5(story: Story) -> None:
    story.created(at(WED, "14:00"), JUNIOR_B, channel="WEB", kind="CONSULTATION", category="software",
                  missing=["region"])  # fmt: skip
    order = WorkOrder(story.ticket_id, 1, SOFTWARE)
    story.dispatched(order, at(WED, "14:00"))
    withdrawn = {"team_id": SOFTWARE, "work_order_id": order.facts["work_order_id"]}
    story.add("dispatch.cancelled", at(WED, "14:10"), JUNIOR_B, "resolved at first contact", **withdrawn)
    story.add("ticket.resolved", at(WED, "14:10"), JUNIOR_B, "explained call forwarding", first_contact=True)
    story.called_back(at(WED, "16:00"))
    story.add(
        "survey.expired", at(SAT, "16:00"), SYSTEM, "no answer", round=1, due_at=at(SAT, "16:00").isoformat()
    )


def _t6(story: Story) -> None:
    story.created(at(THU, "20:00"), IVR, channel="IVR", kind="FAULT", category="network",
                  handling="AUTOMATIC", missing=["occurred_at"])  # fmt: skip
    story.add(
        "ticket.resolved", at(FRI, "08:00"), MANAGER, "cable spliced", outage_id=f"OUT-{story.ticket_id}"
    )
    story.called_back(at(FRI, "10:00"))


def _t7(story: Story) -> None:
    story.created(
        at(SUN, "23:00"), IVR, channel="IVR", kind="FAULT", category="network", handling="AUTOMATIC"
    )
    order = WorkOrder(story.ticket_id, 1, NETWORK)
    story.dispatched(order, at(SUN, "23:00"))
    story.accepted(order, at(SUN, "23:40"))
    story.answered(order, at(NEXT_MON, "07:30"))  # 23:30 UTC on Sunday: the desk's next week


def _t8(story: Story) -> None:
    story.created(at(FRI, "08:30"), JUNIOR_A, channel="PHONE", kind="FAULT", category="software",
                  missing=["occurred_at"])  # fmt: skip
    order = WorkOrder(story.ticket_id, 1, SOFTWARE)
    story.dispatched(order, at(FRI, "08:30"))
    story.accepted(order, at(FRI, "08:40"))
    for count, (clock, agent, channel) in enumerate(
        [("09:00", JUNIOR_B, "PHONE"), ("09:30", JUNIOR_A, "WEB"), ("10:00", JUNIOR_B, "PHONE"),
         ("10:30", JUNIOR_A, "PHONE")], start=1
    ):  # fmt: skip
        story.repeated(at(FRI, clock), agent, channel, count)
    story.escalated(at(FRI, "10:30"), "REPEATS", 4, "4 repeat reports")
    story.add("escalation.resolved", at(FRI, "11:00"), MANAGER, "explained the repair's progress",
              escalation_id=f"{story.ticket_id}-E1", source="REPEATS", outcome="EXPLAINED", responsibility="",
              compensation_cents=0, currency="", hours_overdue=0, rule_version=0)  # fmt: skip
    story.answered(order, at(FRI, "15:00"))
    story.called_back(at(FRI, "17:00"))


def _t9(story: Story) -> None:
    story.created(at(THU, "11:00"), JUNIOR_A, channel="IM", kind="CHANGE_REQUEST", category="software",
                  missing=["description", "region"])  # fmt: skip
    order = WorkOrder(story.ticket_id, 1, SOFTWARE)
    story.review("requested", order, at(THU, "11:05"), JUNIOR_A, JUNIOR_A)
    story.review("rejected", order, at(THU, "11:30"), SENIOR, JUNIOR_A)
    story.add("ticket.cancelled", at(THU, "12:00"), JUNIOR_A, "the customer withdrew the request")


@dataclass(frozen=True)
class Scenario:
    events: list[EventSpec]  # in the order they happened
    replayed: list[EventSpec]  # a few of them, to be published again under other message ids


def scenario(run: str) -> Scenario:
    stories = {n: Story(f"TK-E2E-{run}-T{n}") for n in range(1, 10)}
    for n, script in {1: _t1, 2: _t2, 3: _t3, 5: _t5, 6: _t6, 7: _t7, 8: _t8, 9: _t9}.items():
        script(stories[n])
    knowledge = _t4(stories[4])
    events = sorted(
        [*knowledge, *(e for s in stories.values() for e in s.events)], key=lambda e: e.occurred_at
    )
    by_type = {(e.ticket_id or e.payload["ticket_id"], e.type): e for e in events}
    replayed = [
        by_type[stories[1].ticket_id, "ticket.created"],
        by_type[stories[1].ticket_id, "survey.submitted"],
        by_type[stories[2].ticket_id, "sla.overdue"],
        by_type[stories[3].ticket_id, "dispatch.created"],  # the second dispatch (the last of its kind)
        by_type[stories[4].ticket_id, "knowledge.published"],
        by_type[stories[5].ticket_id, "ticket.resolved"],
    ]
    return Scenario(events, replayed)


# --- the stack ---


@pytest.fixture
async def stream(desk: RunningDesk) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(desk.endpoints["nats"])
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def _publish(js: JetStreamContext, event: EventSpec, *, message_id: str | None = None) -> None:
    body = envelope(event, {}).SerializeToString()
    await js.publish(event.subject, body, headers={"Nats-Msg-Id": message_id or event.event_id}, timeout=5)


def _stats(desk: RunningDesk) -> stats_pb2_grpc.StatsServiceStub:
    return stats_pb2_grpc.StatsServiceStub(desk.channel("stats"))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC)


async def _kpis(desk: RunningDesk, first: date, after: date, **filters: str) -> S.Kpis:
    request = S.GetKpisRequest(team_id=filters.get("team_id", ""), channel=filters.get("channel", ""))
    getattr(request, "from").FromDatetime(_midnight(first))
    request.to.FromDatetime(_midnight(after))
    kpis: S.Kpis = await _stats(desk).GetKpis(request, metadata=auth(desk.token("statistician")), timeout=30)
    return kpis


# --- every field, as the scenario implies ---

NOT_COMPARED = object()


def assert_fields(actual: Message, expected: Mapping[str, Any], path: str = "") -> None:
    """Every field of ``actual`` (none may be left out of ``expected``) equals the expected value:
    maps as dicts, repeated messages as lists of expected dicts, timestamps as datetimes, doubles to
    within rounding."""
    names = [f.name for f in actual.DESCRIPTOR.fields]
    assert sorted(expected) == sorted(names), f"{path or type(actual).__name__}: expected fields differ"
    for descriptor in actual.DESCRIPTOR.fields:
        want, got, where = (
            expected[descriptor.name],
            getattr(actual, descriptor.name),
            f"{path}.{descriptor.name}",
        )
        message = descriptor.message_type
        if want is NOT_COMPARED:
            continue
        if message is not None and message.GetOptions().map_entry:
            assert dict(got) == want, where
        elif message is not None and descriptor.is_repeated:
            assert len(got) == len(want), f"{where}: {list(got)}"
            for n, (item, wanted) in enumerate(zip(got, want, strict=True)):
                assert_fields(item, wanted, f"{where}[{n}]")
        elif message is not None and message.full_name == "google.protobuf.Timestamp":
            assert got.ToDatetime(tzinfo=UTC) == want, where
        elif message is not None:
            assert_fields(got, want, where)
        elif descriptor.type == descriptor.TYPE_DOUBLE:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9), where
        else:
            assert got == want, where


def sla(*lines: tuple[int, int]) -> list[dict[str, Any]]:
    """The SLA lines in the contract's order: (met, missed) of RESPONSE … KNOWLEDGE_ENTRY."""
    kinds = ("RESPONSE", "RESOLUTION", "CALLBACK", "INVESTIGATION", "KNOWLEDGE_ENTRY")
    return [
        {
            "deadline_kind": kind,
            "met": met,
            "missed": missed,
            "rate": met / (met + missed) if met + missed else 0.0,
        }
        for kind, (met, missed) in zip(kinds, lines, strict=True)
    ]


WEEK_RANGE = {"from": _midnight(MONDAY), "to": _midnight(NEXT_MONDAY)}

# Responses (creation → first accepted/answered/resolved): T1 20 min, T2 3 h, T3 75 min, T4 30 min,
# T5 10 min, T6 12 h, T7 40 min, T8 10 min. Resolutions: T1 2 h, T2 6 h, T3 3 h, T4 2 h, T5 10 min,
# T6 12 h, T8 6.5 h (T7 next week). p90: 0.9 * count through the buckets (…, 8 h, 12 h, …),
# interpolated: respond 7.2 of 8 → 0.2 into (8 h, 12 h]; resolve 6.3 of 7 → 0.3 into (8 h, 12 h].
WEEK_KPIS: dict[str, Any] = {
    **WEEK_RANGE,
    "tickets": 9,
    "first_contact_resolved": 1,  # T5
    "fcr_rate": 1 / 9,
    # The agents' records (not the IVR's): T1 7/8, T2 8/8, T3 8/8, T4 7/7, T5 6/7, T8 7/8, T9 5/7.
    "record_completeness_rate": 48 / 53,
    "surveys_answered": 4,
    "satisfied": 2,  # T1 very satisfied, T2 satisfied (T3 unsatisfied, T4 neutral)
    "satisfaction_rate": 0.5,
    # RESPONSE: T1, T3 x3, T4, T7, T8 met, T2 missed (T5's withdrawn); RESOLUTION: T1, T2, T3 x2, T4,
    # T5, T6, T8 (T7 open, T9 cancelled); CALLBACK: T1, T2, T3 x2, T4, T5, T6, T8; T3's investigation;
    # T4's knowledge entry.
    "sla": sla((7, 1), (8, 0), (8, 0), (1, 0), (1, 0)),
    "sla_compliance": 25 / 26,
    "mean_time_to_respond_seconds": (1200 + 10800 + 4500 + 1800 + 600 + 43200 + 2400 + 600) / 8,
    "p90_time_to_respond_seconds": 8 * 3600 + 0.2 * 4 * 3600,
    "mean_time_to_resolve_seconds": (7200 + 21600 + 10800 + 7200 + 600 + 43200 + 23400) / 7,
    "p90_time_to_resolve_seconds": 8 * 3600 + 0.3 * 4 * 3600,
    "backlog": 1,  # T7
}

# Network's tickets now (T1, T2, T4, T7) and what network held: responses T1 20 min, T2 3 h, T4 30 min,
# T7 40 min (p90: 3.6 of 4 → 0.6 into (2 h, 4 h]); resolutions T1 2 h, T2 6 h, T4 2 h (2.7 of 3 →
# 0.7 into (4 h, 8 h]). Its customers' answers are network's (T1, T2, T4); the callback, investigation
# and knowledge deadlines are the service desk's, who holds them.
NETWORK_KPIS: dict[str, Any] = {
    **WEEK_RANGE,
    "tickets": 4,
    "first_contact_resolved": 0,
    "fcr_rate": 0.0,
    "record_completeness_rate": (7 + 8 + 7) / (8 + 8 + 7),  # T7 is the IVR's
    "surveys_answered": 3,
    "satisfied": 2,  # T1 very satisfied, T2 satisfied, T4 neutral
    "satisfaction_rate": 2 / 3,
    "sla": sla((3, 1), (3, 0), (0, 0), (0, 0), (0, 0)),
    "sla_compliance": 6 / 7,
    "mean_time_to_respond_seconds": (1200 + 10800 + 1800 + 2400) / 4,
    "p90_time_to_respond_seconds": 2 * 3600 + 0.6 * 2 * 3600,
    "mean_time_to_resolve_seconds": (7200 + 21600 + 7200) / 3,
    "p90_time_to_resolve_seconds": 4 * 3600 + 0.7 * 4 * 3600,
    "backlog": 1,
}

# Phone tickets: T1, T2, T4, T8. Responses 20 min, 3 h, 30 min, 10 min (3.6 of 4 → 0.6 into (2 h,
# 4 h]); resolutions 2 h, 6 h, 2 h, 6.5 h (3.6 of 4 → 1.6 of the 2 in (4 h, 8 h]).
PHONE_KPIS: dict[str, Any] = {
    **WEEK_RANGE,
    "tickets": 4,
    "first_contact_resolved": 0,
    "fcr_rate": 0.0,
    "record_completeness_rate": (7 + 8 + 7 + 7) / (8 + 8 + 7 + 8),
    "surveys_answered": 3,
    "satisfied": 2,
    "satisfaction_rate": 2 / 3,
    "sla": sla((3, 1), (4, 0), (4, 0), (0, 0), (1, 0)),
    "sla_compliance": 12 / 13,
    "mean_time_to_respond_seconds": (1200 + 10800 + 1800 + 600) / 4,
    "p90_time_to_respond_seconds": 2 * 3600 + 0.6 * 2 * 3600,
    "mean_time_to_resolve_seconds": (7200 + 21600 + 7200 + 23400) / 4,
    "p90_time_to_resolve_seconds": 4 * 3600 + 1.6 / 2 * 4 * 3600,
    "backlog": 0,
}


def team(team_id: str, **counts: int) -> dict[str, Any]:
    line = {name: counts.get(name, 0) for name in (
        "dispatches", "answered", "warnings", "overdue_alarms", "chases", "returns", "second_dispatches",
        "sla_met", "sla_missed")}  # fmt: skip
    met, missed = line["sla_met"], line["sla_missed"]
    return {"team_id": team_id, **line, "sla_compliance": met / (met + missed) if met + missed else 0.0}


def agent(agent_id: str, **counts: int) -> dict[str, Any]:
    names = ("recorded", "first_contact_resolved", "dispatches", "reviews", "callbacks", "surveys")
    return {"agent_id": agent_id, **{name: counts.get(name, 0) for name in names}}


def day(offset: int, channel: str, tickets: int) -> dict[str, Any]:
    return {"day": (MONDAY + timedelta(days=offset)).isoformat(), "channel": channel, "tickets": tickets}


WEEK_REPORT: dict[str, Any] = {
    "report_id": "WEEKLY-2018-W15",
    "period": S.PERIOD_WEEKLY,
    "boundary": S.PERIOD_BOUNDARY_CALENDAR,
    "period_start": "2018-04-09",
    "period_end": "2018-04-15",
    "generated_at": NOT_COMPARED,  # checked against the call's time
    "tickets": 9,
    "volume_by_channel": {"PHONE": 4, "EMAIL": 1, "WEB": 1, "IVR": 2, "IM": 1},
    "volume_by_kind": {"FAULT": 6, "SERVICE_REQUEST": 1, "CONSULTATION": 1, "CHANGE_REQUEST": 1},
    "volume_by_customer_tier": {"STANDARD": 8, "VIP": 1},
    "volume_by_handling": {"MANUAL": 7, "AUTOMATIC": 2},
    # T6 at the IVR; T5 settled by the junior agent (its work order withdrawn); T9 stopped in review;
    # T1, T3, T4 (the VIP, reviewed, then dispatched), T7 with an ops team; T2, T8 at the hotline.
    "volume_by_stage": {"IVR": 1, "JUNIOR_AGENT": 1, "SENIOR_AGENT": 1, "OPS_TEAM": 4, "MANAGER_HOTLINE": 2},
    "dispatches": 9,  # T1, T2, T3 x3, T4, T5, T7, T8
    "dispatches_answered": 6,  # T1, T2, T3 x2, T4, T8 (T7's next week)
    "warnings": 1,
    "overdue_alarms": 1,
    "chases": 1,
    "returns": 1,
    "second_dispatches": 1,
    "redispatches": 1,
    "surveys_answered": 4,
    "surveys_expired": 1,  # T5
    "satisfaction": {"VERY_SATISFIED": 1, "SATISFIED": 1, "NEUTRAL": 1, "UNSATISFIED": 1},
    "satisfaction_rate": 0.5,
    "escalations_by_source": {"OVERDUE_RECONTACT": 1, "REPEATS": 1},
    "escalations_resolved": 1,  # T8's
    "teams": [
        # RESPONSE x2 and RESOLUTION x2 of T3
        team(MACHINE_ROOM, dispatches=2, answered=2, second_dispatches=1, sla_met=4),
        # T1, T4: response and resolution met; T2: response missed, resolution met; T7: response met
        team(
            NETWORK, dispatches=4, answered=3, warnings=1, overdue_alarms=1, chases=1, sla_met=6, sla_missed=1
        ),
        # T3's returned work order (its response met), T5's withdrawn one, T8's response and resolution
        team(SOFTWARE, dispatches=3, answered=1, returns=1, sla_met=3),
        team(DESK, sla_met=8 + 1 + 1),  # callbacks, T3's investigation, T4's knowledge entry
    ],
    "agents": [
        agent(JUNIOR_A, recorded=4),  # T1, T3, T8, T9
        agent(JUNIOR_B, recorded=3, first_contact_resolved=1),  # T2, T4, T5
        agent(SENIOR, dispatches=1, reviews=3),  # T3 after the return; T3, T4 approved, T9 rejected
        agent(SURVEYOR, dispatches=1, callbacks=8, surveys=4),  # T3's second dispatch was proposed by him
    ],
    "daily_volume": [
        day(MON, "PHONE", 2),  # T1 at 07:30 in Shanghai is still Sunday in UTC
        day(TUE, "EMAIL", 1),
        day(WED, "PHONE", 1),
        day(WED, "WEB", 1),
        day(THU, "IM", 1),
        day(THU, "IVR", 1),
        day(FRI, "PHONE", 1),
        day(SUN, "IVR", 1),
    ],
    "kpis": WEEK_KPIS,
    "late_corrections": [],
}


# --- the test ---


async def test_a_scripted_week_gives_exactly_its_counts_in_every_report_field_and_kpi(
    desk: RunningDesk, stream: JetStreamContext
) -> None:
    week = scenario(uuid.uuid4().hex[:6].upper())
    for event in week.events:
        await _publish(stream, event)
    for event in week.replayed:  # a replayed stream: the same events under other message ids
        await _publish(stream, event, message_id=f"replayed-{event.event_id}")
    await caught_up(stream, CONSUMER)

    stats, statistician = _stats(desk), auth(desk.token("statistician"))
    before = datetime.now(UTC)
    report = await stats.GenerateReport(
        S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2018-04-11"), metadata=statistician, timeout=60
    )
    assert_fields(report, WEEK_REPORT)
    assert before <= report.generated_at.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)

    kpis = await _kpis(desk, MONDAY, NEXT_MONDAY)
    assert_fields(kpis, WEEK_KPIS)
    assert kpis == report.kpis  # GetKpis over the week's days and the report's KPIs are one answer
    assert_fields(await _kpis(desk, MONDAY, NEXT_MONDAY, team_id=NETWORK), NETWORK_KPIS)
    assert_fields(await _kpis(desk, MONDAY, NEXT_MONDAY, channel="phone"), PHONE_KPIS)
    after_the_week = await _kpis(desk, NEXT_MONDAY, NEXT_MONDAY + timedelta(days=1))
    assert (after_the_week.tickets, after_the_week.backlog) == (0, 0)  # T7 answered: nothing left open

    assert (
        await stats.GetReport(S.GetReportRequest(report_id=report.report_id), metadata=statistician) == report
    )
    await _the_gateway_serves_the_same_report(desk, report)

    for event in week.events:  # the whole week again, under other message ids: nothing changes
        await _publish(stream, event, message_id=f"again-{event.event_id}")
    await caught_up(stream, CONSUMER)
    assert await _kpis(desk, MONDAY, NEXT_MONDAY) == kpis
    again = await stats.GenerateReport(
        S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2018-04-15"), metadata=statistician, timeout=60
    )
    assert again == report


async def _the_gateway_serves_the_same_report(desk: RunningDesk, report: S.Report) -> None:
    headers = {"Authorization": f"Bearer {desk.token('manager')}"}
    async with httpx.AsyncClient(
        base_url=desk.endpoints["http"]["intake"], headers=headers, timeout=30
    ) as http:
        answer = await http.get(f"/v1/reports/{report.report_id}")
    assert answer.status_code == 200
    assert json_format.ParseDict(answer.json(), S.Report()) == report
