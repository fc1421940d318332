"""Temporal Schedules made by a service when it starts: created, or brought to the service's definition.

Several replicas may start at once, so a schedule another one just created is updated instead, and an
update that raced another is tried again. An update keeps the schedule's state: one an operator paused
stays paused. (Moved here from services/quality/schedules.py: the quality and stats services share it.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

log = logging.getLogger(__name__)

UPDATE_ATTEMPTS = 5


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("schedule %s created", schedule_id)
        return
    except ScheduleAlreadyRunningError:
        pass  # made by an earlier start or another replica: bring it to this definition

    def keeping_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(dataclasses.replace(schedule, state=current.description.schedule.state))

    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        try:
            await client.get_schedule_handle(schedule_id).update(keeping_state)
            return
        except RPCError as error:  # another replica updated it between our read and our write
            if attempt == UPDATE_ATTEMPTS:
                raise
            log.info("schedule %s: update raced another (%s), trying again", schedule_id, error.message)
            await asyncio.sleep(0.2 * attempt)
