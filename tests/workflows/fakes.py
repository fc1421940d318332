"""Honest fakes of the activities the ticket workflow calls, and the workers that serve them.

Each fake has the real activity's name and dataclasses and keeps what it is given in memory, the
way the real service would keep it in PostgreSQL or JetStream: tickets and their timelines (events
appended once per id, and queued for intake's relay), work orders, violations (once per id, with the
chase), callbacks, escalations. The services' writes run inside the real persisting step
(``TicketPersistence``) as they do in the worker. Like PostgreSQL, the stores refuse a NUL in any
text, with asyncpg's error, and like the real activities they fail for good on it.
Routing and SLA policies are data, decided by the dispatch service's own pure functions
(``routing.route``, ``policies.on_team_calendar``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from desk.events import EventSpec
from desk.records import to_json
from desk.storage_errors import final_storage_errors
from domain.aftercare_policy import AftercarePolicy
from domain.callbacks import CallbackRecord, PendingCallback
from domain.hotline import EscalationRecord
from domain.line_tests import LineTestResult
from domain.surveys import SurveyRecord
from domain.ticket import TicketView
from domain.work_orders import SlaPolicyRecord, WorkOrderRecord
from services.dispatch import contract as dispatch
from services.dispatch.policies import on_team_calendar
from services.dispatch.repository import TeamRow
from services.dispatch.routing import route
from services.intake import contract as intake
from services.intake.opening.line_test import SimulatedLineTester
from services.survey import contract as survey
from workflows.ticket import TicketWorkflow
from workflows.ticket_persistence import TicketPersistence

HOUR = 3600.0

# The services' writes in ``FakeDesk.calls``: they run inside the persisting step, not as activities.
RECORD_TICKET = "intake: record ticket"
SAVE_WORK_ORDER = "dispatch: save work order"
SAVE_CALLBACK = "survey: save callback"
SAVE_ESCALATION = "survey: save escalation"
SAVE_PENDING_CALLBACK = "survey: save pending callback"
SAVE_SURVEY = "survey: save survey"


def default_policy() -> SlaPolicyRecord:
    return SlaPolicyRecord(
        priority="",
        customer_tier="",
        team_id="",
        response_seconds=2 * HOUR,
        resolution_seconds=24 * HOUR,
        callback_seconds=24 * HOUR,
    )


@dataclass
class FakeDesk:
    """The services and NATS, as far as the ticket workflow can see them."""

    teams_by_category: dict[str, list[str]] = field(default_factory=dict)
    rules: list[dispatch.RoutingRuleRecord] = field(default_factory=list)
    team_calendars: dict[str, tuple[str, str]] = field(default_factory=dict)  # team -> (calendar, zone)
    policy: SlaPolicyRecord = field(default_factory=default_policy)
    team_policies: dict[str, SlaPolicyRecord] = field(default_factory=dict)
    line_tester: SimulatedLineTester = field(default_factory=SimulatedLineTester)  # the real default
    aftercare_policy: AftercarePolicy = field(default_factory=AftercarePolicy)

    calls: list[str] = field(default_factory=list)  # activity names and the writes above, in call order
    tickets: dict[str, TicketView] = field(default_factory=dict)
    timelines: dict[str, list[EventSpec]] = field(default_factory=dict)
    work_orders: dict[str, WorkOrderRecord] = field(default_factory=dict)
    violations: dict[str, dispatch.RecordViolationInput] = field(default_factory=dict)
    routings: list[dispatch.RouteTicketInput] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    escalations: dict[str, EscalationRecord] = field(default_factory=dict)  # by id, as last saved
    pending_callbacks: dict[str, PendingCallback] = field(default_factory=dict)  # survey's callback queue
    surveys: dict[tuple[str, int], SurveyRecord] = field(default_factory=dict)  # by (ticket, round)
    outboxed: list[EventSpec] = field(default_factory=list)  # queued for intake's relay, in order

    @final_storage_errors
    async def record_ticket(self, input: intake.RecordTicketInput) -> None:
        self.calls.append(RECORD_TICKET)
        storable(input.view, input.timeline)
        ticket_id = input.view.draft.ticket_id
        self.tickets[ticket_id] = input.view
        timeline = self.timelines.setdefault(ticket_id, [])
        known = {e.event_id for e in timeline}
        new = [e for e in input.timeline if e.event_id not in known]
        timeline.extend(new)
        self.outboxed.extend(new)

    @activity.defn(name=dispatch.ROUTE_TICKET)
    async def route_ticket(self, input: dispatch.RouteTicketInput) -> dispatch.RouteTicketResult:
        self.calls.append(dispatch.ROUTE_TICKET)
        self.routings.append(input)
        routed = route(input, rules=self.rules, teams=self.teams())
        if input.priority:
            team = next((t for t in self.teams() if t.team_id == routed.team_id), None)
            routed.policy = on_team_calendar(self.team_policies.get(routed.team_id or "", self.policy), team)
        return routed

    @activity.defn(name=dispatch.FIND_SLA_POLICY)
    async def find_sla_policy(self, input: dispatch.FindSlaPolicyInput) -> SlaPolicyRecord:
        self.calls.append(dispatch.FIND_SLA_POLICY)
        team = next((t for t in self.teams() if t.team_id == input.team_id), None)
        return on_team_calendar(self.team_policies.get(input.team_id, self.policy), team)

    def teams(self) -> list[TeamRow]:
        """Every team named in the routing table, each taking the categories it is listed under."""
        names = sorted(
            {t for teams in self.teams_by_category.values() for t in teams} | set(self.team_calendars)
        )
        return [
            TeamRow(
                team_id=name,
                name=name,
                categories=[c for c, teams in self.teams_by_category.items() if name in teams],
                regions=[],
                calendar=self.team_calendars.get(name, ("24X7", ""))[0],
                time_zone=self.team_calendars.get(name, ("", "Asia/Shanghai"))[1],
                on_call_contacts=[],
                active=True,
            )
            for name in names
        ]

    @final_storage_errors
    async def save_work_order(self, input: dispatch.SaveWorkOrderInput) -> None:
        self.calls.append(SAVE_WORK_ORDER)
        storable(input.work_order)
        self.work_orders[input.work_order.work_order_id] = input.work_order

    @activity.defn(name=dispatch.RECORD_VIOLATION)
    async def record_violation(self, input: dispatch.RecordViolationInput) -> dispatch.RecordViolationResult:
        self.calls.append(dispatch.RECORD_VIOLATION)
        recorded = input.violation_id not in self.violations
        chased = self.work_orders.get(input.work_order_id)
        if recorded:
            self.violations[input.violation_id] = input
            if chased is not None:
                chased.chase_count += 1
                chased.last_chased_at = input.recorded_at
        return dispatch.RecordViolationResult(recorded, copy.deepcopy(chased))

    @activity.defn(name=intake.RUN_LINE_TEST)
    async def run_line_test(self, input: intake.RunLineTestInput) -> LineTestResult:
        self.calls.append(intake.RUN_LINE_TEST)
        return await self.line_tester.test(input.fault_number)

    @final_storage_errors
    async def save_callback(self, input: survey.SaveCallbackInput) -> None:
        self.calls.append(SAVE_CALLBACK)
        storable(input.callback)
        self.callbacks.append(input.callback)

    @final_storage_errors
    async def save_escalation(self, input: survey.SaveEscalationInput) -> None:
        self.calls.append(SAVE_ESCALATION)
        storable(input.escalation)
        self.escalations[input.escalation.escalation_id] = copy.deepcopy(input.escalation)

    async def save_pending_callback(self, input: survey.SavePendingCallbackInput) -> None:
        self.calls.append(SAVE_PENDING_CALLBACK)
        if input.entry.pending:
            self.pending_callbacks[input.entry.ticket_id] = input.entry
        else:
            self.pending_callbacks.pop(input.entry.ticket_id, None)

    @final_storage_errors
    async def save_survey(self, input: survey.SaveSurveyInput) -> None:
        self.calls.append(SAVE_SURVEY)
        storable(input.survey)
        self.surveys[input.survey.ticket_id, input.survey.round] = copy.deepcopy(input.survey)

    @activity.defn(name=survey.FIND_AFTERCARE_POLICY)
    async def find_aftercare_policy(self, input: survey.FindAftercarePolicyInput) -> AftercarePolicy:
        self.calls.append(survey.FIND_AFTERCARE_POLICY)
        return self.aftercare_policy

    def events(self, ticket_id: str, type: str | None = None) -> list[EventSpec]:
        """The ticket's timeline as persisted, optionally of one event type."""
        return [e for e in self.timelines.get(ticket_id, []) if type in (None, e.type)]


def storable(*records: object) -> None:
    """Refuse what PostgreSQL refuses for good, as asyncpg raises it: a NUL in a text or jsonb value."""
    if any("\\u0000" in to_json(record) for record in records):
        raise asyncpg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')


@asynccontextmanager
async def serving(client: Client, desk: FakeDesk, task_queue: str) -> AsyncIterator[FakeDesk]:
    """Run the ticket workflow on ``task_queue`` with the fakes beside it, as the real worker hosts them."""
    activities: list[Callable[..., Any]] = [
        desk.route_ticket,
        desk.find_sla_policy,
        desk.record_violation,
        desk.run_line_test,
        desk.find_aftercare_policy,
        TicketPersistence(intake=desk, dispatch=desk, survey=desk).persist_change,  # the real one, over fakes
    ]
    async with Worker(client, task_queue=task_queue, workflows=[TicketWorkflow], activities=activities):
        yield desk
