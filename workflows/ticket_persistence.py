"""One change of a ticket stored in one step: the services' writes, then the ticket's record.

A change's writes (its work orders in dispatch; a callback, the callback queue and escalations in
survey; the ticket in intake) run in one local activity, not one each: each local activity costs the
workflow worker an activation and the Python SDK about 1.7 ms of CPU, most of what a short write costs
here (measured, ``make bench``). Each write is still its own service's code over its own schema; only
the step is shared, as the process is.

The ticket's record goes last: its events are queued for publishing only once all they tell of is
stored. Every write is idempotent, so retrying the step after a partial failure is safe. A
write the database refuses for good (desk/storage_errors.py) fails the step at once, and the
workflow refuses the change; the writes before it in the step are kept (each is its own
transaction) until the next change of those records writes them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from temporalio import activity

from desk.storage_errors import final_storage_errors
from services.dispatch.contract import SaveWorkOrderInput
from services.intake.contract import RecordTicketInput
from services.survey.contract import (
    SaveCallbackInput,
    SaveEscalationInput,
    SavePendingCallbackInput,
    SaveSurveyInput,
)
from workflows.contract import PERSIST_CHANGE, PersistChangeInput


class TicketRecorder(Protocol):
    async def record_ticket(self, request: RecordTicketInput, /) -> None: ...


class WorkOrderStore(Protocol):
    async def save_work_order(self, request: SaveWorkOrderInput, /) -> None: ...


class CallbackStore(Protocol):
    async def save_callback(self, request: SaveCallbackInput, /) -> None: ...

    async def save_pending_callback(self, request: SavePendingCallbackInput, /) -> None: ...

    async def save_survey(self, request: SaveSurveyInput, /) -> None: ...


class EscalationStore(Protocol):
    async def save_escalation(self, request: SaveEscalationInput, /) -> None: ...


class SurveyStore(CallbackStore, EscalationStore, Protocol):
    """The survey service's writes: callbacks, the callback queue, surveys, and the hotline's escalations."""


class TicketPersistence:
    def __init__(self, *, intake: TicketRecorder, dispatch: WorkOrderStore, survey: SurveyStore) -> None:
        self._intake = intake
        self._dispatch = dispatch
        self._survey = survey

    @activity.defn(name=PERSIST_CHANGE)
    @final_storage_errors
    async def persist_change(self, change: PersistChangeInput) -> None:
        for work_order in change.work_orders:
            await self._dispatch.save_work_order(SaveWorkOrderInput(work_order))
        if change.callback is not None:
            await self._survey.save_callback(SaveCallbackInput(change.callback))
        for escalation in change.escalations:
            await self._survey.save_escalation(SaveEscalationInput(escalation))
        if change.pending_callback is not None:
            await self._survey.save_pending_callback(SavePendingCallbackInput(change.pending_callback))
        if change.survey is not None:
            await self._survey.save_survey(SaveSurveyInput(change.survey))
        await self._intake.record_ticket(change.record)

    def all(self) -> list[Callable[..., Any]]:
        return [self.persist_change]
