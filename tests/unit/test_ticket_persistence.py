"""A change's writes in one step: the services' writes first, the ticket's record (and its events) last."""

from __future__ import annotations

import pytest

from domain.callbacks import CallbackRecord, PendingCallback
from domain.hotline import EscalationRecord, EscalationSource
from services.dispatch.contract import SaveWorkOrderInput
from services.intake.contract import RecordTicketInput
from services.survey.contract import (
    SaveCallbackInput,
    SaveEscalationInput,
    SavePendingCallbackInput,
    SaveSurveyInput,
)
from tests.unit.test_ticket_state import T0, dispatched
from workflows.contract import PersistChangeInput
from workflows.ticket_persistence import TicketPersistence


class Stores:
    """Each service's write, logged in call order; the work order's fails while ``dispatch_down``."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.dispatch_down = False

    async def save_work_order(self, request: SaveWorkOrderInput, /) -> None:
        if self.dispatch_down:
            raise ConnectionError("dispatch's database is unreachable")
        self.writes.append(f"work order {request.work_order.work_order_id}")

    async def save_callback(self, request: SaveCallbackInput, /) -> None:
        self.writes.append(f"callback {request.callback.ticket_id}")

    async def save_escalation(self, request: SaveEscalationInput, /) -> None:
        self.writes.append(f"escalation {request.escalation.escalation_id}")

    async def save_pending_callback(self, request: SavePendingCallbackInput, /) -> None:
        self.writes.append(f"callback queue {request.entry.ticket_id}")

    async def save_survey(self, request: SaveSurveyInput, /) -> None:
        self.writes.append(f"survey {request.survey.ticket_id}/{request.survey.round}")

    async def record_ticket(self, request: RecordTicketInput, /) -> None:
        self.writes.append(f"ticket {request.view.draft.ticket_id}")


def change() -> PersistChangeInput:
    state, work_order = dispatched()
    callback = CallbackRecord("T-1", True, False, "", "", "surveyor-1", T0)
    escalation = EscalationRecord("T-1-E1", "T-1", EscalationSource.COMPLAINT, "rude", "agent-1", T0)
    queued = PendingCallback("T-1", pending=False)
    record = RecordTicketInput(state.view, [])
    return PersistChangeInput(
        record, [work_order, work_order], callback, escalations=[escalation], pending_callback=queued
    )


async def test_the_ticket_is_recorded_after_the_work_orders_the_callback_and_the_escalations() -> None:
    stores = Stores()
    await TicketPersistence(intake=stores, dispatch=stores, survey=stores).persist_change(change())
    assert stores.writes == [
        "work order T-1-W1",
        "work order T-1-W1",
        "callback T-1",
        "escalation T-1-E1",
        "callback queue T-1",
        "ticket T-1",
    ]


async def test_a_failed_write_stops_the_step_before_the_ticket_is_recorded() -> None:
    stores = Stores()
    stores.dispatch_down = True
    with pytest.raises(ConnectionError):
        await TicketPersistence(intake=stores, dispatch=stores, survey=stores).persist_change(change())
    assert stores.writes == []  # no record, so no event tells of a work order not stored
