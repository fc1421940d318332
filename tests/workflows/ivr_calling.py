"""Scripted calls to the IVR call workflow through intake's own client (``IvrCalls``), a turn at a time."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.testing import WorkflowEnvironment

from services.intake.ivr.calls import IvrCalls
from workflows.contract import IvrCallInput, IvrInput, IvrTurnView, ivr_workflow_id

NUMBER = "02112345678"
CONTACT = "13800136138"


class Caller:
    """One scripted call: each key press answers the turn the call is at."""

    def __init__(self, calls: IvrCalls) -> None:
        self.calls = calls
        self.call_id = f"call-{uuid.uuid4().hex[:10]}"
        self.turn = IvrTurnView(self.call_id, 0, [], "NONE")

    async def dial(self) -> IvrTurnView:
        self.turn = await self.calls.start(IvrCallInput(self.call_id, "02187654321"))
        return self.turn

    async def press(self, keys: str) -> IvrTurnView:
        return await self._answer(IvrInput(self.turn.turn, keys))

    async def silence(self) -> IvrTurnView:
        """The switch's no-input timer fired."""
        return await self._answer(IvrInput(self.turn.turn, no_input=True))

    async def _answer(self, answer: IvrInput) -> IvrTurnView:
        turn = await self.calls.send(self.call_id, answer)
        assert turn.turn == answer.turn + 1
        self.turn = turn
        return turn

    async def reaches(self, turn: int) -> IvrTurnView:
        """Wait (in real time) until the workflow has published ``turn`` by itself."""
        for _ in range(500):
            self.turn = await self.calls.current(self.call_id)
            if self.turn.turn >= turn:
                return self.turn
            await asyncio.sleep(0.02)
        raise AssertionError(f"turn {turn} never came; at {self.turn}")

    async def result(self, env: WorkflowEnvironment) -> IvrTurnView:
        handle = env.client.get_workflow_handle(ivr_workflow_id(self.call_id), result_type=IvrTurnView)
        last: IvrTurnView = await handle.result()
        return last


def codes(turn: IvrTurnView) -> list[str]:
    return [p.code for p in turn.prompts]


def ended(turn: IvrTurnView, reason: str, *, transfer: bool = False) -> None:
    assert (turn.ended, turn.end_reason, turn.awaiting, turn.transfer_to_agent) == (
        True,
        reason,
        "NONE",
        transfer,
    )


async def through_number(caller: Caller, number: str = NUMBER) -> IvrTurnView:
    """Seed steps 1-5: the call starts, the number is entered and confirmed; the checks run."""
    first = await caller.dial()
    assert (first.turn, codes(first), first.awaiting, first.timeout_seconds) == (1, ["V1"], "ENTRY", 10)
    v2 = await caller.press(f"{number}#")
    assert (codes(v2), v2.awaiting, v2.prompts[0].params) == (["V2"], "KEY", {"number": number})
    assert number in v2.prompts[0].text and number in v2.prompts[0].gloss
    return await caller.press("1")


async def accepted(caller: Caller) -> IvrTurnView:
    """Seed steps 8-10: contact and symptom entered and confirmed; the report is recorded."""
    v5 = await through_number(caller)
    assert (codes(v5), v5.awaiting) == (["V5"], "ENTRY")
    v6 = await caller.press(f"{CONTACT}*3#")
    assert (codes(v6), v6.prompts[0].params) == (["V6"], {"contact": CONTACT, "symptom": "3"})
    v9 = await caller.press("1")
    assert (codes(v9), v9.ticket_id) == (["V9", "TEST_RESULT", "V7"], f"TK-{caller.call_id}")
    return v9
