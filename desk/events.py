"""Domain events: the one envelope, subjects of DESIGN section 6, and publishing to JetStream.

Events are facts published at least once. The workflow decides each event's id (deterministically,
so a retried publish carries the same id) and JetStream drops duplicates by ``Nats-Msg-Id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STREAM = "HELPDESK"
STREAM_SUBJECTS = ["helpdesk.>"]


@dataclass
class EventSpec:
    """One domain event as decided by a workflow, before it becomes a protobuf envelope."""

    event_id: str
    type: str
    subject: str
    ticket_id: str
    sequence: int
    occurred_at: datetime
    actor: str
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def ticket_subject(verb: str) -> str:
    return f"helpdesk.ticket.{verb}"


def dispatch_subject(team_id: str, verb: str) -> str:
    return f"helpdesk.dispatch.{team_id}.{verb}"


def review_subject(verb: str) -> str:
    """The desk's own review queue (审核): requested, approved, rejected. Teams see only what is approved."""
    return f"helpdesk.review.{verb}"


def sla_subject(verb: str) -> str:
    return f"helpdesk.sla.{verb}"


def survey_subject(verb: str) -> str:
    return f"helpdesk.survey.{verb}"


def escalation_subject(verb: str) -> str:
    """The manager hotline's queue (经理热线): opened, resolved."""
    return f"helpdesk.escalation.{verb}"


def knowledge_subject(verb: str) -> str:
    return f"helpdesk.knowledge.{verb}"


def team_consumer_subject(team_id: str) -> str:
    return f"helpdesk.dispatch.{team_id}.>"


TEAM_CONSUMER_PREFIX = "team-"


def team_consumer_name(team_id: str) -> str:
    """Durable consumer name of a team; JetStream names may not contain dots."""
    return TEAM_CONSUMER_PREFIX + team_id.replace(".", "_")


def quality_subject(verb: str) -> str:
    """Quality inspection's facts: sampled, spot_checked, inspected, reported."""
    return f"helpdesk.quality.{verb}"
