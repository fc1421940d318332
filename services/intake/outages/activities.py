"""Resolving a known outage's tickets, a batch at a time: the activities of workflows/outage.py.

A batch reads the next linked tickets after the last one gone through and sends each its
RESOLVE_BY_OUTAGE update at once (:func:`reporting.resolve_by_outage`: the update id comes from the
outage and the ticket, so a retried batch applies nothing twice). A ticket no longer waiting for the
outage (resolved already, cancelled, or not opened yet: its opening resolves it) is passed over, as
is one that refuses the resolution for good (logged: an agent resolves it by hand). Anything else
(the database or Temporal unreachable) fails the batch, which the workflow retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from desk.errors import InvalidArgument
from services.intake import repository
from services.intake.contract import (
    MARK_OUTAGE_RESOLVED,
    RESOLVE_LINKED_TICKETS,
    LinkedResolved,
    MarkOutageResolvedInput,
    ResolveLinkedInput,
)
from services.intake.outages.matching import OutageRecord
from services.intake.reports.reporting import resolve_by_outage
from workflows.ticket_client import TicketWorkflows

log = logging.getLogger(__name__)


class OutageActivities:
    def __init__(self, db: asyncpg.Pool, tickets: TicketWorkflows) -> None:
        self._db = db
        self._tickets = tickets

    @activity.defn(name=MARK_OUTAGE_RESOLVED)
    async def mark_resolved(self, request: MarkOutageResolvedInput) -> None:
        await repository.resolve_outage(
            db=self._db, outage_id=request.outage_id, resolution=request.resolution, now=request.resolved_at
        )

    @activity.defn(name=RESOLVE_LINKED_TICKETS)
    async def resolve_linked(self, request: ResolveLinkedInput) -> LinkedResolved:
        outage = await repository.get_outage(db=self._db, outage_id=request.outage_id)
        if outage is None:
            raise ApplicationError(f"outage {request.outage_id} does not exist", non_retryable=True)
        batch = await repository.linked_tickets(
            db=self._db, outage_id=request.outage_id, after=request.after, limit=request.limit
        )
        async with asyncio.TaskGroup() as group:
            for ticket_id in batch:
                group.create_task(self._resolve(outage, ticket_id, request.actor))
        return LinkedResolved(batch)

    async def _resolve(self, outage: OutageRecord, ticket_id: str, actor: str) -> None:
        try:
            await resolve_by_outage(tickets=self._tickets, outage=outage, ticket_id=ticket_id, actor=actor)
        except InvalidArgument as refused:
            log.warning("ticket %s refused outage %s's resolution: %s", ticket_id, outage.outage_id, refused)
        activity.heartbeat()

    def all(self) -> list[Callable[..., Any]]:
        return [self.mark_resolved, self.resolve_linked]
