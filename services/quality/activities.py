"""The quality service's activities, run by the workflow worker over the quality schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from desk.storage_errors import final_storage_errors
from services.quality import repository
from services.quality.contract import MARK_VIOLATIONS_RECORDED


class InspectionActivities:
    """An inspection's violations handed off to the violations ledger (workflows/inspection_violations.py)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name=MARK_VIOLATIONS_RECORDED)
    @final_storage_errors
    async def mark_violations_recorded(self, inspection_id: str) -> None:
        """The inspection's violations are in the ledger: its hand-off loop leaves it alone now."""
        await repository.mark_violations_recorded(db=self._pool, inspection_id=inspection_id)

    def all(self) -> list[Callable[..., Any]]:
        return [self.mark_violations_recorded]
