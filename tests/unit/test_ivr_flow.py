"""The IVR call flow (seed 002 一) by scripted calls: every branch, with its exact prompts and actions."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.unit.ivr_script import (
    AGENT_OFFER,
    CONTACT,
    ENTRY,
    KEY,
    NUMBER,
    RECORD,
    SYMPTOM,
    TICKET,
    V1,
    V3,
    V5,
    V7,
    V8,
    V9,
    V10,
    V11,
    Turn,
    accepted,
    ended,
    key,
    line_tested,
    number_entered,
    playback,
    run,
    silence,
    v2,
    v6,
)
from workflows.ivr_contract import (
    Action,
    CheckExchange,
    CreateTicket,
    EndReason,
    Event,
    ExchangeChecked,
    Hangup,
    Input,
    LeaveMessage,
    LineTested,
    LineTestResult,
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
from workflows.ivr_flow import Stage

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
