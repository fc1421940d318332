"""The after-care policy (回访, 满意度调查, 原因调查, 归档): kept by the survey service, read by the workflow.

One row in ``survey.policies``, seeded with these defaults and changeable at run time; a ticket reads it
when it first needs it (its first callback attempt not reached, or its closing) and keeps that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.calendars import BUSINESS_5X8_NAME, DEFAULT_TIME_ZONE

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass
class AftercarePolicy:
    callback_attempts: int = 3
    """Attempts to reach the customer before the ticket closes as "customer unreachable"."""
    callback_interval_seconds: float = 2 * HOUR
    """At least this long between two attempts; all of them within the callback deadline."""
    surveyed_kinds: list[str] = field(default_factory=lambda: ["FAULT"])
    """Kinds surveyed when closed: every fault (普查), others as the desk chooses."""
    survey_window_seconds: float = 3 * DAY
    """How long a survey waits for the customer's answer before it expires (no answer)."""
    investigation_seconds: float = 8 * HOUR
    """The investigation of an unsatisfied survey: working time on ``investigation_calendar``."""
    investigation_calendar: str = BUSINESS_5X8_NAME
    warning_percent: int = 80
    time_zone: str = DEFAULT_TIME_ZONE
    """The desk's: its calendar's and the archive's day."""
    archive_delay_seconds: float = 0.0
    """0: archive at the start of the next day (the desk's time zone); else this long after the
    survey is done (a desk that files sooner, or a test)."""
    version: int = 0


CUSTOMER_UNREACHABLE = "customer unreachable"
"""The termination reason of a ticket closed after its last allowed callback attempt."""
