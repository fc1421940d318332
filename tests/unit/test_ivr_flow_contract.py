"""The IVR call flow's contract with its driver: failed lookups, refused events, every call ending,
its state through Temporal's converter, the seed's wording."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from temporalio.converter import DataConverter

from desk.errors import TransitionNotAllowed
from tests.unit.ivr_script import (
    CONTACT,
    NUMBER,
    SYMPTOM,
    TICKET,
    V1,
    V11,
    Turn,
    accepted,
    ended,
    key,
    line_tested,
    number_entered,
    run,
    v2,
    v6,
)
from workflows.ivr_contract import (
    CATALOGUE,
    Action,
    AwaitInput,
    CheckExchange,
    CheckOutage,
    CheckRepeat,
    Collect,
    CreateTicket,
    EndReason,
    Event,
    ExchangeChecked,
    Hangup,
    Input,
    LineTested,
    LineTestResult,
    LookupFailed,
    NoInput,
    OutageChecked,
    OutageStatus,
    Prompt,
    RepeatChecked,
    RunLineTest,
    Say,
    TicketCreated,
    TransferToAgent,
    render,
    say,
)
from workflows.ivr_flow import IvrCall, Stage, Step, advance, start_call


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
