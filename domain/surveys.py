"""The satisfaction survey (满意度调查) of a closed ticket, and the investigation of an unsatisfied one.

A record per survey round: the first when the ticket closes, another after a second dispatch that an
investigation blamed on the ops team has been resolved and called back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Rating(StrEnum):
    VERY_SATISFIED = "VERY_SATISFIED"
    SATISFIED = "SATISFIED"
    NEUTRAL = "NEUTRAL"
    UNSATISFIED = "UNSATISFIED"


class Responsibility(StrEnum):
    NOT_OURS = "NOT_OURS"  # neither the desk nor the ops teams: explained to the customer
    SERVICE_DESK = "SERVICE_DESK"  # a violation against the staff member, for the team lead
    OPS_TEAM = "OPS_TEAM"  # a second dispatch (二次派单), reviewed by a senior agent


class SurveyStatus(StrEnum):
    OPEN = "OPEN"  # waiting for the customer's answer until due_at
    ANSWERED = "ANSWERED"
    EXPIRED = "EXPIRED"  # no answer within the window


@dataclass
class SurveyRecord:
    ticket_id: str
    round: int  # 1 for the ticket's first survey
    status: SurveyStatus
    opened_at: datetime
    due_at: datetime
    rating: str = ""  # a Rating once answered
    comment: str = ""
    request_id: str = ""  # of the submission: its retry answers the same
    answered_by: str = ""
    submitted_at: datetime | None = None
    expired_at: datetime | None = None
    investigation_due_at: datetime | None = None  # an UNSATISFIED answer is investigated by then
    responsibility: str = ""  # a Responsibility once investigated
    finding: str = ""
    staff_id: str = ""  # the desk's staff member held responsible (SERVICE_DESK)
    disputed: bool = False  # the customer disputes a NOT_OURS finding (for the manager hotline)
    investigated_by: str = ""
    investigated_at: datetime | None = None
    investigation_request_id: str = ""

    @property
    def awaiting_investigation(self) -> bool:
        return self.rating == Rating.UNSATISFIED and self.investigated_at is None
