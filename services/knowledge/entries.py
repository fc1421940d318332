"""Entries and proposed cases as the knowledge base keeps them, what may happen to them, and the events.

Pure: no I/O and no clock. An entry is PUBLISHED from its first version until it is RETIRED, which is
for good; every version is kept. A case (a hard ticket a senior agent proposed) is PENDING, WARNED,
OVERDUE, and MET once its entry is written, in time or not.

The events are the knowledge base's own, not a ticket's: their envelope's ``ticket_id`` is empty and
their ``sequence`` counts the events of one entry (``knowledge.*`` but ``proposed``) or of one case
(``knowledge.proposed`` and the case's ``sla.*``), named in the payload's ``entry_id`` or ``ticket_id``
(docs/events.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from desk.errors import FieldViolation, InvalidArgument, TransitionNotAllowed
from desk.events import EventSpec, knowledge_subject, sla_subject
from domain.deadlines import DeadlineKind

EXCERPT_CHARS = 120


class EntryStatus(StrEnum):
    PUBLISHED = "PUBLISHED"
    RETIRED = "RETIRED"


class CaseState(StrEnum):
    PENDING = "PENDING"
    WARNED = "WARNED"
    OVERDUE = "OVERDUE"
    MET = "MET"


@dataclass
class EntryText:
    title: str
    body: str
    category: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class Version:
    version: int
    text: EntryText
    note: str
    written_by: str
    written_at: datetime


@dataclass
class Entry:
    entry_id: str
    status: EntryStatus
    version: int
    text: EntryText
    ticket_id: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None = None
    retired_by: str = ""
    retired_reason: str = ""
    versions: list[Version] = field(default_factory=list)


@dataclass
class Case:
    ticket_id: str
    proposed_by: str
    proposed_at: datetime
    note: str
    state: CaseState
    warn_at: datetime
    due_at: datetime
    entry_id: str = ""
    met_at: datetime | None = None


def check_revisable(entry: Entry, expected_version: int) -> None:
    """A retired entry is never revised; a revision made against an older version would lose an edit."""
    if entry.status == EntryStatus.RETIRED:
        raise TransitionNotAllowed(f"entry {entry.entry_id} is retired; write a new entry instead")
    if expected_version and expected_version != entry.version:
        raise TransitionNotAllowed(
            f"entry {entry.entry_id} is at version {entry.version}, not {expected_version}: read it again"
        )


def check_text(text: EntryText) -> None:
    """Every bad field at once: a title and a body are required, a tag may not be blank."""
    violations = [
        FieldViolation(name, "is required") for name in ("title", "body") if not getattr(text, name)
    ]
    if any(not tag.strip() for tag in text.tags):
        violations.append(FieldViolation("tags", "a tag may not be blank"))
    if violations:
        raise InvalidArgument(violations)


def entry_event(
    entry: Entry, verb: str, *, sequence: int, actor: str, at: datetime, reason: str = ""
) -> EventSpec:
    payload = {
        "entry_id": entry.entry_id,
        "version": entry.version,
        "title": entry.text.title,
        "category": entry.text.category,
        "ticket_id": entry.ticket_id,
    }
    return EventSpec(
        event_id=f"knowledge/{entry.entry_id}/{sequence}",
        type=f"knowledge.{verb}",
        subject=knowledge_subject(verb),
        ticket_id="",
        sequence=sequence,
        occurred_at=at,
        actor=actor,
        reason=reason,
        payload=payload,
    )


def case_event(case: Case, verb: str, *, sequence: int, actor: str, at: datetime) -> EventSpec:
    """``knowledge.proposed``, or the case's ``sla.warning`` and ``sla.overdue``."""
    type_ = "knowledge.proposed" if verb == "proposed" else f"sla.{verb}"
    subject = knowledge_subject(verb) if verb == "proposed" else sla_subject(verb)
    payload = {
        "ticket_id": case.ticket_id,
        "deadline": str(DeadlineKind.KNOWLEDGE_ENTRY),
        "warn_at": case.warn_at.isoformat(),
        "due_at": case.due_at.isoformat(),
        "proposed_by": case.proposed_by,
    }
    return EventSpec(
        event_id=f"knowledge-case/{case.ticket_id}/{sequence}",
        type=type_,
        subject=subject,
        ticket_id="",
        sequence=sequence,
        occurred_at=at,
        actor=actor,
        reason=case.note if type_ == "knowledge.proposed" else f"knowledge entry for {case.ticket_id}",
        payload=payload,
    )


def proposed_event(case: Case, sequence: int) -> EventSpec:
    return case_event(case, "proposed", sequence=sequence, actor=case.proposed_by, at=case.proposed_at)


def alarm_event(case: Case, alarm: str, sequence: int, at: datetime) -> EventSpec:
    return case_event(case, alarm, sequence=sequence, actor="system", at=at)


def excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"
