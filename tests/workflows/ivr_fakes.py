"""Honest fakes of the IVR call's activities (services/intake/ivr/activities.py), and a worker serving them.

Each has the real activity's name and dataclasses. The directory, outages, open tickets and line
test results are data a test sets; what the call writes (tickets, repeats, messages) is kept once per
call id, as the real activities keep it once per request or update id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from domain.line_tests import FaultCode, LineTestOutcome, LineTestResult
from services.intake import contract as intake
from services.intake.opening.line_test import DETAILS
from workflows.ivr import IvrCallWorkflow
from workflows.ivr_contract import ExchangeChecked, OutageChecked, RepeatChecked, TicketCreated


def line_test(number: str, outcome: LineTestOutcome) -> LineTestResult:
    code = FaultCode.OPEN_CIRCUIT if outcome is LineTestOutcome.ABNORMAL else FaultCode.NONE
    return LineTestResult(number, outcome, code, DETAILS[code or outcome], datetime.now(UTC), "fake")


@dataclass
class FakeIvrDesk:
    exchanges: tuple[str, ...] = ("021", "010")  # known exchange prefixes
    outages: dict[str, OutageChecked] = field(default_factory=dict)  # by fault number
    open_tickets: dict[str, RepeatChecked] = field(default_factory=dict)  # by fault number
    line_tests: dict[str, list[LineTestOutcome]] = field(default_factory=dict)  # then NORMAL
    failing: set[str] = field(default_factory=set)  # activity names that fail every attempt

    calls: list[str] = field(default_factory=list)  # activity names, in call order
    tickets: dict[str, intake.IvrTicketInput] = field(default_factory=dict)  # by ticket id
    repeats: dict[str, intake.IvrRepeatInput] = field(default_factory=dict)  # by call id
    messages: dict[str, intake.IvrMessageInput] = field(default_factory=dict)  # by call id

    def _called(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise ConnectionError(f"{name}: the database is not answering")

    @activity.defn(name=intake.IVR_CHECK_EXCHANGE)
    async def check_exchange(self, request: intake.IvrNumberInput) -> ExchangeChecked:
        self._called(intake.IVR_CHECK_EXCHANGE)
        return ExchangeChecked(known=request.fault_number.startswith(self.exchanges))

    @activity.defn(name=intake.IVR_CHECK_OUTAGE)
    async def check_outage(self, request: intake.IvrNumberInput) -> OutageChecked:
        self._called(intake.IVR_CHECK_OUTAGE)
        return self.outages.get(request.fault_number, OutageChecked())

    @activity.defn(name=intake.IVR_CHECK_REPEAT)
    async def check_repeat(self, request: intake.IvrNumberInput) -> RepeatChecked:
        self._called(intake.IVR_CHECK_REPEAT)
        return self.open_tickets.get(request.fault_number, RepeatChecked())

    @activity.defn(name=intake.RUN_LINE_TEST)
    async def run_line_test(self, request: intake.RunLineTestInput) -> LineTestResult:
        self._called(intake.RUN_LINE_TEST)
        script = self.line_tests.get(request.fault_number, [])
        return line_test(request.fault_number, script.pop(0) if script else LineTestOutcome.NORMAL)

    @activity.defn(name=intake.IVR_CREATE_TICKET)
    async def create_ticket(self, request: intake.IvrTicketInput) -> TicketCreated:
        self._called(intake.IVR_CREATE_TICKET)
        ticket_id = f"TK-{request.call_id}"  # one per call, like the request id from the call id
        self.tickets.setdefault(ticket_id, request)
        return TicketCreated(ticket_id)

    @activity.defn(name=intake.IVR_RECORD_REPEAT)
    async def record_repeat(self, request: intake.IvrRepeatInput) -> None:
        self._called(intake.IVR_RECORD_REPEAT)
        self.repeats.setdefault(request.call_id, request)

    @activity.defn(name=intake.IVR_LEAVE_MESSAGE)
    async def leave_message(self, request: intake.IvrMessageInput) -> None:
        self._called(intake.IVR_LEAVE_MESSAGE)
        if request.ticket_id not in self.tickets:
            raise ApplicationError(f"ticket {request.ticket_id} not found", non_retryable=True)
        self.messages.setdefault(request.call_id, request)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.check_exchange,
            self.check_outage,
            self.check_repeat,
            self.run_line_test,
            self.create_ticket,
            self.record_repeat,
            self.leave_message,
        ]


@asynccontextmanager
async def serving_calls(client: Client, desk: FakeIvrDesk, task_queue: str) -> AsyncIterator[FakeIvrDesk]:
    """Run the IVR call workflow on ``task_queue`` with the fakes beside it, as the real worker hosts them."""
    async with Worker(
        client, task_queue=task_queue, workflows=[IvrCallWorkflow], activities=desk.activities()
    ):
        yield desk
