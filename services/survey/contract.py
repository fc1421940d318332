"""What other code may know of the survey service: its records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class CallbackRecord:
    ticket_id: str
    reached: bool
    confirmed_resolved: bool
    termination_reason: str
    note: str
    surveyor: str
    recorded_at: datetime
    ticket_status: str = ""  # the ticket's status once the callback was applied


@dataclass
class SaveCallbackInput:
    callback: CallbackRecord
