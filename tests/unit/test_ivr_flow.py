"""The IVR call flow (seed 002 一) by scripted calls: every branch, with its exact prompts and actions."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import pytest
from temporalio.converter import DataConverter

from desk.errors import TransitionNotAllowed
from workflows.ivr_contract import (
    CATALOGUE,
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
    render,
    say,
)
from workflows.ivr_flow import IvrCall, Stage, Step, advance, start_call

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


# Steps 8-11: a new report.


def test_new_report_with_a_message_for_the_repairman() -> None:
    call = run(
        *accepted(),
        key("1", V8, action=RECORD),
        key("rec-1#", playback("rec-1"), V10),
        key("1", V11, effects=(LeaveMessage(TICKET, "rec-1"),)),
        key("2", action=Hangup(EndReason.DONE)),
    )
    ended(call, EndReason.DONE)
    assert (call.ticket_id, call.contact, call.symptom) == (TICKET, CONTACT, SYMPTOM)


@pytest.mark.parametrize("declined", [NoInput(), Input("2"), Input("9")], ids=["silence", "2", "other-key"])
def test_new_report_without_a_message(declined: Event) -> None:
    call = run(
        *accepted(LineTestResult.NORMAL, ""),
        Turn(declined, (V11,), KEY),
        silence(action=Hangup(EndReason.DONE)),
    )
    ended(call, EndReason.DONE)


def test_recording_again_then_exit_discards_the_message() -> None:
    call = run(
        *accepted(),
        key("1", V8, action=RECORD),
        key("rec-1#", playback("rec-1"), V10),
        key("2", V8, action=RECORD),
        key("rec-2#", playback("rec-2"), V10),
        key("3", V11),  # exit: no LeaveMessage
        key("1", action=Hangup(EndReason.OTHER_SERVICE, to_main_menu=True)),
    )
    ended(call, EndReason.OTHER_SERVICE)
    assert call.message == ""


def test_tries_at_v10_run_out_and_discard_the_message() -> None:
    run(
        *accepted(),
        key("1", V8, action=RECORD),
        key("rec-1", playback("rec-1"), V10),
        key("2", V8, action=RECORD),
        key("rec-2", playback("rec-2"), V10),
        key("7", V10),  # an invalid key replays V10 and uses a try
        key("2", V11),
    )


@pytest.mark.parametrize("unconfirmed", [NoInput(), Input("#")], ids=["silence", "empty"])
def test_no_recording_or_no_confirmation_goes_to_v11(unconfirmed: Event) -> None:
    run(*accepted(), key("1", V8, action=RECORD), Turn(unconfirmed, (V11,), KEY))
    run(
        *accepted(),
        key("1", V8, action=RECORD),
        key("rec-1", playback("rec-1"), V10),
        Turn(unconfirmed, (V11,), KEY),
    )


@pytest.mark.parametrize(
    ("event", "action"),
    [
        (Input("1"), Hangup(EndReason.OTHER_SERVICE, to_main_menu=True)),
        (Input("2#"), Hangup(EndReason.DONE)),
        (NoInput(), Hangup(EndReason.DONE)),
    ],
    ids=["other-service", "exit", "silence"],
)
def test_v11_other_service_or_exit(event: Event, action: Action) -> None:
    run(*accepted(), silence(V11), Turn(event, (), action))


def test_v11_invalid_keys_replay_it_then_end() -> None:
    run(*accepted(), silence(V11), key("5", V11), key("*", V11), key("0", action=Hangup(EndReason.DONE)))


# Seed steps 2-4: the fault number.


def test_number_entered_again_with_2_at_v2() -> None:
    run(
        key(f"{NUMBER}#", v2()),
        key("2", V1, action=ENTRY),
        key("85559876#", v2("85559876")),
        key("1#", action=CheckExchange("85559876")),
    )


def test_no_input_three_times_transfers_to_an_agent() -> None:
    call = run(
        silence(V1, action=ENTRY),
        silence(V1, action=ENTRY),
        silence(action=TransferToAgent(EndReason.NUMBER_NOT_CAPTURED)),
    )
    ended(call, EndReason.NUMBER_NOT_CAPTURED)


def test_no_confirmation_replays_v2_and_counts_as_a_try() -> None:
    run(
        key(NUMBER, v2()),
        silence(v2()),
        key("5", v2()),
        silence(action=TransferToAgent(EndReason.NUMBER_NOT_CAPTURED)),
    )


def test_malformed_number_and_unknown_exchange_then_a_correct_number() -> None:
    call = run(
        key("12#", V3, action=ENTRY),
        key("99990000#", v2("99990000")),
        key("1", action=CheckExchange("99990000")),
        Turn(ExchangeChecked(known=False), (V3,), ENTRY),
        *number_entered(),
    )
    assert (call.stage, call.number, call.tries) == (Stage.CHECK_REPEAT, NUMBER, 0)


def test_unknown_exchange_three_times_transfers_to_an_agent() -> None:
    unknown = [
        key("99990000#", v2("99990000")),
        key("1", action=CheckExchange("99990000")),
    ]
    run(
        *unknown,
        Turn(ExchangeChecked(known=False), (V3,), ENTRY),
        *unknown,
        Turn(ExchangeChecked(known=False), (V3,), ENTRY),
        *unknown,
        Turn(ExchangeChecked(known=False), (), TransferToAgent(EndReason.NUMBER_NOT_CAPTURED)),
    )


# Seed step 5: a known outage.


@pytest.mark.parametrize(
    ("outage", "v4"),
    [
        (
            OutageChecked(OutageStatus.ACTIVE, "cable works", datetime(2026, 3, 2, 18, 0)),
            say(Prompt.V4, variant="outage", cause="cable works", eta="2026-03-02 18:00"),
        ),
        (
            OutageChecked(OutageStatus.ACTIVE, "cable works"),
            say(Prompt.V4, variant="outage", cause="cable works", eta=""),
        ),
        (OutageChecked(OutageStatus.REPAIRED), say(Prompt.V4, variant="repaired")),
    ],
    ids=["outage-with-eta", "outage-without-eta", "repaired"],
)
def test_known_outage_plays_v4_and_returns_to_the_main_menu(outage: OutageChecked, v4: Say) -> None:
    call = run(
        *number_entered()[:-1],
        Turn(outage, (v4,), Hangup(EndReason.KNOWN_OUTAGE, to_main_menu=True)),
    )
    ended(call, EndReason.KNOWN_OUTAGE)


# Seed steps 6-7: a repeat report.


def repeat(found: RepeatChecked, *progress: Say) -> list[Turn]:
    return [
        *number_entered(),
        Turn(found, (*progress, AGENT_OFFER), KEY, (RecordRepeat("T-1"),)),
    ]


def test_repeat_plays_the_repairmans_message_then_ends() -> None:
    found = RepeatChecked(
        "T-1", repeat_count=1, repairman_message="on site at 15:00", last_test_result="fault"
    )
    call = run(
        *repeat(found, say(Prompt.REPAIRMAN_MESSAGE, message="on site at 15:00")),
        key("2", action=Hangup(EndReason.REPEAT_ACKNOWLEDGED)),
    )
    ended(call, EndReason.REPEAT_ACKNOWLEDGED)


def test_repeat_without_a_message_plays_the_last_test_result() -> None:
    found = RepeatChecked("T-1", repeat_count=2, last_test_result="line open")
    run(
        *repeat(found, say(Prompt.LAST_TEST_RESULT, result="line open")),
        silence(action=Hangup(EndReason.REPEAT_ACKNOWLEDGED)),
    )


def test_repeat_caller_asks_for_an_agent() -> None:
    call = run(
        *repeat(
            RepeatChecked("T-1", last_test_result="line open"),
            say(Prompt.LAST_TEST_RESULT, result="line open"),
        ),
        key("1", action=TransferToAgent(EndReason.AGENT_REQUESTED, NUMBER, "T-1")),
    )
    ended(call, EndReason.AGENT_REQUESTED)


def test_repeat_with_no_progress_offers_an_agent_and_replays_on_invalid_keys() -> None:
    run(
        *repeat(RepeatChecked("T-1")),
        key("9", AGENT_OFFER),
        key("9", AGENT_OFFER),
        key("9", action=Hangup(EndReason.REPEAT_ACKNOWLEDGED)),
    )


@pytest.mark.parametrize("repeats_before", [3, 7])
def test_repeat_more_than_three_times_transfers_to_an_agent(repeats_before: int) -> None:
    found = RepeatChecked("T-1", repeat_count=repeats_before, repairman_message="on site at 15:00")
    call = run(
        *number_entered(),
        Turn(found, (), TransferToAgent(EndReason.REPEAT_OVER_LIMIT, NUMBER, "T-1"), (RecordRepeat("T-1"),)),
    )
    ended(call, EndReason.REPEAT_OVER_LIMIT)


# Seed step 8: the line test.


def test_line_test_unavailable_waits_then_continues() -> None:
    run(
        *number_entered(),
        Turn(RepeatChecked(), (), RunLineTest(NUMBER)),
        Turn(LineTested(LineTestResult.UNAVAILABLE), (say(Prompt.PLEASE_WAIT),), RunLineTest(NUMBER, 30)),
        Turn(LineTested(LineTestResult.NORMAL), (V5,), ENTRY),
    )


def test_line_test_unavailable_too_long_goes_on_untested() -> None:
    unavailable = LineTested(LineTestResult.UNAVAILABLE)
    wait = Turn(unavailable, (say(Prompt.PLEASE_WAIT),), RunLineTest(NUMBER, 30))
    run(
        *number_entered(),
        Turn(RepeatChecked(), (), RunLineTest(NUMBER)),
        wait,
        wait,
        wait,
        Turn(unavailable, (V5,), ENTRY),
        key(f"{CONTACT}*{SYMPTOM}", v6()),
        key("1", action=CreateTicket(NUMBER, CONTACT, SYMPTOM, LineTestResult.UNAVAILABLE)),
        Turn(TicketCreated(TICKET), (V9, say(Prompt.TEST_RESULT, variant="UNAVAILABLE", detail=""), V7), KEY),
    )


# Seed steps 9-10: contact number and symptom.


def test_no_contact_and_symptom_ends_the_call() -> None:
    call = run(*line_tested(), silence(action=Hangup(EndReason.NO_CONTACT)))
    ended(call, EndReason.NO_CONTACT)


def test_contact_not_confirmed_ends_the_call() -> None:
    run(*line_tested(), key(f"{CONTACT}*{SYMPTOM}#", v6()), silence(action=Hangup(EndReason.NO_CONTACT)))


def test_contact_entered_again_with_2_at_v6() -> None:
    run(
        *line_tested(),
        key(f"{CONTACT}*{SYMPTOM}#", v6()),
        key("2", V5, action=ENTRY),
        key("83005678*no dial tone#", v6("83005678", "no dial tone")),
        key(
            "1",
            action=CreateTicket(NUMBER, "83005678", "no dial tone", LineTestResult.ABNORMAL, "no dial tone"),
        ),
    )


def test_malformed_contact_entries_replay_v5_then_end() -> None:
    run(
        *line_tested(),
        key(f"{CONTACT}#", V5, action=ENTRY),  # no symptom
        key(f"12*{SYMPTOM}#", V5, action=ENTRY),  # not a phone number
        key("#", action=Hangup(EndReason.NO_CONTACT)),
    )


def test_invalid_key_at_v6_replays_it() -> None:
    created = CreateTicket(NUMBER, CONTACT, SYMPTOM, LineTestResult.ABNORMAL, "no dial tone")
    run(*line_tested(), key(f"{CONTACT}*{SYMPTOM}", v6()), key("8", v6()), key("1", action=created))


# The driver's contract.


@pytest.mark.parametrize(
    "before",
    [
        [key(NUMBER, v2()), key("1", action=CheckExchange(NUMBER))],
        number_entered()[:3],
        number_entered(),
        line_tested()[:-1],
        accepted()[:-1],
    ],
    ids=["exchange", "outage", "repeat", "line-test", "create-ticket"],
)
def test_a_failed_lookup_transfers_to_an_agent(before: list[Turn]) -> None:
    failed = Turn(LookupFailed("gave up"), (), TransferToAgent(EndReason.SYSTEM_FAILURE, NUMBER))
    ended(run(*before, failed), EndReason.SYSTEM_FAILURE)


def test_an_unexpected_event_is_refused() -> None:
    step = start_call()
    with pytest.raises(TransitionNotAllowed):
        advance(step.call, ExchangeChecked(known=True))
    with pytest.raises(TransitionNotAllowed):
        advance(step.call, LookupFailed())
    over = step
    for _ in range(3):
        over = advance(over.call, NoInput())
    assert isinstance(over.action, TransferToAgent)
    with pytest.raises(TransitionNotAllowed):  # the call has ended
        advance(over.call, Input("1"))


def _answer(action: Action, rng: random.Random) -> Event:
    """A random but well-formed answer to ``action``, as a driver could give it."""
    match action:
        case AwaitInput(collect=collect):
            entries = {
                Collect.KEY: [*"1111122339*"],
                Collect.ENTRY: [NUMBER, f"{CONTACT}*{SYMPTOM}#", "12#"],
                Collect.RECORDING: ["rec-1#", "#"],
            }
            return NoInput() if rng.random() < 0.1 else Input(rng.choice(entries[collect]))
        case CheckExchange():
            return ExchangeChecked(rng.random() < 0.8)
        case CheckOutage():
            return OutageChecked(rng.choice([OutageStatus.NONE] * 4 + list(OutageStatus)))
        case CheckRepeat():
            found = RepeatChecked("T-1", rng.randrange(6), rng.choice(["", "on site at 15:00"]), "line open")
            return rng.choice([RepeatChecked(), found])
        case RunLineTest():
            return LineTested(rng.choice(list(LineTestResult)))
        case CreateTicket():
            return TicketCreated(TICKET)
    raise AssertionError(action)


def test_every_call_ends_and_every_stage_and_prompt_is_reachable() -> None:
    rng = random.Random(2026)
    stages: set[Stage] = set()
    spoken: set[Prompt] = set()
    for _ in range(500):
        step: Step = start_call()
        for _turn in range(60):
            stages.add(step.call.stage)
            spoken.update(s.prompt for s in step.say)
            for s in step.say:
                assert render(s) and render(s, "en")
            if isinstance(step.action, TransferToAgent | Hangup):
                break
            step = advance(step.call, _answer(step.action, rng))
        assert step.call.stage is Stage.ENDED and step.call.end is not None
    assert stages == set(Stage)
    assert spoken == set(Prompt)


def test_call_state_survives_temporals_payload_converter() -> None:
    """The workflow keeps ``IvrCall`` in its state and passes events and prompts through payloads."""
    call = run(*accepted())
    converter = DataConverter.default.payload_converter
    values = [
        call,
        OutageChecked(OutageStatus.ACTIVE, "cable works", datetime(2026, 3, 2, 18, 0)),
        RepeatChecked("T-1", 2, "on site at 15:00"),
        v6(),
    ]
    types = [IvrCall, OutageChecked, RepeatChecked, Say]
    assert converter.from_payloads(converter.to_payloads(values), types) == values


def test_prompts_render_the_seed_wording() -> None:
    assert {prompt for prompt, _ in CATALOGUE} == set(Prompt)
    assert render(V1) == "您好,请输入您的故障电话号码,并按#号确认。"
    assert render(v2()) == "您输入的电话号码为:83001234,确认请按1,重新输入请按2。"
    assert render(v6()) == "您的联系电话为:13800136138,故障现象为:3,确认请按1,重新输入请按2。"
    assert render(say(Prompt.V4, variant="repaired")) == "对不起,您的电话已经修复。"
    outage = say(Prompt.V4, variant="outage", cause="光缆施工", eta="")
    assert render(outage).endswith("故障原因:光缆施工,预计恢复时间:待定。")
    assert render(V11, "en") == "For other services press 1; to exit press 2."
