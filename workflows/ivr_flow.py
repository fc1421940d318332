"""IVR self-service for fault reports (自动受理, seed 002 一): the call flow as a pure state machine.

No Temporal, no I/O, no clock: a workflow drives a call by feeding events to :func:`advance` and
doing what each :class:`Step` says, in order: run ``effects`` (writes whose answer the flow does
not need), play ``say``, then do ``action``. A lookup action (``CheckExchange``, ``CheckOutage``,
``CheckRepeat``, ``RunLineTest``, ``CreateTicket``) is answered by its result event (or
``LookupFailed``); ``AwaitInput`` by ``Input`` or, after ``timeout_seconds`` of silence, ``NoInput``;
``TransferToAgent`` and ``Hangup`` end the call (``Stage.ENDED``). An event the stage does not expect
raises ``TransitionNotAllowed`` (a driver bug). Events, actions and prompts are named in
:mod:`workflows.ivr_contract`.

Seed steps → stages:
  1     the caller chose fault reporting             → :func:`start_call` plays V1
  2-3   fault number, read back, confirm             → ENTER_NUMBER (V1/V3), CONFIRM_NUMBER (V2)
  4     exchange prefix known?                       → CHECK_EXCHANGE (unknown: V3, enter again)
  5     repaired / engineering works?                → CHECK_OUTAGE (yes: V4, back to the 1000 menu)
  5-6   repeat report?                               → CHECK_REPEAT
  6-7   repeat: message or last result, agent?       → OFFER_AGENT (REPAIRMAN_MESSAGE or LAST_TEST_RESULT,
                                                       then AGENT_OFFER)
  8     new report: line test, waiting if busy       → LINE_TEST (PLEASE_WAIT)
  8-9   contact number and symptom, read back        → ENTER_CONTACT (V5), CONFIRM_CONTACT (V6)
  10    record the report, play the test result      → CREATE_TICKET (then V9, TEST_RESULT)
  11    message for the repairman                    → OFFER_MESSAGE (V7), RECORD_MESSAGE (V8),
                                                       CONFIRM_MESSAGE (MESSAGE_PLAYBACK, V10)
  end   other service or exit (V11)                  → OTHER_SERVICE

Where the seed is ambiguous:
- Step 3 says "not more than three times → agent; more than three → exit", which contradicts itself;
  as the issue asks, a caller has MAX_TRIES (3) tries to give a confirmed number of a known exchange;
  each silence, malformed number (V3), unknown exchange (V3), unconfirmed read-back (V2 again) or "2"
  at V2 (V1 again) uses one, and the third failure transfers to an agent.
- Step 5: "repaired" and "engineering works" both play V4 (its two sentences; the outage one with
  cause and ETA) and return the caller to the 1000 main menu: ``Hangup(KNOWN_OUTAGE, to_main_menu)``.
- Step 6: ``RepeatChecked.repeat_count`` is the repeats already on the open ticket; this call is one
  more, so more than MAX_REPEATS once the count reaches 3 → agent. The repeat is recorded
  (``RecordRepeat`` effect) either way. Step 7's question has no V prompt: AGENT_OFFER, "1 transfer,
  2 end" (not V11, whose "other service" means the main menu). Silence ends the call.
- Step 8: while the line test cannot run, the caller hears PLEASE_WAIT and the test is retried after
  LINE_TEST_WAIT_SECONDS, at most MAX_LINE_TEST_WAITS times; then intake goes on with the result
  UNAVAILABLE (played at step 10) so the caller is never held indefinitely.
- Step 9: V5 is one entry ``<contact digits>*<symptom>#``; the symptom is kept verbatim (key codes, or
  the platform's transcript / recording reference), V6 reads both back. Silence at V5 or V6 ends
  the call (the seed's "没有输入…或没有确认时,申告受理结束"); a malformed entry, an invalid key and
  "2" at V6 each use one of MAX_TRIES, then the call ends too.
- Step 11: V7 offers only "1"; anything else or silence skips the message. At V10, "3", silence, or
  MAX_TRIES re-recordings discard the message; every path then plays V11 (1 → main menu, 2 → exit).
- Invalid keys in any menu replay it, MAX_TRIES at most, then count as the menu's silence.
- ``LookupFailed`` (an activity gave up) transfers to an agent, who takes the report by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from desk.errors import TransitionNotAllowed
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
    Hangup,
    Input,
    LeaveMessage,
    LineTested,
    LineTestResult,
    LookupFailed,
    NoInput,
    OutageChecked,
    OutageStatus,
    Prompt,
    RecordRepeat,
    RepeatChecked,
    RunLineTest,
    Say,
    TicketCreated,
    TransferToAgent,
    say,
)

MAX_TRIES = 3
MAX_REPEATS = 3
NO_INPUT_TIMEOUT_SECONDS = 10
LINE_TEST_WAIT_SECONDS = 30
MAX_LINE_TEST_WAITS = 3
PHONE_DIGITS = range(7, 13)  # local 7-8 digits, mobile 11, with area code up to 12


class Stage(StrEnum):
    ENTER_NUMBER = "ENTER_NUMBER"
    CONFIRM_NUMBER = "CONFIRM_NUMBER"
    CHECK_EXCHANGE = "CHECK_EXCHANGE"
    CHECK_OUTAGE = "CHECK_OUTAGE"
    CHECK_REPEAT = "CHECK_REPEAT"
    OFFER_AGENT = "OFFER_AGENT"
    LINE_TEST = "LINE_TEST"
    ENTER_CONTACT = "ENTER_CONTACT"
    CONFIRM_CONTACT = "CONFIRM_CONTACT"
    CREATE_TICKET = "CREATE_TICKET"
    OFFER_MESSAGE = "OFFER_MESSAGE"
    RECORD_MESSAGE = "RECORD_MESSAGE"
    CONFIRM_MESSAGE = "CONFIRM_MESSAGE"
    OTHER_SERVICE = "OTHER_SERVICE"
    ENDED = "ENDED"


@dataclass(frozen=True)
class IvrCall:
    """Everything the flow knows about one call."""

    stage: Stage = Stage.ENTER_NUMBER
    tries: int = 0  # failures in the current phase (number, contact, a menu, re-recordings)
    number: str = ""  # the fault number, as entered; confirmed from CHECK_EXCHANGE on
    ticket_id: str = ""  # the open ticket (repeat) or the one this call created
    line_test: LineTestResult | None = None
    test_detail: str = ""
    line_test_waits: int = 0
    contact: str = ""
    symptom: str = ""
    message: str = ""  # the recording for the repairman, until confirmed or discarded
    end: EndReason | None = None


@dataclass(frozen=True)
class Step:
    call: IvrCall
    say: tuple[Say, ...]
    action: Action
    effects: tuple[Effect, ...] = ()


def start_call() -> Step:
    """Seed steps 1-2: the caller chose fault reporting; ask for the fault number."""
    return _ask(IvrCall(), Collect.ENTRY, say(Prompt.V1))


def advance(call: IvrCall, event: Event) -> Step:
    """The call's next step after ``event``; ``call`` is not changed."""
    if isinstance(event, LookupFailed) and call.stage in _LOOKUPS:
        return _transfer(call, EndReason.SYSTEM_FAILURE)
    step = _HANDLERS[call.stage](call, event) if call.stage in _HANDLERS else None
    if step is None:
        raise TransitionNotAllowed(f"IVR call at {call.stage} does not expect {event!r}")
    return step


def _enter_number(call: IvrCall, event: Event) -> Step | None:
    match event:
        case NoInput():
            return _number_failed(call, Prompt.V1, Stage.ENTER_NUMBER)
        case Input(text):
            number = _entry(text)
            if not _is_phone(number):
                return _number_failed(call, Prompt.V3, Stage.ENTER_NUMBER)
            return _ask(replace(call, stage=Stage.CONFIRM_NUMBER, number=number), Collect.KEY, _v2(number))
    return None


def _confirm_number(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        return Step(replace(call, stage=Stage.CHECK_EXCHANGE), (), CheckExchange(call.number))
    if key == "2":
        return _number_failed(call, Prompt.V1, Stage.ENTER_NUMBER)
    return None if key is None else _number_failed(call, _v2(call.number), Stage.CONFIRM_NUMBER)


def _check_exchange(call: IvrCall, event: Event) -> Step | None:
    if not isinstance(event, ExchangeChecked):
        return None
    if not event.known:
        return _number_failed(call, Prompt.V3, Stage.ENTER_NUMBER)
    return Step(replace(call, stage=Stage.CHECK_OUTAGE, tries=0), (), CheckOutage(call.number))


def _check_outage(call: IvrCall, event: Event) -> Step | None:
    if not isinstance(event, OutageChecked):
        return None
    if event.status is OutageStatus.NONE:
        return Step(replace(call, stage=Stage.CHECK_REPEAT), (), CheckRepeat(call.number))
    if event.status is OutageStatus.REPAIRED:
        v4 = say(Prompt.V4, variant="repaired")
    else:
        eta = event.eta.strftime("%Y-%m-%d %H:%M") if event.eta else ""
        v4 = say(Prompt.V4, variant="outage", cause=event.cause, eta=eta)
    return _hangup(call, EndReason.KNOWN_OUTAGE, v4, to_main_menu=True)


def _check_repeat(call: IvrCall, event: Event) -> Step | None:
    if not isinstance(event, RepeatChecked):
        return None
    if event.ticket_id is None:
        return Step(replace(call, stage=Stage.LINE_TEST), (), RunLineTest(call.number))
    call = replace(call, ticket_id=event.ticket_id)
    effects = (RecordRepeat(event.ticket_id),)
    if event.repeat_count + 1 > MAX_REPEATS:
        return replace(_transfer(call, EndReason.REPEAT_OVER_LIMIT), effects=effects)
    if event.repairman_message:
        progress: tuple[Say, ...] = (say(Prompt.REPAIRMAN_MESSAGE, message=event.repairman_message),)
    elif event.last_test_result:
        progress = (say(Prompt.LAST_TEST_RESULT, result=event.last_test_result),)
    else:
        progress = ()
    step = _ask(replace(call, stage=Stage.OFFER_AGENT), Collect.KEY, *progress, say(Prompt.AGENT_OFFER))
    return replace(step, effects=effects)


def _offer_agent(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        return _transfer(call, EndReason.AGENT_REQUESTED)
    if key is None:
        return None
    ended = _hangup(call, EndReason.REPEAT_ACKNOWLEDGED)
    return ended if key in ("2", "") else _retry(call, ended, say(Prompt.AGENT_OFFER))


def _line_test(call: IvrCall, event: Event) -> Step | None:
    if not isinstance(event, LineTested):
        return None
    waits = call.line_test_waits + (event.result is LineTestResult.UNAVAILABLE)
    if event.result is LineTestResult.UNAVAILABLE and waits <= MAX_LINE_TEST_WAITS:
        waiting = replace(call, line_test_waits=waits)
        return Step(waiting, (say(Prompt.PLEASE_WAIT),), RunLineTest(call.number, LINE_TEST_WAIT_SECONDS))
    tested = replace(
        call, stage=Stage.ENTER_CONTACT, line_test=event.result, test_detail=event.detail, tries=0
    )
    return _ask(tested, Collect.ENTRY, say(Prompt.V5))


def _enter_contact(call: IvrCall, event: Event) -> Step | None:
    match event:
        case NoInput():
            return _hangup(call, EndReason.NO_CONTACT)
        case Input(text):
            contact, _, symptom = _entry(text).partition("*")
            if _is_phone(contact) and symptom.strip():
                entered = replace(call, stage=Stage.CONFIRM_CONTACT, contact=contact, symptom=symptom.strip())
                return _ask(entered, Collect.KEY, _v6(entered))
            return _retry(call, _hangup(call, EndReason.NO_CONTACT), say(Prompt.V5), Collect.ENTRY)
    return None


def _confirm_contact(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        ticket = CreateTicket(call.number, call.contact, call.symptom, _tested(call), call.test_detail)
        return Step(replace(call, stage=Stage.CREATE_TICKET), (), ticket)
    if key is None:
        return None
    ended = _hangup(call, EndReason.NO_CONTACT)
    if key == "":
        return ended
    if key == "2":
        again = replace(call, stage=Stage.ENTER_CONTACT, contact="", symptom="")
        return _retry(again, ended, say(Prompt.V5), Collect.ENTRY)
    return _retry(call, ended, _v6(call))


def _create_ticket(call: IvrCall, event: Event) -> Step | None:
    if not isinstance(event, TicketCreated):
        return None
    created = replace(call, stage=Stage.OFFER_MESSAGE, ticket_id=event.ticket_id, tries=0)
    result = say(Prompt.TEST_RESULT, variant=_tested(call), detail=call.test_detail)
    return _ask(created, Collect.KEY, say(Prompt.V9), result, say(Prompt.V7))


def _offer_message(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        return _ask(replace(call, stage=Stage.RECORD_MESSAGE), Collect.RECORDING, say(Prompt.V8))
    return None if key is None else _v11(call)


def _record_message(call: IvrCall, event: Event) -> Step | None:
    match event:
        case NoInput():
            return _v11(call)
        case Input(text):
            message = _entry(text)
            if not message:
                return _v11(call)
            recorded = replace(call, stage=Stage.CONFIRM_MESSAGE, message=message)
            return _ask(recorded, Collect.KEY, say(Prompt.MESSAGE_PLAYBACK, message=message), say(Prompt.V10))
    return None


def _confirm_message(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        return replace(_v11(call), effects=(LeaveMessage(call.ticket_id, call.message),))
    if key is None:
        return None
    if key == "2":
        again = replace(call, stage=Stage.RECORD_MESSAGE, message="")
        return _retry(again, _v11(call), say(Prompt.V8), Collect.RECORDING)
    return _v11(call) if key in ("3", "") else _retry(call, _v11(call), say(Prompt.V10))


def _other_service(call: IvrCall, event: Event) -> Step | None:
    key = _key(event)
    if key == "1":
        return _hangup(call, EndReason.OTHER_SERVICE, to_main_menu=True)
    if key is None:
        return None
    done = _hangup(call, EndReason.DONE)
    return done if key in ("2", "") else _retry(call, done, say(Prompt.V11))


_HANDLERS = {
    Stage.ENTER_NUMBER: _enter_number,
    Stage.CONFIRM_NUMBER: _confirm_number,
    Stage.CHECK_EXCHANGE: _check_exchange,
    Stage.CHECK_OUTAGE: _check_outage,
    Stage.CHECK_REPEAT: _check_repeat,
    Stage.OFFER_AGENT: _offer_agent,
    Stage.LINE_TEST: _line_test,
    Stage.ENTER_CONTACT: _enter_contact,
    Stage.CONFIRM_CONTACT: _confirm_contact,
    Stage.CREATE_TICKET: _create_ticket,
    Stage.OFFER_MESSAGE: _offer_message,
    Stage.RECORD_MESSAGE: _record_message,
    Stage.CONFIRM_MESSAGE: _confirm_message,
    Stage.OTHER_SERVICE: _other_service,
}
_LOOKUPS = (
    Stage.CHECK_EXCHANGE,
    Stage.CHECK_OUTAGE,
    Stage.CHECK_REPEAT,
    Stage.LINE_TEST,
    Stage.CREATE_TICKET,
)


def _ask(call: IvrCall, collect: Collect, *prompts: Say) -> Step:
    return Step(call, prompts, AwaitInput(collect, NO_INPUT_TIMEOUT_SECONDS))


def _retry(call: IvrCall, exhausted: Step, prompt: Say, collect: Collect = Collect.KEY) -> Step:
    """Play ``prompt`` again for one more try, or take ``exhausted`` once MAX_TRIES have failed."""
    if call.tries + 1 >= MAX_TRIES:
        return exhausted
    return _ask(replace(call, tries=call.tries + 1), collect, prompt)


def _number_failed(call: IvrCall, prompt: Prompt | Say, stage: Stage) -> Step:
    """A failed try at the fault number (seed step 3): try again, or the third failure → agent."""
    spoken = say(prompt) if isinstance(prompt, Prompt) else prompt
    collect = Collect.KEY if stage is Stage.CONFIRM_NUMBER else Collect.ENTRY
    again = call if stage is Stage.CONFIRM_NUMBER else replace(call, number="")
    exhausted = _transfer(replace(call, number=""), EndReason.NUMBER_NOT_CAPTURED)
    return _retry(replace(again, stage=stage), exhausted, spoken, collect)


def _transfer(call: IvrCall, reason: EndReason) -> Step:
    ended = replace(call, stage=Stage.ENDED, end=reason)
    return Step(ended, (), TransferToAgent(reason, call.number, call.ticket_id))


def _hangup(call: IvrCall, reason: EndReason, *prompts: Say, to_main_menu: bool = False) -> Step:
    return Step(replace(call, stage=Stage.ENDED, end=reason), prompts, Hangup(reason, to_main_menu))


def _v11(call: IvrCall) -> Step:
    return _ask(replace(call, stage=Stage.OTHER_SERVICE, message="", tries=0), Collect.KEY, say(Prompt.V11))


def _v2(number: str) -> Say:
    return say(Prompt.V2, number=number)


def _v6(call: IvrCall) -> Say:
    return say(Prompt.V6, contact=call.contact, symptom=call.symptom)


def _tested(call: IvrCall) -> LineTestResult:
    return call.line_test or LineTestResult.UNAVAILABLE


def _entry(text: str) -> str:
    return text.strip().removesuffix("#").strip()


def _key(event: Event) -> str | None:
    """The key pressed at a menu: "" for silence, None for an event that is no input at all."""
    if isinstance(event, NoInput):
        return ""
    return _entry(event.text) if isinstance(event, Input) else None


def _is_phone(number: str) -> bool:
    return number.isascii() and number.isdigit() and len(number) in PHONE_DIGITS
