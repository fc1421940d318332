"""The records of spot checks and inspections, as the repository stores them and the edge maps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.quality.contract import LedgerItem
from services.quality.scorecards import Post


class Origin(StrEnum):
    """How an item came to be inspected (the proto's SampleOrigin, unprefixed)."""

    DAILY = "DAILY"  # the day's 5 % sample (定期检查)
    SPOT = "SPOT"  # a spot check (不定期抽查)


@dataclass(frozen=True)
class Slice:
    """What a spot check draws from; empty fields do not narrow it. The window is [start, end)."""

    ticket_id: str = ""
    agent_id: str = ""
    team_id: str = ""
    post: Post | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "agent_id": self.agent_id,
            "team_id": self.team_id,
            "post": str(self.post or ""),
            "window_start": self.window_start.isoformat() if self.window_start else "",
            "window_end": self.window_end.isoformat() if self.window_end else "",
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slice:
        return cls(
            ticket_id=data.get("ticket_id", ""),
            agent_id=data.get("agent_id", ""),
            team_id=data.get("team_id", ""),
            post=Post(data["post"]) if data.get("post") else None,
            window_start=_instant(data.get("window_start", "")),
            window_end=_instant(data.get("window_end", "")),
        )


def _instant(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class ItemState:
    """A ledger item and where it stands in inspection."""

    item: LedgerItem
    position: int
    origin: Origin | None = None  # None: in no sample and no spot check
    inspection_id: str = ""
    score: int = 0


@dataclass
class SpotCheck:
    spot_check_id: str
    request_id: str
    reason: str
    scope: Slice
    size: int  # 0 with a ticket: all of its items
    population: int  # the slice's items not inspected yet, when drawn
    requested_by: str
    created_at: datetime
    items: list[ItemState] = field(default_factory=list)


@dataclass(frozen=True)
class CriterionScore:
    criterion: str
    score: int
    note: str = ""


@dataclass(frozen=True)
class NamedViolation:
    code: str
    note: str = ""
    violation_id: str = ""  # the ledger's id, set by the desk: inspection/<inspection_id>/<n>


@dataclass
class Inspection:
    inspection_id: str
    item: ItemState
    request_id: str
    origin: Origin
    inspector: str
    score: int
    scores: list[CriterionScore]
    violations: list[NamedViolation]
    findings: str
    inspected_at: datetime
    violations_recorded_at: datetime | None = None


@dataclass(frozen=True)
class InspectionRequest:
    """What an inspector records; the item by id, or by its ticket when it has one item awaiting."""

    request_id: str
    item_id: str
    ticket_id: str
    scores: list[CriterionScore]
    violations: list[NamedViolation]
    findings: str
