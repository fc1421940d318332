"""Survey's writes for the ticket workflow: a callback or an escalation, stored in the ticket's one
persisting step (workflows/ticket_persistence.py) with the change that recorded it."""

from __future__ import annotations

import asyncpg

from desk.storage_errors import final_storage_errors
from services.survey import escalations, repository
from services.survey.contract import SaveCallbackInput, SaveEscalationInput


class SurveyActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @final_storage_errors
    async def save_callback(self, request: SaveCallbackInput) -> None:
        await repository.save_callback(db=self._pool, callback=request.callback)

    @final_storage_errors
    async def save_escalation(self, request: SaveEscalationInput) -> None:
        await escalations.save_escalation(db=self._pool, escalation=request.escalation)
