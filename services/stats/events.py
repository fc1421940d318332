"""The stats service's events (``helpdesk.report.*``), queued in ``stats.outbox`` with the report they
announce and published by the stats relay (desk/outbox_relay.py), as the quality service's are.

``report.generated`` is no ticket's: its envelope's ``ticket_id`` is empty and its ``sequence`` 1 (a
report is generated once). The quality service's ledger makes it the statistician's item
``report/<report_id>`` when the actor is a person; a Schedule's report has the actor ``system``.
"""

from __future__ import annotations

from datetime import datetime

from desk.db import Executor
from desk.events import EventSpec
from desk.outbox import Outbox, trace_context
from services.stats.periods import ReportPeriod

STATS_OUTBOX = Outbox(schema="stats", relay_lock=0x6865_7374)


def report_subject(verb: str) -> str:
    return f"helpdesk.report.{verb}"


def report_generated(
    period: ReportPeriod, *, actor: str, at: datetime, tickets: int, late_corrections: int
) -> EventSpec:
    return EventSpec(
        event_id=f"report/generated/{period.report_id}",
        type="report.generated",
        subject=report_subject("generated"),
        ticket_id="",
        sequence=1,
        occurred_at=at,
        actor=actor,
        payload={
            "report_id": period.report_id,
            "period": period.kind.value,
            "boundary": period.boundary.value,
            "period_start": period.first_day.isoformat(),
            "period_end": period.last_day.isoformat(),
            "tickets": tickets,
            "late_corrections": late_corrections,
        },
    )


async def queue(db: Executor, event: EventSpec) -> None:
    """Queue in the caller's transaction: the event goes out exactly when the report is stored."""
    await STATS_OUTBOX.enqueue(db=db, events=[event], trace=trace_context())
