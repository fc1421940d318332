"""The IVR call's lookups and writes (seed 002 一), run by its workflow as local activities.

Each lookup answers with the flow's own event (workflows.ivr_contract). A report the IVR takes is
accepted by the same code as CreateTicket's (services/intake/reports/reporting.py): it is built as a
CreateTicketRequest of channel IVR, validated by ``validate_report``, and accepted with handling
AUTOMATIC and the line test the call ran; its request id comes from the call id, so a retried
activity makes one ticket. Repeats and messages for the repairman reach the ticket's workflow as its
RECORD_REPEAT and ADD_SUPPLEMENT updates, with update ids from the call id (applied once).

A refusal (a report the desk will not take, a ticket closed meanwhile, data the database refuses
for good) is a non-retryable ``ApplicationError``; anything else (the database or Temporal
unreachable) is retried by the workflow.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from desk.errors import DeskError, Unavailable
from desk.storage_errors import final_storage_errors
from domain.commands import AddSupplementInput, RecordRepeatInput, RepeatReport
from domain.ticket import Handling, Reporter, TicketView
from helpdesk.v1 import common_pb2, intake_pb2
from services.intake import repository
from services.intake.contract import (
    IVR_CHECK_EXCHANGE,
    IVR_CHECK_OUTAGE,
    IVR_CHECK_REPEAT,
    IVR_CREATE_TICKET,
    IVR_LEAVE_MESSAGE,
    IVR_RECORD_REPEAT,
    IvrMessageInput,
    IvrNumberInput,
    IvrRepeatInput,
    IvrTicketInput,
)
from services.intake.opening.starter import LEASE
from services.intake.reference import directory
from services.intake.reports.repeats import last_test_result, repairman_message, report_keys
from services.intake.reports.reporting import accept_report, open_ticket
from services.intake.validation import MAX_SUMMARY, validate_report
from workflows import contract as wf
from workflows.ivr_contract import ExchangeChecked, OutageChecked, OutageStatus, RepeatChecked, TicketCreated
from workflows.ticket_client import TicketWorkflows

IVR_ACTOR = "ivr"
"""Who records what the IVR takes (the ticket's agent_id, the timeline's actor): no agent did."""
IVR_REPORTER = "IVR caller"
IVR_CATEGORY = "network"
"""A telephone line fault goes to the communications network team (通信网络运维组)."""
LOCAL_TIME = ZoneInfo("Asia/Shanghai")  # the caller hears an outage's ETA in local time


def request_id(call_id: str) -> str:
    """The request id of what one call reports: a retried activity finds the same ticket."""
    return f"ivr-{call_id}"


def ivr_report(request: IvrTicketInput) -> intake_pb2.CreateTicketRequest:
    """The call's report as a CreateTicket request, so it is validated and fingerprinted as one."""
    caller = request.caller_number or "unknown"
    return intake_pb2.CreateTicketRequest(
        request_id=request_id(request.call_id),
        channel=common_pb2.CHANNEL_IVR,
        kind=common_pb2.TICKET_KIND_FAULT,
        reporter=common_pb2.Reporter(name=IVR_REPORTER, phone=request.contact),
        fault_number=request.fault_number,
        category=IVR_CATEGORY,
        summary=f"IVR fault report: {request.symptom}"[:MAX_SUMMARY],
        description=f"Symptom: {request.symptom}\nCalled from: {caller} (IVR call {request.call_id})",
        agent_id=IVR_ACTOR,
    )


class IvrActivities:
    def __init__(self, pool: asyncpg.Pool, tickets: TicketWorkflows) -> None:
        self._pool = pool
        self._tickets = tickets

    @activity.defn(name=IVR_CHECK_EXCHANGE)
    @final_storage_errors
    async def check_exchange(self, request: IvrNumberInput) -> ExchangeChecked:
        """Does the number belong to a known exchange (局向)?"""
        exchange = await directory.find_exchange(db=self._pool, number=request.fault_number)
        return ExchangeChecked(known=exchange is not None)

    @activity.defn(name=IVR_CHECK_OUTAGE)
    @final_storage_errors
    async def check_outage(self, request: IvrNumberInput) -> OutageChecked:
        """Is the line in a declared outage (受工程影响)? Matched as CreateTicket matches a report."""
        exchange = await directory.find_exchange(db=self._pool, number=request.fault_number)
        outage = await repository.matching_outage(
            db=self._pool,
            fault_number=request.fault_number,
            category=IVR_CATEGORY,
            region=exchange.region if exchange else "",
        )
        if outage is None:
            return OutageChecked()
        eta = outage.eta.astimezone(LOCAL_TIME) if outage.eta else None
        return OutageChecked(OutageStatus.ACTIVE, outage.cause, eta)

    @activity.defn(name=IVR_CHECK_REPEAT)
    @final_storage_errors
    async def check_repeat(self, request: IvrNumberInput) -> RepeatChecked:
        """The open ticket of this fault number, its repeats so far and what the caller may hear of it."""
        keys = report_keys(fault_number=request.fault_number, phone="", category="", channel="IVR")
        ticket_id = await repository.open_report(db=self._pool, report_key=keys[0]) if keys else None
        if ticket_id is None:
            return RepeatChecked()
        view = await repository.find_ticket(db=self._pool, ticket_id=ticket_id)
        if view is None:  # claimed a moment ago, not accepted yet
            return RepeatChecked(ticket_id)
        return RepeatChecked(ticket_id, view.repeat_count, repairman_message(view), last_test_result(view))

    @activity.defn(name=IVR_CREATE_TICKET)
    @final_storage_errors
    async def create_ticket(self, request: IvrTicketInput) -> TicketCreated:
        """Record the caller's report (step 10) the way CreateTicket records one."""
        report = ivr_report(request)
        now = datetime.now(UTC)
        with _refusals():
            accepted = await accept_report(
                db=self._pool,
                tickets=self._tickets,
                report=dataclasses.replace(validate_report(report, now=now), via=request.switch),
                fingerprint=hashlib.sha256(report.SerializeToString(deterministic=True)).digest(),
                now=now,
                recorded_by=IVR_ACTOR,
                handling=Handling.AUTOMATIC,
                line_test=request.line_test,
                leased_until=now + LEASE,
            )
            if accepted.pending is not None:  # opened now: the caller's message for the repairman follows
                await open_ticket(db=self._pool, tickets=self._tickets, draft=accepted.pending)
        return TicketCreated(accepted.view.draft.ticket_id)

    @activity.defn(name=IVR_RECORD_REPEAT)
    @final_storage_errors
    async def record_repeat(self, request: IvrRepeatInput) -> None:
        """Count the call on the open ticket it repeats (step 6), once per call."""
        report = RepeatReport(
            request_id=request_id(request.call_id),
            channel="IVR",
            reporter=Reporter(name=IVR_REPORTER, phone=request.caller_number),
            summary=f"Repeat report by IVR for line {request.fault_number}",
            received_at=request.received_at,
            agent_id=IVR_ACTOR,
        )
        repeat = RecordRepeatInput(report, actor=IVR_ACTOR, via=request.switch)
        with _refusals():
            await self._tickets.update(
                request.ticket_id,
                wf.RECORD_REPEAT,
                repeat,
                TicketView,
                update_id=f"repeat/{report.request_id}",
            )

    @activity.defn(name=IVR_LEAVE_MESSAGE)
    @final_storage_errors
    async def leave_message(self, request: IvrMessageInput) -> None:
        """The caller's confirmed message for the repairman (step 11), a supplement the team is told of."""
        note = AddSupplementInput(f"IVR message for the repairman: {request.message}", IVR_ACTOR)
        update_id = f"supplement/{request_id(request.call_id)}"
        with _refusals():
            await self._tickets.update(
                request.ticket_id, wf.ADD_SUPPLEMENT, note, TicketView, update_id=update_id
            )

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.check_exchange,
            self.check_outage,
            self.check_repeat,
            self.create_ticket,
            self.record_repeat,
            self.leave_message,
        ]


@contextmanager
def _refusals() -> Iterator[None]:
    """The desk's refusals are final for the workflow; an unavailable backend is retried."""
    try:
        yield
    except Unavailable:
        raise
    except DeskError as error:
        raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
