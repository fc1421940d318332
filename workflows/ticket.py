"""The ticket workflow: the single writer of a ticket's lifecycle (DESIGN section 5).

It records the ticket, routes and dispatches it, keeps its deadlines as durable timers, and applies
the desk's updates. Every change runs under one lock on a copy of the state: the transitions in
``ticket_state`` decide, one local activity persists the change (its work orders in dispatch, a
callback in survey, then the ticket, its timeline and its events in intake), and only then does the
copy become the state. So when an update returns, PostgreSQL already shows the change, and a rejected
or failed change leaves nothing behind. Intake's relay publishes the events recorded with the ticket;
publishing never blocks an update.

After the repair (``ticket_patches.AFTER_CARE``, ``SURVEY_AND_ARCHIVE``) the workflow lives on: callback
attempts under the survey service's policy, a "not fixed" callback or an OPS_TEAM investigation as a
reviewed second dispatch, the satisfaction survey of a closed ticket with its expiry and investigation
deadline, and the archive the next day, after which the workflow ends (``domain.callback_attempts``,
``domain.survey_state``).

Versions (docs/workflow-versions.md): tickets live for days, so the histories of running workflows
must keep replaying on new code. From tag v1.0.0 on, a change that alters a running ticket's commands
(another activity, a different order, a new timer) goes behind ``workflow.patched("<id>")``, and the
history recorded before it is kept and replayed by ``tests/workflows/test_replay.py``; a patch id goes
only once no ticket started before it can still run.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import callback_attempts as attempts
    from domain import escalations, reports, review
    from domain import survey_state as surveys
    from domain import ticket_state as ts
    from domain.aftercare_policy import AftercarePolicy
    from domain.commands import (
        AcceptWorkOrderInput,
        AddSupplementInput,
        CancelTicketInput,
        ChaseWorkOrderInput,
        DispatchTicketInput,
        OpenEscalationInput,
        RecordCallbackInput,
        RecordInvestigationInput,
        RecordRepeatInput,
        ResolveAtFirstContactInput,
        ResolveByOutageInput,
        ResolveEscalationInput,
        ResolveWorkOrderInput,
        ReturnWorkOrderInput,
        ReviewWorkOrderInput,
        SubmitSurveyInput,
    )
    from domain.deadlines import due_alarms, next_alarm_at
    from domain.line_tests import LineTestResult
    from domain.review_policy import automatic_dispatch_needs_review
    from domain.surveys import Responsibility
    from domain.ticket import TicketStatus, TicketView
    from domain.work_orders import DispatchKind, SlaPolicyRecord, WorkOrderRecord
    from services.dispatch import contract as dispatch
    from services.intake import contract as intake
    from services.survey import contract as survey
    from workflows import alarms
    from workflows import contract as wf
    from workflows import ticket_patches as patches
    from workflows import ticket_steps as steps

REPEAT_OPENS_AN_ESCALATION = "repeat-opens-an-escalation"
"""Patch: a repeat report that escalates the ticket also opens its case in the manager hotline's queue.
Before it, the repeat only marked the ticket escalated (``ticket.escalated``) and opened no case."""


@workflow.defn(name="TicketWorkflow")
class TicketWorkflow:
    @workflow.init
    def __init__(self, input: wf.TicketWorkflowInput) -> None:
        self._state = ts.new_state(input.draft, workflow.now())
        self._lock = asyncio.Lock()
        self._changes = 0
        self._recorded = False
        self._unrecordable: ApplicationError | None = None  # why the opening could not record it
        self._writes = steps.ChangeWrites()  # of the change in progress
        self._after_care = workflow.patched(patches.AFTER_CARE)
        self._surveyed = self._after_care and workflow.patched(patches.SURVEY_AND_ARCHIVE)
        self._aftercare_policy: AftercarePolicy | None = None  # read once, when first needed
        self._callback_answers: dict[str, wf.RecordCallbackResult] = {}  # by request id
        self._survey_answers: dict[str, wf.SurveyResult] = {}  # by request id
        self._investigation_answers: dict[str, wf.SurveyResult] = {}  # by request id

    @workflow.run
    async def run(self, input: wf.TicketWorkflowInput) -> TicketView:
        try:
            async with self._lock:
                await self._open()
        except ApplicationError as refused:
            await self._fail_unrecorded(refused)
        self._recorded = True
        await self._test_the_line()
        await self._watch_deadlines()
        await workflow.wait_condition(lambda: not escalations.any_open(self._state))  # a manager's to resolve
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.view

    # --- updates ---

    @workflow.update(name=wf.AWAIT_RECORDED)
    async def await_recorded(self) -> TicketView:
        await self._wait_until_recorded()
        return self._state.view

    @workflow.update(name=wf.DISPATCH_TICKET)
    async def dispatch_ticket(self, input: DispatchTicketInput) -> wf.WorkOrderResult:
        async with self._update() as state:
            ts.check_dispatch(state, input.team_id)
            work_order, events = await self._dispatch(
                state, input.team_id, input.actor, input.reason, needs_review=input.needs_review
            )
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @dispatch_ticket.validator
    def _validate_dispatch(self, input: DispatchTicketInput) -> None:
        steps.validate(ts.check_dispatch, self._state, input.team_id)

    @workflow.update(name=wf.REVIEW_WORK_ORDER)
    async def review_work_order(self, input: ReviewWorkOrderInput) -> wf.WorkOrderResult:
        """A senior agent approves the proposed work order (maybe to another team) or rejects it."""
        async with self._update() as state:
            if input.approve:
                review.check_review(state, input)
                team_id = input.team_id or state.work_order(input.work_order_id).team_id
                policy = await steps.find_policy(state, team_id)
                if self._after_care and state.work_order(input.work_order_id).dispatch_kind == (
                    DispatchKind.SECOND_DISPATCH
                ):
                    ts.start_resolution_clock(state, policy, since=workflow.now(), capped=False)
                work_order, events = review.approve(state, input, policy, workflow.now())
            else:
                work_order, events = review.reject(state, input, workflow.now())
            self._writes.save_work_order(work_order)
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @review_work_order.validator
    def _validate_review(self, input: ReviewWorkOrderInput) -> None:
        steps.validate(review.check_review, self._state, input)

    @workflow.update(name=wf.CHASE_WORK_ORDER)
    async def chase_work_order(self, input: ChaseWorkOrderInput) -> wf.WorkOrderResult:
        async with self._update() as state:
            work_order, events = ts.chase(state, input, workflow.now())
            self._writes.save_work_order(work_order)
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @chase_work_order.validator
    def _validate_chase(self, input: ChaseWorkOrderInput) -> None:
        steps.validate(ts.check_chase, self._state, input.work_order_id)

    @workflow.update(name=wf.ACCEPT_WORK_ORDER)
    async def accept_work_order(self, input: AcceptWorkOrderInput) -> wf.WorkOrderResult:
        async with self._update() as state:
            work_order, events = ts.accept(state, input, workflow.now())
            self._writes.save_work_order(work_order)
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @accept_work_order.validator
    def _validate_accept(self, input: AcceptWorkOrderInput) -> None:
        steps.validate(ts.check_accept, self._state, input.work_order_id)

    @workflow.update(name=wf.RESOLVE_WORK_ORDER)
    async def resolve_work_order(self, input: ResolveWorkOrderInput) -> wf.WorkOrderResult:
        async with self._update() as state:
            work_order, events = ts.resolve(state, input, workflow.now())
            self._writes.save_work_order(work_order)
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @resolve_work_order.validator
    def _validate_resolve(self, input: ResolveWorkOrderInput) -> None:
        steps.validate(ts.check_resolve, self._state, input.work_order_id)

    @workflow.update(name=wf.RETURN_WORK_ORDER)
    async def return_work_order(self, input: ReturnWorkOrderInput) -> wf.WorkOrderResult:
        """The team sends the work order back (退单); the ticket waits OPEN at the desk for a new dispatch."""
        async with self._update() as state:
            work_order, events = ts.return_work_order(state, input, workflow.now())
            self._writes.save_work_order(work_order)
            await self._record(state, events)
        return wf.WorkOrderResult(work_order, state.view)

    @return_work_order.validator
    def _validate_return(self, input: ReturnWorkOrderInput) -> None:
        steps.validate(ts.check_return, self._state, input.work_order_id)

    @workflow.update(name=wf.RECORD_CALLBACK)
    async def record_callback(self, input: RecordCallbackInput) -> wf.RecordCallbackResult:
        """Closed when confirmed, or after the last attempt allowed; "not fixed" proposes a second
        dispatch (二次派单) to the team that resolved it, for a senior agent's review. A retry with the
        same request id answers as the first did."""
        if (answered := self._callback_answers.get(input.request_id)) is not None:
            return answered
        async with self._update() as state:
            team_id = ts.last_resolving_team(state)
            if self._after_care:
                policy = await self._aftercare()
                callback, events = attempts.record_attempt(state, input, policy, workflow.now())
                if self._surveyed and state.view.status == TicketStatus.CLOSED:
                    surveys.after_close(state, policy, workflow.now())
            else:
                callback, events = ts.record_callback(state, input, workflow.now())
            if state.view.status == TicketStatus.OPEN and team_id:  # else it waits at the desk
                _, dispatched = await self._dispatch(
                    state,
                    team_id,
                    input.actor,
                    "not fixed",
                    resolution_clock=not self._after_care,
                    needs_review=self._after_care,
                    kind=DispatchKind.SECOND_DISPATCH,
                )
                events += dispatched
            callback.ticket_status = str(state.view.status)
            self._writes.save_callback(callback)
            await self._record(state, events)
        result = wf.RecordCallbackResult(callback, state.view)
        if input.request_id:
            self._callback_answers[input.request_id] = result
        return result

    @record_callback.validator
    def _validate_callback(self, input: RecordCallbackInput) -> None:
        if input.request_id in self._callback_answers:
            return
        if self._after_care:
            steps.validate(attempts.check_attempt, self._state, input, workflow.now())
        else:
            steps.validate(ts.check_callback, self._state, input)

    @workflow.update(name=wf.SUBMIT_SURVEY)
    async def submit_survey(self, input: SubmitSurveyInput) -> wf.SurveyResult:
        """The customer's answer to the open survey, once; a retry with its request id answers the same."""
        if (answered := self._survey_answers.get(input.request_id)) is not None:
            return answered
        async with self._update() as state:
            events = surveys.submit(state, input, await self._aftercare(), workflow.now())
            await self._record(state, events)
        assert state.view.survey is not None
        result = wf.SurveyResult(state.view.survey, state.view)
        if input.request_id:
            self._survey_answers[input.request_id] = result
        return result

    @submit_survey.validator
    def _validate_survey(self, input: SubmitSurveyInput) -> None:
        if input.request_id not in self._survey_answers:
            steps.validate(surveys.check_submit, self._state, input)

    @workflow.update(name=wf.RECORD_INVESTIGATION)
    async def record_investigation(self, input: RecordInvestigationInput) -> wf.SurveyResult:
        """The finding on an unsatisfied survey: SERVICE_DESK is a violation against the staff member,
        OPS_TEAM a second dispatch for a senior agent's review, NOT_OURS (maybe disputed) is recorded."""
        if (answered := self._investigation_answers.get(input.request_id)) is not None:
            return answered
        async with self._update() as state:
            team_id = ts.last_resolving_team(state)
            events = surveys.investigate(state, input, await self._aftercare(), workflow.now())
            if input.disputed:
                escalation, opened = escalations.open_for_dispute(
                    state, input.finding, input.actor, workflow.now()
                )
                self._writes.save_escalation(escalation)
                events += opened
            if input.responsibility == Responsibility.SERVICE_DESK:
                violation = alarms.staff_violation(state, input.staff_id, workflow.now())
                await steps.call(dispatch.RECORD_VIOLATION, violation, dispatch.RecordViolationResult)
            if state.view.status == TicketStatus.OPEN and team_id:
                reason = f"investigation: {input.finding}"
                _, dispatched = await self._dispatch(
                    state, team_id, input.actor, reason, needs_review=True, kind=DispatchKind.SECOND_DISPATCH
                )
                events += dispatched
            await self._record(state, events)
        assert state.view.survey is not None
        result = wf.SurveyResult(state.view.survey, state.view)
        if input.request_id:
            self._investigation_answers[input.request_id] = result
        return result

    @record_investigation.validator
    def _validate_investigation(self, input: RecordInvestigationInput) -> None:
        if input.request_id not in self._investigation_answers:
            steps.validate(surveys.check_investigation, self._state, input)

    @workflow.update(name=wf.RECORD_REPEAT)
    async def record_repeat(self, input: RecordRepeatInput) -> TicketView:
        async with self._update() as state:
            events = reports.repeat(state, input)
            if escalations.escalated_by(events) and workflow.patched(REPEAT_OPENS_AN_ESCALATION):
                escalation, opened = escalations.open_for_repeat(state, workflow.now())
                self._writes.save_escalation(escalation)
                events += opened
            await self._record(state, events)
        return state.view

    @record_repeat.validator
    def _validate_repeat(self, input: RecordRepeatInput) -> None:
        steps.validate(reports.check_open, self._state)

    @workflow.update(name=wf.ADD_SUPPLEMENT)
    async def add_supplement(self, input: AddSupplementInput) -> TicketView:
        return await self._apply(reports.supplement, input)

    @add_supplement.validator
    def _validate_supplement(self, input: AddSupplementInput) -> None:
        steps.validate(reports.check_open, self._state)

    @workflow.update(name=wf.RESOLVE_AT_FIRST_CONTACT)
    async def resolve_at_first_contact(self, input: ResolveAtFirstContactInput) -> TicketView:
        async with self._update() as state:
            withdrawn, events = reports.resolve_at_first_contact(state, input, workflow.now())
            for work_order in withdrawn:
                self._writes.save_work_order(work_order)
            await self._record(state, events)
        return state.view

    @resolve_at_first_contact.validator
    def _validate_first_contact(self, input: ResolveAtFirstContactInput) -> None:
        steps.validate(reports.check_first_contact, self._state, input)

    @workflow.update(name=wf.CANCEL_TICKET)
    async def cancel_ticket(self, input: CancelTicketInput) -> TicketView:
        async with self._update() as state:
            withdrawn, events = reports.cancel(state, input, workflow.now())
            for work_order in withdrawn:
                self._writes.save_work_order(work_order)
            await self._record(state, events)
        return state.view

    @cancel_ticket.validator
    def _validate_cancel(self, input: CancelTicketInput) -> None:
        steps.validate(reports.check_cancel, self._state, input)

    @workflow.update(name=wf.RESOLVE_BY_OUTAGE)
    async def resolve_by_outage(self, input: ResolveByOutageInput) -> TicketView:
        async with self._update() as state:
            events = reports.resolve_by_outage(state, input, workflow.now())
            await self._record(state, events)
        return state.view

    @resolve_by_outage.validator
    def _validate_outage(self, input: ResolveByOutageInput) -> None:
        steps.validate(reports.check_outage_resolution, self._state, input)

    @workflow.update(name=wf.OPEN_ESCALATION)
    async def open_escalation(self, input: OpenEscalationInput) -> wf.EscalationResult:
        """A case for the manager hotline (经理热线), on an open ticket or a finished one still running."""
        async with self._update() as state:
            escalation, events = escalations.open_escalation(state, input, workflow.now())
            if events:  # else a retried opening: nothing to store again
                self._writes.save_escalation(escalation)
                await self._record(state, events)
        return wf.EscalationResult(escalation, state.view)

    @open_escalation.validator
    def _validate_open_escalation(self, input: OpenEscalationInput) -> None:
        steps.validate(escalations.check_open, self._state, input)

    @workflow.update(name=wf.RESOLVE_ESCALATION)
    async def resolve_escalation(self, input: ResolveEscalationInput) -> wf.EscalationResult:
        async with self._update() as state:
            escalation, events = escalations.resolve(state, input, workflow.now())
            if events:  # else resolved before by this request: the same answer
                self._writes.save_escalation(escalation)
                await self._record(state, events)
        return wf.EscalationResult(escalation, state.view)

    @resolve_escalation.validator
    def _validate_resolve_escalation(self, input: ResolveEscalationInput) -> None:
        steps.validate(escalations.check_resolve, self._state, input)

    async def _apply(
        self, change: Callable[[ts.TicketState, Any], list[ts.NewEvent]], arg: Any
    ) -> TicketView:
        """A change that only records: decide, persist the view and its events."""
        async with self._update() as state:
            await self._record(state, change(state, arg))
        return state.view

    # --- the lifecycle's own steps ---

    async def _open(self) -> None:
        """Acknowledge the ticket and route it: to a team, or to wait for manual dispatch.

        One record at the end keeps the create path to one write of the ticket's view; until then
        nothing is visible, and CreateTicket waits for this (wf.AWAIT_RECORDED) before it answers.
        A ticket linked to a known outage is neither routed nor on a resolution clock: the outage's
        repair resolves it (wf.RESOLVE_BY_OUTAGE).
        """
        async with self._changing() as state:
            events = ts.opened(state)
            if state.view.draft.line_test is not None:  # run by intake's starter or the IVR
                events += reports.line_tested(state, state.view.draft.line_test)
            if state.view.draft.outage_id:
                state.policy = await steps.find_policy(state, "")
                await self._record(state, events)
                return
            route, policy = await steps.route_with_policy(state)
            ts.start_resolution_clock(state, policy, since=state.view.draft.created_at, capped=True)
            if route.team_id is not None:
                needs_review = automatic_dispatch_needs_review(
                    customer_tier=state.view.draft.customer_tier, rule_requires_review=route.require_review
                )
                _, dispatched = await self._dispatch(
                    state, route.team_id, ts.SYSTEM_ACTOR, "routed", policy=policy, needs_review=needs_review
                )
                events += dispatched
            await self._record(state, events)

    async def _test_the_line(self) -> None:
        """The line test (自动测试) of a fault with a number that was opened untested (intake's starter
        could not reach the tester), kept on the ticket for repeat reports (unless the database refuses
        it for good: the ticket goes on without it rather than fail)."""
        draft = self._state.view.draft
        if draft.line_test is not None or not draft.line_testable:  # tested before, recorded with the opening
            return
        # A local activity like the others: the simulator answers at once. An adapter to a real test
        # head that takes minutes would be better as a regular activity with heartbeats.
        test = intake.RunLineTestInput(draft.fault_number)
        result = await steps.call(intake.RUN_LINE_TEST, test, LineTestResult)
        try:
            async with self._lock, self._changing() as state:
                await self._record(state, reports.line_tested(state, result))
        except ApplicationError as refused:
            workflow.logger.warning("line test of %s not recorded: %s", self._state.ticket_id, refused)

    async def _watch_deadlines(self) -> None:
        """Sleep until the next alarm, after-care step or change, and act on what is due; until the
        ticket ends (with after-care: once archived or cancelled)."""
        while self._live():
            wake_at = next_alarm_at(self._state.view.deadlines)
            if self._surveyed and (step_at := surveys.next_step_at(self._state)) is not None:
                wake_at = step_at if wake_at is None else min(wake_at, step_at)
            wait = None if wake_at is None else (wake_at - workflow.now()).total_seconds()
            if wait is None or wait > 0:
                await self._sleep(wait)
            async with self._lock:
                await self._raise_due_alarms()
                if self._surveyed:
                    await self._take_due_aftercare_steps()

    def _live(self) -> bool:
        """Whether the workflow still has work: with after-care a closed ticket is surveyed, then archived."""
        if not self._surveyed:
            return not self._state.finished
        return self._state.view.status not in (TicketStatus.ARCHIVED, TicketStatus.CANCELLED)

    async def _take_due_aftercare_steps(self) -> None:
        """The survey expires unanswered at the end of its window; a done ticket is archived on its day."""
        now = workflow.now()
        step_at = surveys.next_step_at(self._state)
        if step_at is None or step_at > now:
            return
        async with self._changing() as state:
            policy = await self._aftercare()
            events = surveys.expire(state, policy, now)
            if state.archive_at is not None and state.archive_at <= now:
                events += surveys.archive(state, now)
            await self._record(state, events)

    async def _sleep(self, seconds: float | None) -> None:
        """Until the next alarm (a durable timer) or the next change, whichever comes first."""
        seen = self._changes
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._changes != seen, timeout=seconds, timeout_summary="next deadline alarm"
            )

    async def _raise_due_alarms(self) -> None:
        now = workflow.now()
        if not self._live() or not due_alarms(self._state.view.deadlines, now):
            return
        async with self._changing() as state:
            events: list[ts.NewEvent] = []
            for alarm in due_alarms(state.view.deadlines, now):
                raised, violation = alarms.raise_alarm(state, alarm, now)
                events += raised
                if violation is not None:
                    result = await steps.call(
                        dispatch.RECORD_VIOLATION,
                        violation,
                        dispatch.RecordViolationResult,
                    )
                    if result.work_order is not None:
                        events += ts.chased(
                            state, result.work_order, f"{violation.deadline_kind} deadline missed"
                        )
            await self._record(state, events)

    async def _dispatch(
        self,
        state: ts.TicketState,
        team_id: str,
        actor: str,
        reason: str,
        *,
        policy: SlaPolicyRecord | None = None,
        resolution_clock: bool = False,
        needs_review: bool = False,
        kind: DispatchKind | None = None,
    ) -> tuple[WorkOrderRecord, list[ts.NewEvent]]:
        """A new work order to the team under its SLA policy (with a fresh resolution clock if asked).

        One that ``needs_review`` waits at the desk (PENDING_REVIEW) and has no response deadline yet.
        """
        now = workflow.now()
        if needs_review:
            work_order = ts.new_work_order(
                state, team_id=team_id, now=now, actor=actor, reason=reason, kind=kind
            )
            state.view.work_orders.append(work_order)
            events = review.request_review(state, work_order)
        else:
            policy = policy or await steps.find_policy(state, team_id)
            if resolution_clock:
                ts.start_resolution_clock(state, policy, since=now, capped=False)
            work_order, events = ts.dispatch(
                state, team_id=team_id, policy=policy, now=now, actor=actor, reason=reason, kind=kind
            )
        self._writes.save_work_order(work_order)
        return work_order, events

    # --- changes: serialized, applied to a copy, kept once persisted ---

    @asynccontextmanager
    async def _update(self) -> AsyncIterator[ts.TicketState]:
        """An update's change: after the ticket is recorded, under the lock, re-checked there."""
        await self._wait_until_recorded()
        async with self._lock, self._changing() as state:
            yield state

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[ts.TicketState]:
        """A change on a copy of the state, kept once persisted. A refused one (``steps.refusal``: a
        transition not allowed, a write refused for good) fails its update and leaves no trace."""
        state = copy.deepcopy(self._state)
        self._writes.discard()
        try:
            yield state
        except Exception as err:
            refused = steps.refusal(err)
            if refused is None:
                raise
            self._writes.discard()
            raise refused from None
        self._state = state
        self._changes += 1

    async def _aftercare(self) -> AftercarePolicy:
        """The survey service's after-care policy, read once when the ticket first needs it."""
        if self._aftercare_policy is None:
            asked = survey.FindAftercarePolicyInput(self._state.ticket_id)
            self._aftercare_policy = await steps.call(survey.FIND_AFTERCARE_POLICY, asked, AftercarePolicy)
        return self._aftercare_policy

    async def _wait_until_recorded(self) -> None:
        """Until the opening has recorded the ticket; if it never can, the update fails with the reason."""
        await workflow.wait_condition(lambda: self._recorded or self._unrecordable is not None)
        if (refused := self._unrecordable) is not None:
            raise ApplicationError(refused.message, *refused.details, type=refused.type, non_retryable=True)

    async def _fail_unrecorded(self, refused: ApplicationError) -> NoReturn:
        """No ticket to run (its draft cannot be stored): the updates waiting for it get the reason,
        then the workflow fails with it (shown in the Temporal UI) rather than retry in a loop."""
        workflow.logger.error("ticket %s cannot be recorded: %s", self._state.ticket_id, refused.message)
        self._unrecordable = refused
        await workflow.wait_condition(workflow.all_handlers_finished)
        raise refused

    async def _record(self, state: ts.TicketState, events: list[ts.NewEvent]) -> None:
        """Persist the view and append the events to its timeline; intake's relay publishes them."""
        if self._after_care and attempts.callback_queue_changed(self._state.view, state.view):
            entry = attempts.pending_callback(state, await self._aftercare())
            self._writes.save_pending_callback(entry)
        if (
            self._after_care
            and state.view.survey is not None
            and state.view.survey != self._state.view.survey
        ):
            self._writes.save_survey(state.view.survey)
        now = workflow.now()
        stamped = ts.stamp(state, events, now=now, new_id=lambda: str(workflow.uuid4()))
        state.view.updated_at = now
        await self._writes.record(intake.RecordTicketInput(state.view, stamped))
