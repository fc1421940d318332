"""A callback (回访) to the customer once the ticket is resolved, as the ticket records it, and the
surveyors' queue of tickets awaiting one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ticket import TicketView


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
    request_id: str = ""  # the caller's idempotency key: a retry with it counts once
    attempt: int = 0  # which attempt (1, 2, …) of the current callback this was; 0 before attempts counted


@dataclass
class PendingCallback:
    """A ticket's place in the surveyors' queue (ListPendingCallbacks): kept while it awaits a callback."""

    ticket_id: str
    pending: bool  # False once the ticket no longer awaits a callback: it leaves the queue
    due_at: datetime | None = None  # the callback deadline
    attempts: int = 0  # not reached so far, for the current callback
    max_attempts: int = 0
    next_attempt_at: datetime | None = None  # not before this (the policy's spacing)
    ticket: TicketView | None = None  # as it was when it entered or last changed in the queue
