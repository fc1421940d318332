"""What other code may know of the survey service: its activity names and records."""

from __future__ import annotations

from dataclasses import dataclass

from domain.callbacks import CallbackRecord

SAVE_CALLBACK = "survey.save_callback"


@dataclass
class SaveCallbackInput:
    callback: CallbackRecord
