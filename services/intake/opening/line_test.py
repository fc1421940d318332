"""Line test (自动测试): the adapter interface, and the deterministic simulator that is the default.

A real tester drives a telephone switch's test head over a vendor API, which cannot run here, so the
desk ships the simulator and selects the adapter by name from HELPDESK_LINE_TESTER (default
"simulator"; see `line_tester_from`).

The simulator answers from the fault number's digits alone (so "010-8888 1234" and "01088881234" are
one line), first match wins:
1. the override table given to it (digits → "NORMAL", "UNAVAILABLE" or a fault code, which means ABNORMAL);
2. fixed suffixes for tests and demos: "0000" → UNAVAILABLE, "9999" → ABNORMAL OPEN_CIRCUIT,
   "1111" → NORMAL; a number without digits → UNAVAILABLE;
3. a keyed hash of the digits: about 60 % NORMAL, 30 % ABNORMAL (the five fault codes about equally),
   10 % UNAVAILABLE. The same number and key always give the same answer, in any process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from desk.errors import ConfigurationError
from domain.line_tests import FaultCode, LineTestOutcome, LineTestResult


class LineTester(Protocol):
    async def test(self, fault_number: str) -> LineTestResult:
        """Test one line.

        A line that cannot be tested (unknown, busy, no test head reaches it) is an answer, UNAVAILABLE,
        never an exception. Raise only when the tester itself could not be asked (transport errors,
        timeouts): the activity retries those.
        """
        ...


DETAILS: Mapping[str, str] = {  # by fault code, or by outcome when there is none
    LineTestOutcome.NORMAL: "The line tested normal from the exchange (测试正常).",
    LineTestOutcome.UNAVAILABLE: "The line could not be tested automatically; test by hand (无法自动测试).",
    FaultCode.OPEN_CIRCUIT: "The line is open: the loop is broken between exchange and subscriber (断线).",
    FaultCode.SHORT_CIRCUIT: "The two wires of the line touch each other (混线).",
    FaultCode.GROUND_FAULT: "A wire of the line leaks to earth (地气).",
    FaultCode.HIGH_RESISTANCE: "The loop resistance is high, likely a poor joint (接触不良).",
    FaultCode.NO_DIAL_TONE: "The exchange gives no dial tone on this line (无拨号音).",
}

SUFFIXES = {
    "0000": (LineTestOutcome.UNAVAILABLE, FaultCode.NONE),
    "9999": (LineTestOutcome.ABNORMAL, FaultCode.OPEN_CIRCUIT),
    "1111": (LineTestOutcome.NORMAL, FaultCode.NONE),
}
_FAULTS = [code for code in FaultCode if code is not FaultCode.NONE]

Verdict = tuple[LineTestOutcome, FaultCode]


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isascii() and ch.isdigit())


def _parse_override(value: str) -> Verdict:
    if value in (LineTestOutcome.NORMAL, LineTestOutcome.UNAVAILABLE):
        return LineTestOutcome(value), FaultCode.NONE
    if value in _FAULTS:
        return LineTestOutcome.ABNORMAL, FaultCode(value)
    raise ConfigurationError(f"line test override must be NORMAL, UNAVAILABLE or a fault code, got {value!r}")


class SimulatedLineTester:
    """Deterministic stand-in for a switch's test head; see the module docstring for its answers."""

    name = "simulator"

    def __init__(
        self,
        *,
        overrides: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        key: str = "helpdesk-line-test",
    ) -> None:
        self._overrides = {_digits(n): _parse_override(v) for n, v in (overrides or {}).items()}
        self._clock = clock
        self._key = key.encode()

    def verdict(self, fault_number: str) -> Verdict:
        digits = _digits(fault_number)
        if digits in self._overrides:
            return self._overrides[digits]
        if not digits:
            return LineTestOutcome.UNAVAILABLE, FaultCode.NONE
        if digits[-4:] in SUFFIXES:
            return SUFFIXES[digits[-4:]]
        # A keyed hash, not hash(): str hashing is salted per process, and answers must survive restarts.
        digest = hashlib.blake2b(digits.encode(), key=self._key, digest_size=8).digest()
        bucket = int.from_bytes(digest[:4]) % 100
        if bucket < 60:
            return LineTestOutcome.NORMAL, FaultCode.NONE
        if bucket < 90:
            return LineTestOutcome.ABNORMAL, _FAULTS[digest[4] % len(_FAULTS)]
        return LineTestOutcome.UNAVAILABLE, FaultCode.NONE

    async def test(self, fault_number: str) -> LineTestResult:
        outcome, code = self.verdict(fault_number)
        return LineTestResult(
            fault_number=fault_number,
            result=outcome,
            fault_code=code,
            detail=DETAILS[code or outcome],
            tested_at=self._clock(),
            tester=self.name,
        )


_ADAPTERS: Mapping[str, Callable[..., LineTester]] = {"simulator": SimulatedLineTester}


def line_tester_from(name: str, **options: Any) -> LineTester:
    """The adapter named by HELPDESK_LINE_TESTER ("" means the simulator); options go to its constructor."""
    adapter = _ADAPTERS.get(name.strip().lower() or "simulator")
    if adapter is None:
        raise ConfigurationError(
            f"HELPDESK_LINE_TESTER: unknown line tester {name!r}; known: {', '.join(_ADAPTERS)}"
        )
    return adapter(**options)
