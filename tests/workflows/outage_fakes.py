"""Honest fakes of the outage resolution's activities (services/intake/outages/activities.py), and a worker.

Each has the real activity's name and dataclasses. The linked tickets are data a test sets; what the
batches do is kept: the cursor each was asked from, and each ticket's resolution, applied once per
ticket as the real update id makes it, while every send is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from services.intake import contract as intake
from workflows.outage import OutageResolutionWorkflow


@dataclass
class FakeOutageDesk:
    linked: list[str] = field(default_factory=list)  # ticket ids linked to the outage
    cut_short: set[str] = field(default_factory=set)  # cursors whose batch dies half-way, once

    marked: list[intake.MarkOutageResolvedInput] = field(default_factory=list)
    asked_after: list[str] = field(default_factory=list)  # each batch's cursor, retries included
    sent: Counter[str] = field(default_factory=Counter)  # updates sent, by ticket
    resolved: dict[str, str] = field(default_factory=dict)  # ticket → actor of its one resolution

    @activity.defn(name=intake.MARK_OUTAGE_RESOLVED)
    async def mark_resolved(self, request: intake.MarkOutageResolvedInput) -> None:
        self.marked.append(request)

    @activity.defn(name=intake.RESOLVE_LINKED_TICKETS)
    async def resolve_linked(self, request: intake.ResolveLinkedInput) -> intake.LinkedResolved:
        self.asked_after.append(request.after)
        batch = sorted(t for t in self.linked if t > request.after)[: request.limit]
        for n, ticket_id in enumerate(batch):
            if n == len(batch) // 2 and request.after in self.cut_short:
                self.cut_short.discard(request.after)
                raise ConnectionError("the worker died half-way through the batch")
            self.sent[ticket_id] += 1
            self.resolved.setdefault(ticket_id, request.actor)
        return intake.LinkedResolved(batch)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.mark_resolved, self.resolve_linked]


@asynccontextmanager
async def serving_outages(
    client: Client, desk: FakeOutageDesk, task_queue: str
) -> AsyncIterator[FakeOutageDesk]:
    """Run the outage resolution workflow on ``task_queue`` with the fakes beside it."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[OutageResolutionWorkflow],
        activities=desk.activities(),
        graceful_shutdown_timeout=timedelta(seconds=5),
    ):
        yield desk
