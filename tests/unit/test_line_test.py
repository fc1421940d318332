"""The line-test simulator: deterministic, roughly the documented mix, overridable, and Temporal-friendly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from temporalio.converter import DataConverter

from desk.errors import ConfigurationError
from domain.line_tests import FaultCode, LineTestOutcome, LineTestResult
from services.intake.opening.line_test import SimulatedLineTester, line_tester_from

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def simulator(overrides: Mapping[str, str] | None = None) -> SimulatedLineTester:
    return SimulatedLineTester(overrides=overrides, clock=lambda: NOON)


async def test_same_number_gives_same_result_across_instances() -> None:
    numbers = [f"0105550{n:04d}" for n in range(1, 200)]
    first = [await simulator().test(n) for n in numbers]
    second = [await simulator().test(n) for n in numbers]
    assert first == second
    assert first[0].tested_at == NOON and first[0].tester == "simulator"


async def test_number_is_read_by_its_digits() -> None:
    assert simulator().verdict("010-5550 4321") == simulator().verdict("01055504321")


def test_distribution_matches_the_documented_mix() -> None:
    sim = simulator()
    verdicts = [sim.verdict(f"0{n:010d}") for n in range(1_234_567, 1_244_567)]
    outcomes = Counter(outcome for outcome, _ in verdicts)
    assert 0.57 < outcomes[LineTestOutcome.NORMAL] / 10_000 < 0.63
    assert 0.27 < outcomes[LineTestOutcome.ABNORMAL] / 10_000 < 0.33
    assert 0.08 < outcomes[LineTestOutcome.UNAVAILABLE] / 10_000 < 0.12
    codes = Counter(code for outcome, code in verdicts if outcome is LineTestOutcome.ABNORMAL)
    assert set(codes) == set(FaultCode) - {FaultCode.NONE}
    assert all(count > 0.15 * outcomes[LineTestOutcome.ABNORMAL] for count in codes.values())
    normal_codes = {code for outcome, code in verdicts if outcome is not LineTestOutcome.ABNORMAL}
    assert normal_codes == {FaultCode.NONE}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("01088880000", (LineTestOutcome.UNAVAILABLE, FaultCode.NONE)),
        ("01088889999", (LineTestOutcome.ABNORMAL, FaultCode.OPEN_CIRCUIT)),
        ("01088881111", (LineTestOutcome.NORMAL, FaultCode.NONE)),
        ("", (LineTestOutcome.UNAVAILABLE, FaultCode.NONE)),
    ],
)
def test_documented_suffixes(number: str, expected: tuple[LineTestOutcome, FaultCode]) -> None:
    assert simulator().verdict(number) == expected


async def test_overrides_win_over_suffixes_and_hash() -> None:
    sim = simulator(overrides={"010-8888-0000": "GROUND_FAULT", "01012345678": "UNAVAILABLE"})
    result = await sim.test("01088880000")
    assert (result.result, result.fault_code) == (LineTestOutcome.ABNORMAL, FaultCode.GROUND_FAULT)
    assert "earth" in result.detail
    assert sim.verdict("010 1234 5678") == (LineTestOutcome.UNAVAILABLE, FaultCode.NONE)


@pytest.mark.parametrize("value", ["ABNORMAL", "", "NONE", "BROKEN"])
def test_bad_override_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError):
        simulator(overrides={"01012345678": value})


def test_factory_selects_by_name() -> None:
    assert isinstance(line_tester_from("simulator"), SimulatedLineTester)
    assert isinstance(line_tester_from(" Simulator "), SimulatedLineTester)
    assert isinstance(line_tester_from(""), SimulatedLineTester)
    sim = line_tester_from("simulator", overrides={"1": "NORMAL"}, clock=lambda: NOON)
    assert isinstance(sim, SimulatedLineTester)
    assert sim.verdict("1") == (LineTestOutcome.NORMAL, FaultCode.NONE)


def test_unknown_adapter_name_raises() -> None:
    with pytest.raises(ConfigurationError, match="switch-x"):
        line_tester_from("switch-x")


@pytest.mark.parametrize("number", ["01088889999", "01088881111"])
async def test_result_round_trips_through_temporal_converter(number: str) -> None:
    result = await simulator().test(number)
    converter = DataConverter.default
    payloads = await converter.encode([result])
    [decoded] = await converter.decode(payloads, [LineTestResult])
    assert decoded == result
    assert isinstance(decoded.result, LineTestOutcome) and isinstance(decoded.fault_code, FaultCode)
