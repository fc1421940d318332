"""What other code may know of the knowledge service: its search, its case workflow's names and inputs.

Intake shows agents the knowledge base's best answers for a new report through :class:`KnowledgeSearch`
(implemented by :class:`services.knowledge.search.EntrySearch`, handed to intake by its composition
root). The workflow ``knowledge/<ticket_id>`` (workflows/knowledge.py) holds a proposed hard case's
deadline; its activities are this service's (services/knowledge/activities.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain import calendars
from domain.deadlines import Deadline, DeadlineKind, new_deadline


@dataclass(frozen=True)
class KnowledgeMatch:
    entry_id: str
    title: str
    category: str
    excerpt: str
    score: float


class KnowledgeSearch(Protocol):
    async def similar(self, text: str, *, limit: int) -> list[KnowledgeMatch]:
        """Published entries that answer ``text`` (a report's summary), best first; [] when none."""
        ...


class TicketLookup(Protocol):
    """Whether a ticket exists: a hard case proposed for the knowledge base must be a real ticket."""

    async def ticket_exists(self, ticket_id: str) -> bool: ...


ENTRY_TARGET_SECONDS = 4 * 3600.0
"""Half a working day (seed 002 五.二): four hours of the desk's 9:00-17:00 business day."""
ENTRY_WARNING_PERCENT = 80


def entry_deadline(proposed_at: datetime) -> Deadline:
    """When a proposed case's entry warns and falls due: on the desk's business calendar (5x8, China)."""
    return new_deadline(
        DeadlineKind.KNOWLEDGE_ENTRY,
        started_at=proposed_at,
        target_seconds=ENTRY_TARGET_SECONDS,
        warning_percent=ENTRY_WARNING_PERCENT,
        calendar=calendars.BUSINESS_5X8_NAME,
        time_zone=calendars.DEFAULT_TIME_ZONE,
    )


def case_workflow_id(ticket_id: str) -> str:
    return f"knowledge/{ticket_id}"


CASE_WORKFLOW = "KnowledgeCaseWorkflow"
ENTRY_WRITTEN = "entry_written"
"""Signal to the case workflow: its entry is written (the argument: the entry id)."""

RAISE_CASE_ALARM = "knowledge.raise_case_alarm"


@dataclass
class KnowledgeCaseInput:
    ticket_id: str
    proposed_at: datetime
    proposed_by: str


@dataclass
class CaseEntry:
    entry_id: str  # "" while no entry answers the case


@dataclass
class CaseAlarmInput:
    ticket_id: str
    alarm: str  # "warning" or "overdue"
    raised_at: datetime


@dataclass
class CaseAlarmResult:
    entry_id: str  # the entry written meanwhile: then nothing was raised, the case is met
