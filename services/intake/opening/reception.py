"""Taking a report in: admit it, accept it, and decide who opens its ticket (CreateTicket's one call).

A report is taken only while the backlog of unopened tickets is under its bound (admission.py), and
accepted in one round trip (:func:`reporting.accept_report`: the request id and the repeat keys
claimed, the ticket numbered, its draft in ``intake.pending_tickets``). A new ticket is then opened:

- by the caller, before the answer, when it asked to wait for the routing (``wait_for_routing``);
- else by this process's starter, in the background, when it had room to lease the ticket as it was
  accepted (a retry's ticket stays with the process that leased it first);
- else by whichever intake process's poller finds it unleased or its lease run out (starter.py).

A retry of an accepted report answers with the same ticket, even once the report's times (its
``expected_by``) are no longer valid: :meth:`Reception.accepted_before`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from desk.errors import InvalidArgument
from domain.ticket import TicketView
from services.intake.opening.starter import TicketStarter
from services.intake.reports.reporting import accept_report, find_accepted
from services.intake.validation import TIME_RELATIVE_FIELDS, ValidReport
from workflows.ticket_client import TicketWorkflows


@dataclass(frozen=True)
class Received:
    view: TicketView
    repeat: bool  # the report repeats this open ticket; else the ticket is the report's own
    replayed: bool  # the request id was accepted before: the same answer again, nothing new recorded
    recorded: bool  # the ticket's workflow has recorded it; else it is as accepted, with no timeline yet


class Reception:
    def __init__(self, db: asyncpg.Pool, tickets: TicketWorkflows, starter: TicketStarter) -> None:
        self._db = db
        self._tickets = tickets
        self._starter = starter

    async def take(
        self,
        report: ValidReport,
        *,
        fingerprint: bytes,
        now: datetime,
        recorded_by: str,
        wait_for_routing: bool,
    ) -> Received:
        """The ticket the report makes or repeats; ``fingerprint`` tells a retry from a reused request id."""
        with self._starter.admission.admitted():
            lease = self._starter.lease(now)
            found = await accept_report(
                db=self._db,
                tickets=self._tickets,
                report=report,
                fingerprint=fingerprint,
                now=now,
                recorded_by=recorded_by,
                leased_until=lease or now,  # no lease: the poller's at once
            )
        if found.pending is None:
            return Received(found.view, found.repeat, found.replayed, recorded=True)
        if wait_for_routing:
            opened = await self._starter.open_now(found.pending)
            return Received(opened, found.repeat, found.replayed, recorded=True)
        if lease is not None and not found.replayed:
            self._starter.hand_off(found.pending)
        return Received(found.view, found.repeat, found.replayed, recorded=False)

    async def accepted_before(
        self, request_id: str, fingerprint: bytes, refused: InvalidArgument
    ) -> TicketView | None:
        """The ticket of this very report, if it was accepted while its times were still valid.

        Only looked up when the times are all that is wrong, so bad reports cost no query.
        """
        if not {v.field for v in refused.violations} <= TIME_RELATIVE_FIELDS:
            return None
        return await find_accepted(db=self._db, request_id=request_id, fingerprint=fingerprint)
