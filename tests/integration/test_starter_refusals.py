"""Intake's starter against PostgreSQL: an opening refused for good is set aside, not tried for ever; a
starter that cannot measure the backlog does not export it."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
from prometheus_client import REGISTRY
from temporalio.client import Client

from desk import db
from desk.errors import InvalidArgument
from desk.loops import Readiness
from domain.ticket import TicketDraft, TicketView
from services.intake.opening import pending_tickets
from services.intake.opening.line_test import SimulatedLineTester
from services.intake.opening.starter import POLLER, TicketStarter
from tests.stack import RunningDesk
from tests.unit.test_ticket_state import draft
from workflows.ticket_client import TicketWorkflows


class RefusingTickets(TicketWorkflows):
    """Temporal's answer when the ticket's workflow could not store it: the same every time."""

    def __init__(self) -> None:
        super().__init__(cast(Client, None))
        self.attempts = 0

    async def start(self, draft: TicketDraft) -> TicketView:
        self.attempts += 1
        raise InvalidArgument.one("request", "could not be stored: invalid byte sequence")


async def test_an_opening_refused_for_good_is_set_aside_once_and_leaves_the_backlog(
    scratch: asyncpg.Pool,
) -> None:
    refused = replace(draft(), ticket_id="TK-REFUSED", created_at=datetime.now(UTC))
    await pending_tickets.add_pending(db=scratch, draft=refused, leased_until=datetime.now(UTC))
    tickets = RefusingTickets()
    starter = TicketStarter(
        scratch, tickets, SimulatedLineTester(), Readiness(), lease=timedelta(seconds=1), poll_every=0.05
    )
    running = asyncio.create_task(starter.run())
    try:
        for _ in range(100):
            row = await scratch.fetchrow("SELECT set_aside FROM intake.pending_tickets")
            if row is not None and row["set_aside"]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # past its lease: a ticket merely released would be taken again
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert row is not None and "could not be stored" in row["set_aside"]
    assert tickets.attempts == 1
    assert await pending_tickets.pending_backlog(db=scratch) == (0, None)
    assert await pending_tickets.get_pending(db=scratch, ticket_id="TK-REFUSED") == refused  # still readable


def backlog_gauge() -> float | None:
    return REGISTRY.get_sample_value("helpdesk_intake_backlog_tickets")


async def test_a_starter_that_stops_measuring_the_backlog_stops_exporting_it(
    desk: RunningDesk, scratch: asyncpg.Pool
) -> None:
    """Every intake replica measures the shared backlog; one whose poller lost PostgreSQL must not keep
    exporting its last count, which would hold HelpdeskIntakeBacklogOld (a max across processes)."""
    database = await scratch.fetchval("SELECT current_database()")
    server = desk.endpoints["postgres"].rsplit("/", 1)[0]
    exported_when_down: list[float | None] = []

    def report(loop: str, up: bool) -> None:
        if loop == POLLER and not up:
            exported_when_down.append(backlog_gauge())

    pool = await db.create_pool(f"{server}/{database}?application_name=starter-losing")
    starter = TicketStarter(
        pool, RefusingTickets(), SimulatedLineTester(), Readiness(report), poll_every=0.05
    )
    running = asyncio.create_task(starter.run())
    try:
        for _ in range(200):
            if backlog_gauge() is not None:
                break
            await asyncio.sleep(0.05)
        assert backlog_gauge() == 0
        # Its connections cut, again and again: a pool that quietly reconnected between two polls
        # would otherwise never show the poller down.
        for _ in range(200):
            await scratch.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'starter-losing'"
            )
            if exported_when_down:
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await pool.close()
    assert exported_when_down and set(exported_when_down) == {None}
    assert backlog_gauge() is None  # stopped: nothing left behind
    assert REGISTRY.get_sample_value("helpdesk_intake_backlog_oldest_age_seconds") is None
