"""RunDailySampling's one call: have the day's sampling workflow (workflows/quality_sampling.py) run.

The run is the workflow's, not the caller's: ``quality-sampling/<day>`` is started, or the one under
way is joined (USE_EXISTING), so 20 concurrent calls wait for one workflow; a call after it completed
starts another, whose activity finds the stored run and changes nothing. A caller that stops waiting
stops nothing: the run is stored all the same, and calling again answers it.
"""

from __future__ import annotations

from datetime import date

import asyncpg
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError

from desk.errors import TransitionNotAllowed, Unavailable
from services.quality import repository
from services.quality.activities import DAY_NOT_OVER
from services.quality.contract import SampledDay
from workflows.contract import TASK_QUEUE
from workflows.quality_contract import DAILY_SAMPLING_WORKFLOW, DailySamplingInput, daily_sampling_id


class DailyRuns:
    def __init__(
        self, db: asyncpg.Pool, client: Client, *, time_zone: str, task_queue: str = TASK_QUEUE
    ) -> None:
        self._db = db
        self._client = client
        self._time_zone = time_zone
        self._task_queue = task_queue

    async def ensure(self, day: date) -> None:
        """Once this returns, the day's run is stored (drawn now, or before)."""
        if await repository.get_run(db=self._db, day=day) is not None:
            return  # read your writes without a workflow: a run never changes
        try:
            await self._client.execute_workflow(
                DAILY_SAMPLING_WORKFLOW,
                DailySamplingInput(day.isoformat(), self._time_zone),
                id=daily_sampling_id(day.isoformat()),
                task_queue=self._task_queue,
                result_type=SampledDay,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except WorkflowFailureError as error:
            cause = error.cause.cause if isinstance(error.cause, ActivityError) else None
            if isinstance(cause, ApplicationError) and cause.type == DAY_NOT_OVER:
                raise TransitionNotAllowed(cause.message) from error
            raise Unavailable(f"the sampling run of {day} was stopped; call again") from error
        except RPCError as error:
            raise Unavailable(f"temporal: {error.message}") from error
