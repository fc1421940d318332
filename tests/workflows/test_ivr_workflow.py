"""The IVR call workflow by scripted calls (seed 002 一): every branch of the flow, turn by turn.

Calls go through intake's own client (``IvrCalls``: update-with-start, input updates, the turn query),
the lookups are fakes (tests/workflows/ivr_fakes.py). No-input timers are the workflow's own, driven
with ``env.sleep`` on the time-skipping server.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from desk.errors import TransitionNotAllowed
from domain.line_tests import LineTestOutcome
from services.intake import contract as intake
from services.intake.ivr.calls import IvrCalls
from tests.workflows.ivr_calling import CONTACT, NUMBER, Caller, accepted, codes, ended, through_number
from tests.workflows.ivr_fakes import FakeIvrDesk
from workflows.contract import IvrInput
from workflows.ivr import PLAYBACK_ALLOWANCE_SECONDS
from workflows.ivr_contract import OutageChecked, OutageStatus, RepeatChecked
from workflows.ivr_flow import LINE_TEST_WAIT_SECONDS, NO_INPUT_TIMEOUT_SECONDS

NO_INPUT_BACKSTOP = timedelta(seconds=NO_INPUT_TIMEOUT_SECONDS + PLAYBACK_ALLOWANCE_SECONDS + 1)


async def test_a_new_report_with_a_message_for_the_repairman(
    env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    ivr.line_tests[NUMBER] = [LineTestOutcome.ABNORMAL]
    v9 = await accepted(caller)
    assert v9.prompts[1].params["variant"] == "ABNORMAL" and "断线" in v9.prompts[1].text
    v8 = await caller.press("1")
    assert (codes(v8), v8.awaiting) == (["V8"], "RECORDING")
    v10 = await caller.press("rec-1#")
    assert (codes(v10), v10.prompts[0].params) == (["MESSAGE_PLAYBACK", "V10"], {"message": "rec-1"})
    assert codes(await caller.press("1")) == ["V11"]
    done = await caller.press("2")
    ended(done, "DONE")
    assert (done.turn, done.prompts, done.ticket_id, done.fault_number) == (9, [], v9.ticket_id, NUMBER)
    assert await caller.result(env) == done
    assert ivr.calls == [
        intake.IVR_CHECK_EXCHANGE,
        intake.IVR_CHECK_OUTAGE,
        intake.IVR_CHECK_REPEAT,
        intake.RUN_LINE_TEST,
        intake.IVR_CREATE_TICKET,
        intake.IVR_LEAVE_MESSAGE,
    ]
    report = ivr.tickets[v9.ticket_id]
    assert (report.fault_number, report.contact, report.symptom, report.caller_number) == (
        NUMBER,
        CONTACT,
        "3",
        "02187654321",
    )
    assert report.line_test is not None and report.line_test.result == LineTestOutcome.ABNORMAL
    assert ivr.messages[caller.call_id] == intake.IvrMessageInput(caller.call_id, v9.ticket_id, "rec-1")


async def test_the_number_is_entered_again(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    await caller.dial()
    assert (codes(await caller.press("12#")), caller.turn.awaiting) == (["V3"], "ENTRY")  # malformed
    assert codes(await caller.press("02199998888")) == ["V2"]
    assert (codes(await caller.press("2")), caller.turn.awaiting) == (["V1"], "ENTRY")  # 2: enter again
    assert codes(await caller.press(f"{NUMBER}#")) == ["V2"]
    assert codes(await caller.press("1")) == ["V5"]
    assert ivr.calls.count(intake.IVR_CHECK_EXCHANGE) == 1


async def test_three_silences_transfer_to_an_agent_by_the_workflows_own_timers(
    env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    await caller.dial()
    await env.sleep(NO_INPUT_BACKSTOP)
    second = await caller.reaches(2)
    assert (codes(second), second.awaiting) == (["V1"], "ENTRY")
    # The switch's late no-input report for turn 1 gets the timer's answer; a key for it is refused.
    assert await calls.send(caller.call_id, IvrInput(1, no_input=True)) == second
    with pytest.raises(TransitionNotAllowed, match="already answered"):
        await calls.send(caller.call_id, IvrInput(1, f"{NUMBER}#"))
    await env.sleep(NO_INPUT_BACKSTOP)
    assert codes(await caller.reaches(3)) == ["V1"]
    await env.sleep(NO_INPUT_BACKSTOP)
    last = await caller.reaches(4)
    ended(last, "NUMBER_NOT_CAPTURED", transfer=True)
    assert await caller.result(env) == last
    assert ivr.calls == []


async def test_an_unknown_exchange_asks_for_the_number_again(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    v3 = await through_number(caller, "05512345678")
    assert (codes(v3), v3.awaiting, v3.fault_number) == (["V3"], "ENTRY", "")
    assert codes(await caller.press(f"{NUMBER}#")) == ["V2"]
    assert codes(await caller.press("1")) == ["V5"]
    assert ivr.calls.count(intake.IVR_CHECK_EXCHANGE) == 2


@pytest.mark.parametrize(
    ("outage", "params"),
    [
        (
            OutageChecked(
                OutageStatus.ACTIVE, "光缆施工", datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
            ),
            {"variant": "outage", "cause": "光缆施工", "eta": "2026-03-02 18:00"},
        ),
        (OutageChecked(OutageStatus.REPAIRED), {"variant": "repaired"}),
    ],
    ids=["engineering-works", "repaired"],
)
async def test_a_known_outage_plays_v4_and_returns_to_the_main_menu(
    ivr: FakeIvrDesk, calls: IvrCalls, outage: OutageChecked, params: dict[str, str]
) -> None:
    caller = Caller(calls)
    ivr.outages[NUMBER] = outage
    v4 = await through_number(caller)
    ended(v4, "KNOWN_OUTAGE")
    assert (codes(v4), v4.prompts[0].params, v4.to_main_menu) == (["V4"], params, True)
    assert intake.IVR_CHECK_REPEAT not in ivr.calls


async def test_a_repeat_hears_the_repairmans_message_and_ends(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    ivr.open_tickets[NUMBER] = RepeatChecked("TK-1", 1, "Wang Wu: replaced the jumper", "line open")
    offer = await through_number(caller)
    assert (codes(offer), offer.ticket_id) == (["REPAIRMAN_MESSAGE", "AGENT_OFFER"], "TK-1")
    assert "replaced the jumper" in offer.prompts[0].text
    ended(await caller.press("2"), "REPEAT_ACKNOWLEDGED")
    assert ivr.repeats[caller.call_id].ticket_id == "TK-1"
    assert (ivr.repeats[caller.call_id].fault_number, ivr.repeats[caller.call_id].caller_number) == (
        NUMBER,
        "02187654321",
    )
    assert intake.RUN_LINE_TEST not in ivr.calls and not ivr.tickets


async def test_a_repeat_with_only_a_test_result_asks_for_an_agent(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    ivr.open_tickets[NUMBER] = RepeatChecked("TK-1", 2, "", "The line is open (断线).")
    offer = await through_number(caller)
    assert codes(offer) == ["LAST_TEST_RESULT", "AGENT_OFFER"]
    assert offer.prompts[0].params == {"result": "The line is open (断线)."}
    agent = await caller.press("1")
    ended(agent, "AGENT_REQUESTED", transfer=True)
    assert (agent.ticket_id, agent.fault_number) == ("TK-1", NUMBER)
    assert list(ivr.repeats) == [caller.call_id]


async def test_a_fourth_repeat_goes_straight_to_an_agent(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    ivr.open_tickets[NUMBER] = RepeatChecked("TK-1", 3, "Wang Wu: on site at 15:00")
    agent = await through_number(caller)
    ended(agent, "REPEAT_OVER_LIMIT", transfer=True)
    assert (agent.prompts, agent.ticket_id) == ([], "TK-1")
    assert list(ivr.repeats) == [caller.call_id]  # the repeat is recorded (and escalates the ticket)


async def test_a_busy_line_test_holds_the_caller_then_goes_on(
    env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    ivr.line_tests[NUMBER] = [LineTestOutcome.UNAVAILABLE, LineTestOutcome.NORMAL]
    hold = await through_number(caller)
    assert (codes(hold), hold.awaiting, hold.ended, hold.timeout_seconds) == (
        ["PLEASE_WAIT"],
        "NONE",
        False,
        LINE_TEST_WAIT_SECONDS,
    )
    assert hold.on_hold
    with pytest.raises(TransitionNotAllowed, match="on hold"):
        await caller.press("1")
    await env.sleep(timedelta(seconds=LINE_TEST_WAIT_SECONDS + 1))
    v5 = await caller.reaches(hold.turn + 1)
    assert (codes(v5), v5.awaiting) == (["V5"], "ENTRY")
    await caller.press(f"{CONTACT}*no dial tone#")
    v9 = await caller.press("1")
    assert (codes(v9), v9.prompts[1].params["variant"]) == (["V9", "TEST_RESULT", "V7"], "NORMAL")
    assert ivr.calls.count(intake.RUN_LINE_TEST) == 2
    report = ivr.tickets[v9.ticket_id]
    assert report.line_test is not None and report.line_test.result == LineTestOutcome.NORMAL


@pytest.mark.parametrize("at", ["V5", "V6"])
async def test_no_contact_or_no_confirmation_ends_the_call(
    ivr: FakeIvrDesk, calls: IvrCalls, at: str
) -> None:
    caller = Caller(calls)
    await through_number(caller)
    if at == "V6":
        assert codes(await caller.press(f"{CONTACT}*3#")) == ["V6"]
    ended(await caller.silence(), "NO_CONTACT")
    assert intake.IVR_CREATE_TICKET not in ivr.calls


async def test_contact_and_symptom_entered_again_at_v6(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    await through_number(caller)
    await caller.press(f"{CONTACT}*3#")
    assert (codes(await caller.press("2")), caller.turn.awaiting) == (["V5"], "ENTRY")
    v6 = await caller.press("83005678*no dial tone#")
    assert v6.prompts[0].params == {"contact": "83005678", "symptom": "no dial tone"}
    v9 = await caller.press("1")
    report = ivr.tickets[v9.ticket_id]
    assert (report.contact, report.symptom) == ("83005678", "no dial tone")


async def test_recording_again_then_exit_leaves_no_message_and_other_service(
    ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    await accepted(caller)
    await caller.press("1")
    await caller.press("rec-1#")
    assert (codes(await caller.press("2")), caller.turn.awaiting) == (["V8"], "RECORDING")  # record again
    v10 = await caller.press("rec-2#")
    assert v10.prompts[0].params == {"message": "rec-2"}
    assert codes(await caller.press("3")) == ["V11"]  # exit: the message is discarded
    menu = await caller.press("1")  # other services
    ended(menu, "OTHER_SERVICE")
    assert menu.to_main_menu
    assert not ivr.messages


async def test_an_input_is_applied_once(env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    await caller.dial()
    await caller.press(f"{NUMBER}#")
    confirm = IvrInput(2, "1")
    answers = await asyncio.gather(*(calls.send(caller.call_id, confirm) for _ in range(3)))
    assert [codes(a) for a in answers] == [["V5"]] * 3 and len({a.turn for a in answers}) == 1
    assert await calls.send(caller.call_id, IvrInput(2, " 1# ")) == answers[0]  # a retry, written differently
    assert ivr.calls.count(intake.IVR_CHECK_EXCHANGE) == 1
    with pytest.raises(TransitionNotAllowed, match="already answered"):
        await calls.send(caller.call_id, IvrInput(2, "2"))
    with pytest.raises(TransitionNotAllowed, match="not the current turn"):
        await calls.send(caller.call_id, IvrInput(9, "1"))
    caller.turn = answers[0]
    ended(await caller.silence(), "NO_CONTACT")
    await caller.result(env)
    with pytest.raises(TransitionNotAllowed, match="ended"):
        await calls.send(caller.call_id, IvrInput(caller.turn.turn, "1"))


async def test_a_lookup_that_fails_transfers_to_an_agent(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    ivr.failing.add(intake.IVR_CHECK_OUTAGE)
    agent = await through_number(caller)
    ended(agent, "SYSTEM_FAILURE", transfer=True)
    assert ivr.calls.count(intake.IVR_CHECK_OUTAGE) == 3  # tried three times while the caller waited


async def test_a_write_that_cannot_be_done_now_is_finished_before_the_call_completes(
    env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    ivr.open_tickets[NUMBER] = RepeatChecked("TK-1", 0, "", "line open")
    ivr.failing.add(intake.IVR_RECORD_REPEAT)
    offer = await through_number(caller)
    assert codes(offer) == ["LAST_TEST_RESULT", "AGENT_OFFER"]  # the caller is not held up
    ivr.failing.clear()
    ended(await caller.press("2"), "REPEAT_ACKNOWLEDGED")
    await caller.result(env)
    assert list(ivr.repeats) == [caller.call_id]


async def test_a_refused_message_does_not_stop_the_call(ivr: FakeIvrDesk, calls: IvrCalls) -> None:
    caller = Caller(calls)
    await accepted(caller)
    await caller.press("1")
    await caller.press("rec-1#")
    ivr.tickets.clear()  # the ticket is gone (closed meanwhile): the message is refused for good
    assert codes(await caller.press("1")) == ["V11"]
    assert ivr.calls.count(intake.IVR_LEAVE_MESSAGE) == 1 and not ivr.messages


async def test_starting_a_call_again_answers_its_current_turn(
    env: WorkflowEnvironment, ivr: FakeIvrDesk, calls: IvrCalls
) -> None:
    caller = Caller(calls)
    first = await caller.dial()
    assert await caller.dial() == first
    v2 = await caller.press(f"{NUMBER}#")
    assert await caller.dial() == v2
    ivr.outages[NUMBER] = OutageChecked(OutageStatus.REPAIRED)
    last = await caller.press("1")
    await caller.result(env)
    assert await caller.dial() == last == await calls.current(caller.call_id)
