"""Survey's activities for the ticket workflow: the after-care policy it reads, and the writes stored
in the ticket's one persisting step (workflows/ticket_persistence.py) with the change that made them:
a callback, the ticket's place in the surveyors' callback queue, a survey round, an escalation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from desk.storage_errors import final_storage_errors
from domain.aftercare_policy import AftercarePolicy
from services.survey import escalations, repository
from services.survey.contract import (
    FIND_AFTERCARE_POLICY,
    FindAftercarePolicyInput,
    SaveCallbackInput,
    SaveEscalationInput,
    SavePendingCallbackInput,
    SaveSurveyInput,
)


class SurveyActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=FIND_AFTERCARE_POLICY)
    @final_storage_errors
    async def find_aftercare_policy(self, request: FindAftercarePolicyInput) -> AftercarePolicy:
        return await repository.get_policy(db=self._pool)

    @final_storage_errors
    async def save_callback(self, request: SaveCallbackInput) -> None:
        await repository.save_callback(db=self._pool, callback=request.callback)

    @final_storage_errors
    async def save_escalation(self, request: SaveEscalationInput) -> None:
        await escalations.save_escalation(db=self._pool, escalation=request.escalation)

    async def save_pending_callback(self, request: SavePendingCallbackInput) -> None:
        await repository.save_pending_callback(db=self._pool, entry=request.entry)

    @final_storage_errors
    async def save_survey(self, request: SaveSurveyInput) -> None:
        await repository.save_survey(db=self._pool, survey=request.survey)

    def all(self) -> list[Callable[..., Any]]:
        """The activities the worker registers (the writes run inside the persisting step)."""
        return [self.find_aftercare_policy]
