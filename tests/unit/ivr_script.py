"""Scripted IVR calls for the flow's tests: each turn's event and the exact answer the flow must give."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.ivr_contract import (
    Action,
    AwaitInput,
    CheckExchange,
    CheckOutage,
    CheckRepeat,
    Collect,
    CreateTicket,
    Effect,
    EndReason,
    Event,
    ExchangeChecked,
    Input,
    LineTested,
    LineTestResult,
    NoInput,
    OutageChecked,
    Prompt,
    RepeatChecked,
    RunLineTest,
    Say,
    TicketCreated,
    say,
)
from workflows.ivr_flow import IvrCall, Stage, advance, start_call

KEY = AwaitInput(Collect.KEY, 10)
ENTRY = AwaitInput(Collect.ENTRY, 10)
RECORD = AwaitInput(Collect.RECORDING, 10)
NUMBER = "83001234"
CONTACT = "13800136138"
SYMPTOM = "3"  # a key-coded symptom
TICKET = "T-9"
V1, V3, V5, V7, V8, V9, V10, V11 = (
    say(p) for p in (Prompt.V1, Prompt.V3, Prompt.V5, Prompt.V7, Prompt.V8, Prompt.V9, Prompt.V10, Prompt.V11)
)
AGENT_OFFER = say(Prompt.AGENT_OFFER)


def v2(number: str = NUMBER) -> Say:
    return say(Prompt.V2, number=number)


def v6(contact: str = CONTACT, symptom: str = SYMPTOM) -> Say:
    return say(Prompt.V6, contact=contact, symptom=symptom)


def playback(message: str) -> Say:
    return say(Prompt.MESSAGE_PLAYBACK, message=message)


@dataclass(frozen=True)
class Turn:
    """One event of a scripted call and what the flow must answer."""

    event: Event
    say: tuple[Say, ...]
    action: Action
    effects: tuple[Effect, ...] = ()


def run(*turns: Turn) -> IvrCall:
    """Play a call from its start; each turn's prompts, action and effects must match exactly."""
    step = start_call()
    assert (step.say, step.action, step.effects) == ((V1,), ENTRY, ())
    for number, turn in enumerate(turns, 1):
        step = advance(step.call, turn.event)
        expected = (turn.say, turn.action, turn.effects)
        assert (step.say, step.action, step.effects) == expected, f"turn {number}: {turn.event}"
    return step.call


def key(text: str, *prompts: Say, action: Action = KEY, effects: tuple[Effect, ...] = ()) -> Turn:
    return Turn(Input(text), prompts, action, effects)


def silence(*prompts: Say, action: Action = KEY) -> Turn:
    return Turn(NoInput(), prompts, action)


def number_entered(number: str = NUMBER) -> list[Turn]:
    """Seed steps 2-5 passed: number confirmed, exchange known, no outage; the repeat check is asked."""
    return [
        key(f"{number}#", v2(number)),
        key("1", action=CheckExchange(number)),
        Turn(ExchangeChecked(known=True), (), CheckOutage(number)),
        Turn(OutageChecked(), (), CheckRepeat(number)),
    ]


def line_tested(result: LineTestResult = LineTestResult.ABNORMAL, detail: str = "no dial tone") -> list[Turn]:
    """A new report (not a repeat), its line tested: V5 asks for contact and symptom."""
    return [
        *number_entered(),
        Turn(RepeatChecked(), (), RunLineTest(NUMBER)),
        Turn(LineTested(result, detail), (V5,), ENTRY),
    ]


def accepted(result: LineTestResult = LineTestResult.ABNORMAL, detail: str = "no dial tone") -> list[Turn]:
    """Steps 8-10: contact and symptom confirmed, the ticket created, V9 + test result + V7 played."""
    return [
        *line_tested(result, detail),
        key(f"{CONTACT}*{SYMPTOM}#", v6()),
        key("1", action=CreateTicket(NUMBER, CONTACT, SYMPTOM, result, detail)),
        Turn(
            TicketCreated(TICKET),
            (V9, say(Prompt.TEST_RESULT, variant=result, detail=detail), V7),
            KEY,
        ),
    ]


def ended(call: IvrCall, reason: EndReason) -> None:
    assert (call.stage, call.end) == (Stage.ENDED, reason)
