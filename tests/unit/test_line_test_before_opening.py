"""Intake's starter tests a fault's line before its workflow starts, and leaves it when it cannot."""

from __future__ import annotations

from dataclasses import replace

from domain.line_tests import LineTestResult
from domain.ticket import TicketDraft
from services.intake.opening.line_test import SimulatedLineTester
from services.intake.opening.starter import with_line_test
from tests.unit.test_ticket_state import draft


class UnreachableTester:
    """A test head the desk cannot reach (the real one cannot run here)."""

    name = "unreachable"

    def __init__(self) -> None:
        self.asked = 0

    async def test(self, fault_number: str) -> LineTestResult:
        self.asked += 1
        raise ConnectionRefusedError("test head down")


def fault(number: str = "02188889999") -> TicketDraft:
    return replace(draft(), kind="FAULT", fault_number=number)


async def test_a_fault_with_a_number_opens_with_its_line_test() -> None:
    tested = (await with_line_test(fault(), SimulatedLineTester())).line_test
    assert tested is not None
    assert (tested.result, tested.fault_code, tested.tester) == ("ABNORMAL", "OPEN_CIRCUIT", "simulator")


async def test_an_unreachable_tester_leaves_the_test_to_the_workflow() -> None:
    tester = UnreachableTester()
    assert (await with_line_test(fault(), tester)).line_test is None
    assert tester.asked == 1


async def test_nothing_is_tested_without_a_number_or_twice() -> None:
    tester = UnreachableTester()
    assert await with_line_test(fault(number=""), tester) == fault(number="")
    assert await with_line_test(replace(fault(), kind="CONSULTATION"), tester) == replace(
        fault(), kind="CONSULTATION"
    )
    already = replace(fault(), line_test=await SimulatedLineTester().test("02188881111"))
    assert await with_line_test(already, tester) == already
    assert tester.asked == 0
