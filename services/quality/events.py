"""The quality service's events (``helpdesk.quality.*``), queued in ``quality.outbox`` with the change
they report and published by the quality relay (desk/outbox_relay.py), as the knowledge base's are.

Like the knowledge base's, these events are no ticket's: their envelope's ``ticket_id`` is empty and
their ``sequence`` is 1 (each names one run, spot check, inspection or report, which happens once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from desk.db import Executor
from desk.events import EventSpec, quality_subject
from desk.outbox import Outbox, trace_context

QUALITY_OUTBOX = Outbox(schema="quality", relay_lock=0x6865_7161)


def quality_event(
    verb: str, subject_id: str, *, actor: str, at: datetime, payload: dict[str, Any], reason: str = ""
) -> EventSpec:
    """``quality.<verb>`` about one run (its day), spot check, inspection or report (its week)."""
    return EventSpec(
        event_id=f"quality/{verb}/{subject_id}",
        type=f"quality.{verb}",
        subject=quality_subject(verb),
        ticket_id="",
        sequence=1,
        occurred_at=at,
        actor=actor,
        reason=reason,
        payload=payload,
    )


async def queue(db: Executor, event: EventSpec) -> None:
    """Queue in the caller's transaction: the event goes out exactly when the change is stored."""
    await QUALITY_OUTBOX.enqueue(db=db, events=[event], trace=trace_context())
