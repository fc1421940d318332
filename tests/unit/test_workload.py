"""Which event is an item of whose work (services/quality/workload.py): every kind, the posts, the day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desk.event_bus import envelope
from desk.events import EventSpec
from domain.commands import ReviewWorkOrderInput
from domain.review import reject, request_review
from domain.ticket_state import new_work_order
from helpdesk.v1 import events_pb2
from services.intake.ivr.activities import IVR_ACTOR
from services.quality.contract import LedgerItem
from services.quality.scorecards import ItemKind, Post
from services.quality.workload import detail, ledger_item, worker
from tests.unit.test_ticket_state import T0, opened

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, the same day
AGENT, SENIOR, SURVEYOR = frozenset({"agent"}), frozenset({"senior_agent"}), frozenset({"surveyor"})
KNOWLEDGE, STATISTICIAN = frozenset({"knowledge_manager"}), frozenset({"statistician"})
MANAGER = frozenset({"manager"})


def event(
    type_: str,
    actor: str = "amy",
    payload: dict[str, Any] | None = None,
    *,
    ticket_id: str = "T1",
    sequence: int = 7,
    reason: str = "",
    at: datetime = AT,
) -> events_pb2.EventEnvelope:
    spec = EventSpec(
        event_id=f"{ticket_id or 'x'}/{sequence}",
        type=type_,
        subject=f"helpdesk.{type_}",
        ticket_id=ticket_id,
        sequence=sequence,
        occurred_at=at,
        actor=actor,
        reason=reason,
        payload=payload or {},
    )
    return envelope(spec, {})


def item(envelope_: events_pb2.EventEnvelope, roles: frozenset[str] | None = None) -> LedgerItem:
    decided = ledger_item(envelope_, zone=SHANGHAI, roles=roles)
    assert decided is not None
    return decided


def who(decided: LedgerItem) -> tuple[str, Post, str, ItemKind]:
    return decided.item_id, decided.post, decided.staff_id, decided.kind


def test_a_recorded_report_is_the_agents_or_the_senior_agents_who_took_it() -> None:
    created = event("ticket.created", payload={"channel": "CHANNEL_PHONE"})
    assert who(item(created, AGENT)) == ("T1/record", Post.AGENT, "amy", ItemKind.RECORD)
    assert item(created, SENIOR).post == Post.SENIOR_AGENT  # a VIP's report goes straight to them
    assert item(created, AGENT | SENIOR).post == Post.SENIOR_AGENT
    assert item(created, None).post == Post.AGENT  # an integrator's own agent id: no token


def test_an_integrators_report_is_its_own_agents_work_not_the_integrators() -> None:
    """The actor is the integrator (the caller); the person it acted for did the work."""
    created = event("ticket.created", "dev-integrator", {"channel": "CHANNEL_WEB", "on_behalf_of": "crm-7"})
    assert worker(created) == "dev-integrator/crm-7"  # its names are its own: never a desk principal's
    assert who(item(created, None)) == ("T1/record", Post.AGENT, "dev-integrator/crm-7", ItemKind.RECORD)
    assert (
        ledger_item(event("ticket.created", "dev-integrator"), zone=SHANGHAI, roles=frozenset({"integrator"}))
        is None
    )


def test_a_supplement_is_an_item_per_event() -> None:
    first, second = event("ticket.supplemented", sequence=5), event("ticket.supplemented", sequence=9)
    assert who(item(first, AGENT)) == ("T1/supplement/5", Post.AGENT, "amy", ItemKind.SUPPLEMENT)
    assert item(second, AGENT).item_id == "T1/supplement/9"


def test_only_a_first_contact_resolution_is_the_desks_answer() -> None:
    answered = event("ticket.resolved", payload={"first_contact": True}, reason="reset the modem")
    assert who(item(answered, SENIOR)) == (
        "T1/first-contact",
        Post.SENIOR_AGENT,
        "amy",
        ItemKind.FIRST_CONTACT_ANSWER,
    )
    by_team = event("ticket.resolved", "ops-1", {"work_order_id": "T1-W1", "team_id": "network"})
    assert ledger_item(by_team, zone=SHANGHAI, roles=frozenset({"ops_engineer"})) is None
    by_outage = event("ticket.resolved", "amy", {"outage_id": "O1"})
    assert ledger_item(by_outage, zone=SHANGHAI, roles=AGENT) is None


def test_a_dispatch_is_its_proposers_and_one_item_whoever_sends_it() -> None:
    facts = {"work_order_id": "T1-W1", "team_id": "network", "proposed_by": "amy"}
    proposed = item(event("review.requested", "amy", facts), AGENT)
    assert who(proposed) == ("T1/dispatch/T1-W1", Post.AGENT, "amy", ItemKind.DISPATCH)
    assert proposed.team_id == "network"
    # Sent after the review, by the senior agent: the same item, still the proposer's, whichever comes first.
    sent = event(
        "dispatch.created", "sam", {"work_order_id": "T1-W1", "team_id": "network", "dispatched_by": "amy"}
    )
    assert worker(sent) == "amy"
    assert who(item(sent, AGENT)) == ("T1/dispatch/T1-W1", Post.AGENT, "amy", ItemKind.DISPATCH)
    # Sent by a senior agent without review; an event from before dispatched_by: the actor's.
    direct = event(
        "dispatch.created", "sam", {"work_order_id": "T1-W2", "team_id": "network", "dispatched_by": "sam"}
    )
    assert who(item(direct, SENIOR)) == ("T1/dispatch/T1-W2", Post.SENIOR_AGENT, "sam", ItemKind.DISPATCH)
    older = event("dispatch.created", "sam", {"work_order_id": "T1-W2", "team_id": "network"})
    assert item(older, SENIOR).staff_id == "sam"
    routed = event("dispatch.created", "system", {"work_order_id": "T1-W1", "dispatched_by": "system"})
    assert ledger_item(routed, zone=SHANGHAI, roles=None) is None  # automatic routing: nobody's
    # Routed automatically, reviewed because it is a VIP's: the reviewer has the REVIEW, not a dispatch.
    vip = event("dispatch.created", "sam", {"work_order_id": "T1-W3", "dispatched_by": "system"})
    assert worker(vip) == "" and ledger_item(vip, zone=SHANGHAI, roles=SENIOR) is None


def test_a_chase_by_hand_is_the_chasers_by_their_role() -> None:
    facts = {"work_order_id": "T1-W1", "team_id": "network", "chase_count": 2}
    chased = item(event("dispatch.chased", "sue", facts), SURVEYOR)
    assert who(chased) == ("T1/chase/T1-W1/2", Post.SURVEYOR, "sue", ItemKind.CHASE)
    assert item(event("dispatch.chased", "sam", facts), SENIOR).post == Post.SENIOR_AGENT
    assert item(event("dispatch.chased", "amy", facts), AGENT).post == Post.AGENT
    assert ledger_item(event("dispatch.chased", "system", facts), zone=SHANGHAI, roles=None) is None


@pytest.mark.parametrize(
    ("type_", "outcome"), [("review.approved", "APPROVED"), ("review.rejected", "REJECTED")]
)
def test_a_review_grades_the_junior_agents_dispatch(type_: str, outcome: str) -> None:
    facts = {"work_order_id": "T1-W1", "team_id": "network", "proposed_by": "amy"}
    reviewed = item(event(type_, "sam", facts, reason="wrong team"), SENIOR)
    assert who(reviewed) == ("T1/review/T1-W1", Post.SENIOR_AGENT, "sam", ItemKind.REVIEW)
    assert (reviewed.subject_staff_id, reviewed.outcome) == ("amy", outcome)


def test_the_review_events_name_the_proposer() -> None:
    state = opened()
    work_order = new_work_order(state, team_id="network", now=T0, actor="amy", reason="no dial tone")
    state.view.work_orders.append(work_order)  # proposed by amy, waiting for review
    [requested] = request_review(state, work_order)
    _, [rejected] = reject(
        state, ReviewWorkOrderInput(work_order.work_order_id, False, "", "wrong", "sam"), T0
    )
    assert requested.payload["proposed_by"] == rejected.payload["proposed_by"] == "amy"


def test_callbacks_surveys_and_investigations_are_the_surveyors() -> None:
    callback = event("survey.callback_recorded", "sue", {"attempt": 1, "request_id": "cb-1"})
    assert who(item(callback, SURVEYOR)) == ("T1/callback/cb-1", Post.SURVEYOR, "sue", ItemKind.CALLBACK)
    # Without a request id the event's place names the attempt (attempt numbers restart per callback).
    unnamed = event("survey.callback_recorded", "sue", {"attempt": 1, "request_id": ""}, sequence=12)
    assert item(unnamed, SURVEYOR).item_id == "T1/callback/#12"
    survey = event("survey.submitted", "sue", {"round": 2, "rating": "SATISFIED"})
    assert who(item(survey, SURVEYOR)) == ("T1/survey/2", Post.SURVEYOR, "sue", ItemKind.SURVEY)
    finding = event("survey.investigated", "sue", {"round": 1, "responsibility": "OPS_TEAM"})
    assert who(item(finding, None)) == ("T1/investigation/1", Post.SURVEYOR, "sue", ItemKind.INVESTIGATION)


def test_a_knowledge_entry_is_the_data_managers_and_names_its_case() -> None:
    facts = {"entry_id": "K9", "version": 2, "title": "DSL resync", "ticket_id": "T1"}
    revised = item(event("knowledge.revised", "kim", facts, ticket_id="", sequence=2), KNOWLEDGE)
    assert who(revised) == ("knowledge/K9/2", Post.DATA_MANAGER, "kim", ItemKind.KNOWLEDGE_ENTRY)
    assert revised.ticket_id == "T1"
    published = event("knowledge.published", "kim", facts | {"version": 1, "ticket_id": ""}, ticket_id="")
    assert (item(published, KNOWLEDGE).item_id, item(published, KNOWLEDGE).ticket_id) == (
        "knowledge/K9/1",
        "",
    )


def test_the_archive_is_the_desks_own_and_checked_as_the_data_managers() -> None:
    archived = event("ticket.archived", "system", {"survey_round": 1}, reason="filed the next day")
    assert who(item(archived)) == ("T1/archive", Post.DATA_MANAGER, "system", ItemKind.ARCHIVE)


def test_a_report_is_the_statisticians() -> None:
    report = event("report.generated", "stan", {"report_id": "R-2026-W48"}, ticket_id="")
    assert who(item(report, STATISTICIAN)) == (
        "report/R-2026-W48",
        Post.STATISTICIAN,
        "stan",
        ItemKind.REPORT,
    )
    unnamed = event("report.generated", "stan", {}, ticket_id="", sequence=3)
    assert item(unnamed, None).item_id == f"report/{unnamed.event_id}"


@pytest.mark.parametrize("actor", ["system", "", IVR_ACTOR])
def test_the_desks_own_events_are_nobodys_work(actor: str) -> None:
    for type_ in ("ticket.created", "survey.submitted", "knowledge.published", "report.generated"):
        assert ledger_item(event(type_, actor, {"round": 1}), zone=SHANGHAI, roles=None) is None


def test_managers_ops_engineers_and_integrators_hold_no_sampled_post() -> None:
    facts = {"work_order_id": "T1-W1", "team_id": "network", "proposed_by": "amy", "chase_count": 1}
    for type_ in ("ticket.created", "review.approved", "dispatch.chased", "review.requested"):
        assert ledger_item(event(type_, "max", facts), zone=SHANGHAI, roles=MANAGER) is None
    assert ledger_item(event("ticket.created", "crm"), zone=SHANGHAI, roles=frozenset({"integrator"})) is None
    accepted = event("dispatch.accepted", "ops-1", facts)
    assert ledger_item(accepted, zone=SHANGHAI, roles=frozenset({"ops_engineer"})) is None
    assert worker(accepted) == ""  # no kind of work: the roles are not even looked up
    escalation = event("escalation.resolved", "max", {"escalation_id": "E1"})
    assert ledger_item(escalation, zone=SHANGHAI, roles=MANAGER) is None


def test_an_items_day_is_the_desks_local_day() -> None:
    before = item(event("ticket.created", at=datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)), AGENT)
    after = item(event("ticket.created", at=datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC)), AGENT)
    assert (before.day, after.day) == (date(2026, 12, 1), date(2026, 12, 2))  # midnight in Shanghai
    assert after.occurred_at == datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC)
    in_utc = ledger_item(event("ticket.created", at=after.occurred_at), zone=UTC, roles=AGENT)
    assert in_utc is not None and in_utc.day == date(2026, 12, 1)


def test_the_detail_is_short_and_shows_no_phone_number() -> None:
    long_reason = "Customer Li calls from 138 0013 8000, line 02112345678 silent. " + "x" * 300
    text = detail(event("ticket.created", reason=long_reason, payload={"team_id": "network"}))
    assert text.startswith("ticket.created (network): Customer Li calls from …, line … silent.")
    assert len(text) <= 120 and "0013" not in text and "12345678" not in text
    named = detail(event("ticket.supplemented", reason="see TK20261123000001, 电话13800138000"))
    assert named == "ticket.supplemented: see TK20261123000001, 电话…"
