"""What other code may know of the survey service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass

from domain.callbacks import CallbackRecord, PendingCallback
from domain.hotline import EscalationRecord
from domain.surveys import SurveyRecord

FIND_AFTERCARE_POLICY = "survey.find_aftercare_policy"
"""Local activity: the after-care policy in force (domain.aftercare_policy.AftercarePolicy)."""


@dataclass
class FindAftercarePolicyInput:
    ticket_id: str  # who asks (one policy for the whole desk today)


@dataclass
class SaveCallbackInput:
    callback: CallbackRecord


@dataclass
class SaveEscalationInput:
    escalation: EscalationRecord


@dataclass
class SavePendingCallbackInput:
    entry: PendingCallback


@dataclass
class SaveSurveyInput:
    survey: SurveyRecord
