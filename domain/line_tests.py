"""A line test's answer (自动测试), as a ticket records it; the testers themselves are intake's adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LineTestOutcome(StrEnum):
    NORMAL = "NORMAL"
    ABNORMAL = "ABNORMAL"
    UNAVAILABLE = "UNAVAILABLE"  # the line could not be tested automatically (无法自动测试)


class FaultCode(StrEnum):
    NONE = ""  # NORMAL and UNAVAILABLE carry no fault code
    OPEN_CIRCUIT = "OPEN_CIRCUIT"
    SHORT_CIRCUIT = "SHORT_CIRCUIT"
    GROUND_FAULT = "GROUND_FAULT"
    HIGH_RESISTANCE = "HIGH_RESISTANCE"
    NO_DIAL_TONE = "NO_DIAL_TONE"


@dataclass
class LineTestResult:
    fault_number: str
    result: LineTestOutcome
    fault_code: FaultCode
    detail: str  # read to the customer by an agent or the IVR, so a plain sentence
    tested_at: datetime
    tester: str  # the adapter's name
