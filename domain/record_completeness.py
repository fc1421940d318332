"""Is a report's record complete (工作记录完整率, seed 003 4.6.3)?

The repair form (CreateTicketRequest) has fields intake refuses a report without: channel, kind,
category, summary, the reporter's name and phone. Every record has those. Completeness is about the
fields the form asks for that intake accepts a report without, because a caller may not know them at
once but the agent should ask (seed 003 4.1.1: 汇集请求内容和相关信息形成记录表; seed 002 一.8 and 二:
the fault number, the contact phone and the symptom of a fault):

- every kind: ``description``, the request in the customer's words beyond the one-line summary;
- a fault (FAULT) also: ``occurred_at``, when the fault began, and where it is: the broken line's
  ``fault_number`` or the site's ``reporter.address`` (an IT fault has no telephone line).

Optional and not counted: organisation, e-mail, expected_by, region, agent_id. ``ticket.created``
carries their number (``record_fields``) and the missing ones' names (``record_missing``), so stats
counts complete records (and filled fields) from the events alone. docs/statistics-kpis.md says the
same for its readers.
"""

from __future__ import annotations

from domain.ticket import TicketDraft

FAULT = "FAULT"


def expected_fields(draft: TicketDraft) -> list[str]:
    """The completeness fields a record of this kind should have, in the form's order."""
    return (
        ["description", "occurred_at", "fault_number|reporter.address"]
        if draft.kind == FAULT
        else ["description"]
    )


def missing_fields(draft: TicketDraft) -> list[str]:
    """The completeness fields the record lacks, in the form's order; empty: the record is complete."""
    filled = {
        "description": bool(draft.description.strip()),
        "occurred_at": draft.occurred_at is not None,
        "fault_number|reporter.address": bool(draft.fault_number.strip() or draft.reporter.address.strip()),
    }
    return [name for name in expected_fields(draft) if not filled[name]]


def facts(draft: TicketDraft) -> dict[str, object]:
    """What ``ticket.created`` says of the record: how many completeness fields it should have and
    which it lacks (filled = record_fields - len(record_missing); complete when none is missing)."""
    return {"record_fields": len(expected_fields(draft)), "record_missing": missing_fields(draft)}
