"""Intake activities: the workflow keeps the ticket's read model and timeline here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from services.intake import repository
from services.intake.contract import RECORD_TICKET, RecordTicketInput


class IntakeActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=RECORD_TICKET)
    async def record_ticket(self, request: RecordTicketInput) -> None:
        """Idempotent: the view only moves forward in time and each timeline event is kept once."""
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.save_view(db=conn, view=request.view)
            await repository.append_timeline(db=conn, events=request.timeline)

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_ticket]
