"""What other code may know of the survey service: its records."""

from __future__ import annotations

from dataclasses import dataclass

from domain.callbacks import CallbackRecord
from domain.hotline import EscalationRecord


@dataclass
class SaveCallbackInput:
    callback: CallbackRecord


@dataclass
class SaveEscalationInput:
    escalation: EscalationRecord
