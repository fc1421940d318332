"""Record completeness (工作记录完整率, seed 003 4.6.3): which fields of the repair form a record has.

A complete repair record (障碍申告单) names who reported it and how to reach them, what and where the
trouble is and since when. Intake already refuses a report without the required fields (reporter name
and phone, category, summary), so they are always filled; the others an agent should ask for on every
report, and the fault number on a fault. The reporter's organization, e-mail and address and the
customer's expected time are not expected: many reporters have none.

The ticket's ``ticket.created`` event carries the names (never the values) of the expected fields and
of those filled; the statistics count them (services/stats/projection.py).
"""

from __future__ import annotations

from domain.ticket import TicketDraft

REQUIRED_FIELDS = ("reporter.name", "reporter.phone", "category", "summary")
EXPECTED_FIELDS = ("description", "region", "occurred_at")
FAULT_FIELDS = ("fault_number",)


def expected_fields(draft: TicketDraft) -> tuple[str, ...]:
    """The repair form's fields a complete record of this report has, in form order."""
    fault = FAULT_FIELDS if draft.kind == "FAULT" else ()
    return REQUIRED_FIELDS + EXPECTED_FIELDS + fault


def filled_fields(draft: TicketDraft) -> tuple[str, ...]:
    """The expected fields the record has (a value that is not blank)."""
    values = {
        "reporter.name": draft.reporter.name,
        "reporter.phone": draft.reporter.phone,
        "category": draft.category,
        "summary": draft.summary,
        "description": draft.description,
        "region": draft.region,
        "occurred_at": "yes" if draft.occurred_at is not None else "",
        "fault_number": draft.fault_number,
    }
    return tuple(name for name in expected_fields(draft) if values[name].strip())
