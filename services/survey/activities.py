"""Survey activities: the workflow's writes of the survey schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from desk.storage_errors import final_storage_errors
from services.survey import repository
from services.survey.contract import SAVE_CALLBACK, SaveCallbackInput


class SurveyActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=SAVE_CALLBACK)
    @final_storage_errors
    async def save_callback(self, request: SaveCallbackInput) -> None:
        await repository.save_callback(db=self._pool, callback=request.callback)

    def all(self) -> list[Callable[..., Any]]:
        return [self.save_callback]
