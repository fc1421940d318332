"""The IVR call workflow (自动受理, seed 002 一): one call, ``ivr/<call_id>``, driven turn by turn.

The pure flow (:mod:`workflows.ivr_flow`) decides everything; this workflow drives it:

- It runs each step's effects (record the repeat, leave the message) and lookups (exchange, outage,
  open ticket, line test, create the ticket) as local activities and feeds their answers back. A
  lookup that gives up is ``LookupFailed`` (the flow transfers to an agent); an effect that cannot be
  done now goes on retrying in the background (the workflow finishes it before it completes), one
  refused for good (the ticket closed meanwhile) is logged and left.
- It publishes a **turn** (``IvrTurnView``, numbered from 1) whenever the flow waits for the caller,
  ends the call, or holds: the line test was busy, so the caller hears PLEASE_WAIT while a durable
  timer runs before the next try. A hold is a turn of its own (awaiting NONE, not ended), so the
  switch plays it at once instead of waiting in silence for the test.
- The caller's input is the update ``IVR_INPUT`` for one turn number, answered with the next turn
  once everything up to it is done. It is applied once: the same input for an answered turn gets
  that turn's answer again; another input for it, one for a turn not reached, during a hold, or
  after the call ended, is refused by the validator.
- The switch runs the flow's no-input timer after the prompts have played. The workflow has one
  too, as a backstop for a switch that never reports: the flow's timeout plus an allowance for the
  prompts to play (and for a recording to be made). When it fires, the workflow goes on with
  NoInput itself; a later no-input report for that turn gets the same answer.

The workflow completes with the call and returns its last turn. Calls last minutes, but a worker
deploy may still meet one: from v1.0.0 on, a change to its commands follows the ticket workflow's
rule (docs/workflow-versions.md; its histories are ``tests/workflows/histories/ivr/``).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from domain.line_tests import LineTestResult as LineTestRecord  # the flow's LineTestResult is a verdict
    from services.intake import contract as intake
    from workflows.contract import (
        AWAITING_NOTHING,
        IVR_CURRENT_TURN,
        IVR_INPUT,
        IVR_TURN,
        TRANSITION_NOT_ALLOWED,
        IvrCallInput,
        IvrInput,
        IvrPromptView,
        IvrTurnView,
    )
    from workflows.ivr_contract import (
        Action,
        AwaitInput,
        CheckExchange,
        CheckOutage,
        CheckRepeat,
        Collect,
        CreateTicket,
        Effect,
        Event,
        ExchangeChecked,
        Hangup,
        Input,
        LeaveMessage,
        LineTested,
        LineTestResult,
        LookupFailed,
        NoInput,
        OutageChecked,
        RecordRepeat,
        RepeatChecked,
        RunLineTest,
        Say,
        TicketCreated,
        TransferToAgent,
        render,
    )
    from workflows.ivr_flow import IvrCall, Step, advance, start_call

Result = TypeVar("Result")

PLAYBACK_ALLOWANCE_SECONDS = 30
"""The workflow's own no-input timer waits this much longer than the flow's: the switch starts its
timer only once the turn's prompts have played, so a shorter one would cut callers off."""
RECORDING_ALLOWANCE_SECONDS = 180
"""A message for the repairman is recorded before it is sent: allow for the recording itself."""

LOOKUP_TIMEOUT = timedelta(seconds=10)
CREATE_TIMEOUT = timedelta(seconds=30)  # starts the ticket's workflow and waits until it is recorded
LOOKUP_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3)
"""The caller is on the line: a lookup that fails three times gives up, and an agent takes over."""
WRITE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
"""A write that must not be lost (the repeat, the message) is retried until it is done."""
_FAILED = (ActivityError, ApplicationError, ActivityTimeout)
"""How a local activity that gave up surfaces: its own error, not always wrapped in ActivityError."""


@dataclass
class _Answered:
    input: IvrInput
    next: IvrTurnView  # the turn published after it: the update's answer


@workflow.defn(name="IvrCallWorkflow")
class IvrCallWorkflow:
    @workflow.init
    def __init__(self, input: IvrCallInput) -> None:
        self._call_id = input.call_id
        self._caller = input.caller_number
        self._switch = input.switch
        self._first = start_call()
        self._turn = self._view(1, self._first, self._first.say)
        self._inbox: IvrInput | None = None  # the input being acted on
        self._answered: dict[int, _Answered] = {}
        self._line_test: LineTestRecord | None = None  # the record of the call's last test
        self._writes: list[asyncio.Task[None]] = []  # effects retried in the background

    @workflow.run
    async def run(self, input: IvrCallInput) -> IvrTurnView:
        step = self._first
        while isinstance(step.action, AwaitInput):
            answer = await self._input(step.action)
            step = await self._settle(advance(step.call, _event(answer)))
        await asyncio.gather(*self._writes)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._turn

    # --- the switch's side ---

    @workflow.update(name=IVR_CURRENT_TURN)
    def current_turn(self) -> IvrTurnView:
        return self._turn

    @workflow.query(name=IVR_TURN)
    def turn(self) -> IvrTurnView:
        return self._turn

    @workflow.update(name=IVR_INPUT)
    async def ivr_input(self, input: IvrInput) -> IvrTurnView:
        if input.turn not in self._answered:
            self._check_current(input)
            self._inbox = self._inbox or input
            await workflow.wait_condition(lambda: input.turn in self._answered)
        answered = self._answered[input.turn]
        if not _same(answered.input, input):
            raise _refused(f"turn {input.turn} was already answered")
        return answered.next

    @ivr_input.validator
    def _validate_input(self, input: IvrInput) -> None:
        answered = self._answered.get(input.turn)
        if answered is None:
            self._check_current(input)
        elif not _same(answered.input, input):
            raise _refused(f"turn {input.turn} was already answered")

    def _check_current(self, input: IvrInput) -> None:
        if self._turn.ended:
            raise _refused("the call has ended")
        if input.turn != self._turn.turn:
            raise _refused(f"turn {input.turn} is not the current turn {self._turn.turn}")
        if self._turn.awaiting == AWAITING_NOTHING:
            raise _refused("the call is on hold: no input is expected now")
        if self._inbox is not None and not _same(self._inbox, input):
            raise _refused(f"turn {input.turn} is already being answered")

    # --- driving the flow ---

    async def _input(self, action: AwaitInput) -> IvrInput:
        """The caller's input for the current turn, or NoInput once the backstop timer has fired."""
        turn = self._turn.turn
        allowance = RECORDING_ALLOWANCE_SECONDS if action.collect is Collect.RECORDING else 0
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._inbox is not None,
                timeout=action.timeout_seconds + PLAYBACK_ALLOWANCE_SECONDS + allowance,
                timeout_summary=f"no input for turn {turn}",
            )
        if self._inbox is None:  # an input that came with the timer still wins
            self._inbox = IvrInput(turn, no_input=True)
        return self._inbox

    async def _settle(self, step: Step) -> Step:
        """Do the step's effects and lookups until the flow waits for the caller or ends the call."""
        prompts = list(step.say)
        while True:
            await self._effects(step.call, step.effects)
            action = step.action
            if isinstance(action, AwaitInput | TransferToAgent | Hangup):
                self._publish(self._view(self._turn.turn + 1, step, prompts))
                return step
            if isinstance(action, RunLineTest) and action.delay_seconds:
                self._publish(self._view(self._turn.turn + 1, step, prompts, hold=action.delay_seconds))
                prompts = []
                await workflow.sleep(action.delay_seconds, summary="line test busy: wait, then test again")
            step = advance(step.call, await self._lookup(action))
            prompts += step.say

    def _publish(self, turn: IvrTurnView) -> None:
        """The next turn; the input that led to it is answered with it."""
        self._turn = turn
        if self._inbox is not None:
            self._answered[self._inbox.turn] = _Answered(self._inbox, turn)
            self._inbox = None

    async def _lookup(self, action: Action) -> Event:
        try:
            match action:
                case CheckExchange(number):
                    return await _local(
                        intake.IVR_CHECK_EXCHANGE, intake.IvrNumberInput(number), ExchangeChecked
                    )
                case CheckOutage(number):
                    return await _local(intake.IVR_CHECK_OUTAGE, intake.IvrNumberInput(number), OutageChecked)
                case CheckRepeat(number):
                    return await _local(intake.IVR_CHECK_REPEAT, intake.IvrNumberInput(number), RepeatChecked)
                case RunLineTest(number):
                    test = intake.RunLineTestInput(number)
                    self._line_test = await _local(intake.RUN_LINE_TEST, test, LineTestRecord)
                    return LineTested(LineTestResult(self._line_test.result.value), self._line_test.detail)
                case CreateTicket():
                    report = intake.IvrTicketInput(
                        self._call_id,
                        self._caller,
                        action.fault_number,
                        action.contact,
                        action.symptom,
                        self._line_test,
                        switch=self._switch,
                    )
                    return await _local(intake.IVR_CREATE_TICKET, report, TicketCreated, CREATE_TIMEOUT)
        except _FAILED as error:
            workflow.logger.warning("IVR lookup %s gave up: %s", type(action).__name__, error)
            return LookupFailed(str(error))
        raise AssertionError(f"not a lookup: {action!r}")

    async def _effects(self, call: IvrCall, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            name, arg = self._effect(call, effect)
            try:
                await _write(name, arg)
            except _FAILED as error:
                cause = error.cause if isinstance(error, ActivityError) else error
                if isinstance(cause, ApplicationError) and cause.non_retryable:
                    workflow.logger.warning("IVR %s refused: %s", name, cause)
                    continue
                self._writes.append(asyncio.create_task(_write_for_good(name, arg)))

    def _effect(self, call: IvrCall, effect: Effect) -> tuple[str, object]:
        match effect:
            case RecordRepeat(ticket_id):
                repeat = intake.IvrRepeatInput(
                    self._call_id, ticket_id, call.number, self._caller, workflow.now(), switch=self._switch
                )
                return intake.IVR_RECORD_REPEAT, repeat
            case LeaveMessage(ticket_id, message):
                return intake.IVR_LEAVE_MESSAGE, intake.IvrMessageInput(self._call_id, ticket_id, message)
        raise AssertionError(f"not an effect: {effect!r}")

    def _view(
        self, turn: int, step: Step, prompts: tuple[Say, ...] | list[Say], hold: int = 0
    ) -> IvrTurnView:
        action, call = step.action, step.call
        waiting = isinstance(action, AwaitInput)
        return IvrTurnView(
            call_id=self._call_id,
            turn=turn,
            prompts=[_prompt(said) for said in prompts],
            awaiting=action.collect.value if isinstance(action, AwaitInput) else AWAITING_NOTHING,
            timeout_seconds=action.timeout_seconds if isinstance(action, AwaitInput) else hold,
            ended=not waiting and not hold,
            end_reason=call.end.value if call.end else "",
            transfer_to_agent=isinstance(action, TransferToAgent),
            to_main_menu=isinstance(action, Hangup) and action.to_main_menu,
            ticket_id=call.ticket_id,
            fault_number=call.number,
        )


async def _local(
    activity: str, arg: object, result_type: type[Result], limit: timedelta = LOOKUP_TIMEOUT
) -> Result:
    """A lookup: bounded retries, since the caller is waiting."""
    result: Result = await workflow.execute_local_activity(
        activity, arg, result_type=result_type, start_to_close_timeout=limit, retry_policy=LOOKUP_RETRY
    )
    return result


async def _write(activity: str, arg: object) -> None:
    await workflow.execute_local_activity(
        activity, arg, start_to_close_timeout=LOOKUP_TIMEOUT, retry_policy=LOOKUP_RETRY
    )


async def _write_for_good(activity: str, arg: object) -> None:
    """A write the quick attempts could not do: a regular activity, retried until it is done."""
    await workflow.execute_activity(
        activity, arg, start_to_close_timeout=LOOKUP_TIMEOUT, retry_policy=WRITE_RETRY
    )


def _event(answer: IvrInput) -> Event:
    return NoInput() if answer.no_input else Input(answer.text)


def _same(a: IvrInput, b: IvrInput) -> bool:
    """The same answer to a turn: both silence, or the same entry ('#' and spaces aside)."""
    if a.no_input or b.no_input:
        return a.no_input == b.no_input
    return _entry(a.text) == _entry(b.text)


def _entry(text: str) -> str:
    return text.strip().removesuffix("#").strip()


def _prompt(said: Say) -> IvrPromptView:
    return IvrPromptView(said.prompt.value, render(said, "zh"), render(said, "en"), dict(said.params))


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type=TRANSITION_NOT_ALLOWED, non_retryable=True)
