"""What the person-readable output (cli/render.py) shows first, by message type: optional, all here.

A message without a hint is shown by the general rules (its id and status first, fields in their
declared order, a list's columns picked from what its rows hold); a hint only reorders, picks a list's
columns, or keeps a field whose empty value says something (a callback not reached).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    headline: tuple[str, ...] = ()
    """Shown on the record's first line after its id (default: its status or state)."""
    first: tuple[str, ...] = ()
    """The record's fields listed first, in this order; the others follow in declared order."""
    columns: tuple[str, ...] = ()
    """A list's columns, in order (default: chosen from the fields its rows hold)."""
    always: tuple[str, ...] = ()
    """Shown even when empty, false or zero."""
    inline: bool | None = None
    """Inside another record: True on one line, False as a section of its own (default: by size)."""


NO_HINT = Hint()

HINTS: dict[str, Hint] = {
    "helpdesk.v1.Ticket": Hint(
        headline=("status", "priority", "summary"),
        first=(
            "kind",
            "channel",
            "category",
            "customer_tier",
            "reporter",
            "fault_number",
            "region",
            "assigned_team_id",
            "created_at",
            "updated_at",
        ),
        columns=(
            "ticket_id",
            "status",
            "priority",
            "category",
            "assigned_team_id",
            "created_at",
            "summary",
        ),
    ),
    "helpdesk.v1.WorkOrder": Hint(
        first=("ticket_id", "team_id", "engineer", "cause", "action", "return_reason"),
        columns=("work_order_id", "team_id", "status", "engineer", "created_at", "resolved_at", "cause"),
    ),
    "helpdesk.v1.Deadline": Hint(
        headline=("kind", "state"),
        columns=("kind", "work_order_id", "state", "due_at", "warn_at", "met_at", "team_id"),
    ),
    "helpdesk.v1.TimelineEntry": Hint(columns=("occurred_at", "type", "actor", "reason", "detail")),
    "helpdesk.v1.Callback": Hint(headline=("ticket_status",), always=("reached", "confirmed_resolved")),
}


def hint_for(full_name: str) -> Hint:
    return HINTS.get(full_name, NO_HINT)
