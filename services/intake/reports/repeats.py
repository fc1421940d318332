"""Is a report a repeat (重复申告) of an open ticket, and what does the caller hear about its progress?

A report repeats an open ticket with the same fault number, or from the same caller's phone about the
same category (seed 002 一.5-6, 二.4). "Open" lasts until the ticket is closed or cancelled: a repeat
on a resolved ticket still finds it, and the caller is told it has been handled.
"""

from __future__ import annotations

import re

from domain.ticket import TicketStatus, TicketView
from services.intake.reference.directory import SELF_SERVICE_CHANNELS

_NOT_DIGITS = re.compile(r"\D")


def report_keys(*, fault_number: str, phone: str, category: str, channel: str) -> list[str]:
    """The keys a report is known by, sorted (so concurrent claims lock them in one order).

    An IVR caller keys in the faulty line itself and a contact number only for the callback, so
    there the line alone decides: one contact number may report two lines.
    """
    keys = []
    if digits := _NOT_DIGITS.sub("", fault_number):
        keys.append(f"fault:{digits}")
    if channel not in SELF_SERVICE_CHANNELS and (digits := _NOT_DIGITS.sub("", phone)):
        keys.append(f"caller:{digits}:{category}")
    return sorted(keys)


def progress(view: TicketView) -> str:
    """What the caller is told: where the ticket is, and the engineer's latest word or line test."""
    status = view.status
    if status == TicketStatus.RESOLVED:
        said = "resolved; we will call you back to confirm"
    elif view.draft.outage_id:
        said = f"part of known outage {view.draft.outage_id}; it is being repaired"
    elif view.assigned_team_id:
        said = f"{status.lower().replace('_', ' ')} with team {view.assigned_team_id}"
    else:
        said = f"{status.lower().replace('_', ' ')} at the service desk"
    notes = [said]
    engineers = [w for w in view.work_orders if w.engineer]
    if engineers:
        latest = engineers[-1]
        notes.append(f"engineer {latest.engineer}" + (f": {latest.action}" if latest.action else ""))
    if view.line_test is not None:
        test = view.line_test
        notes.append(f"last line test {test.result.lower()}" + (f" ({test.detail})" if test.detail else ""))
    if view.escalated:
        notes.append("escalated to the manager hotline")
    return "; ".join(notes)


def repairman_message(view: TicketView) -> str:
    """The repairman's word for the caller (查修员留言): the latest work order's action, if any."""
    latest = view.work_orders[-1] if view.work_orders else None
    if latest is None or not latest.action:
        return ""
    return f"{latest.engineer}: {latest.action}" if latest.engineer else latest.action


def last_test_result(view: TicketView) -> str:
    """The last line test, as the caller hears it (step 6 when there is no message)."""
    return view.line_test.detail if view.line_test is not None else ""
