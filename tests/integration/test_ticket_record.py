"""Intake's ticket record (the workflow's most frequent write) against PostgreSQL itself, alone and
as the last write of a change stored in one step (``workflows.ticket_persistence``).

In a database of its own on the desk's PostgreSQL, so the desk's relay does not take the queued
events away while they are counted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import asyncpg

from desk.events import EventSpec
from desk.records import from_json
from domain.callbacks import CallbackRecord
from domain.ticket import TicketStatus, TicketView
from services.dispatch.activities import DispatchActivities
from services.intake import repository
from services.intake.activities import IntakeActivities
from services.intake.contract import RecordTicketInput
from services.intake.events import outbox
from services.intake.opening.line_test import SimulatedLineTester
from services.survey.activities import SurveyActivities
from tests.unit.test_ticket_state import T0, dispatched
from workflows.contract import PersistChangeInput
from workflows.ticket_persistence import TicketPersistence


def events(view: TicketView, *sequences: int) -> list[EventSpec]:
    return [
        EventSpec(
            f"{view.draft.ticket_id}-e{n}", f"t{n}", "helpdesk.ticket.x", view.draft.ticket_id, n, T0, "a"
        )
        for n in sequences
    ]


async def record(pool: asyncpg.Pool, view: TicketView, timeline: list[EventSpec]) -> None:
    activities = IntakeActivities(pool, SimulatedLineTester())
    await activities.record_ticket(RecordTicketInput(view, timeline))


async def queued(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT event FROM intake.outbox ORDER BY position")
    return [from_json(r["event"], EventSpec).event_id for r in rows]


async def test_a_record_keeps_the_view_the_timeline_and_queues_its_events_in_order(
    scratch: asyncpg.Pool,
) -> None:
    view = dispatched()[0].view
    view.updated_at = T0
    await record(scratch, view, events(view, 1, 2, 3))
    stored = await scratch.fetchrow("SELECT status, team_id, view FROM intake.tickets")
    assert stored is not None
    assert (stored["status"], stored["team_id"]) == ("DISPATCHED", "network")
    assert from_json(stored["view"], TicketView) == view
    timeline = await scratch.fetch(
        "SELECT sequence, type, occurred_at FROM intake.timeline ORDER BY sequence"
    )
    assert [(r["sequence"], r["type"], r["occurred_at"]) for r in timeline] == [
        (1, "t1", T0),
        (2, "t2", T0),
        (3, "t3", T0),
    ]
    assert await queued(scratch) == ["T-1-e1", "T-1-e2", "T-1-e3"]


async def test_a_retried_record_queues_nothing_twice_and_an_older_view_changes_nothing(
    scratch: asyncpg.Pool,
) -> None:
    view = dispatched()[0].view
    view.updated_at = T0 + timedelta(minutes=1)
    await record(scratch, view, events(view, 1, 2))
    await record(scratch, view, events(view, 1, 2))  # the activity retried after its commit
    older = replace(view, status=TicketStatus.OPEN, updated_at=T0)
    await record(scratch, older, events(view, 3))
    assert await scratch.fetchval("SELECT status FROM intake.tickets") == "DISPATCHED"
    assert await scratch.fetchval("SELECT count(*) FROM intake.timeline") == 3
    assert await queued(scratch) == ["T-1-e1", "T-1-e2", "T-1-e3"]


async def test_a_closed_ticket_gives_back_its_report_keys(scratch: asyncpg.Pool) -> None:
    view = dispatched()[0].view
    await scratch.execute("INSERT INTO intake.open_reports (report_key, ticket_id) VALUES ('k', 'T-1')")
    await record(scratch, view, [])
    assert await scratch.fetchval("SELECT count(*) FROM intake.open_reports") == 1
    closed = replace(view, status=TicketStatus.CLOSED, updated_at=view.updated_at + timedelta(hours=1))
    await record(scratch, closed, [])
    assert await scratch.fetchval("SELECT count(*) FROM intake.open_reports") == 0


async def test_a_change_stores_its_work_order_callback_and_ticket_in_one_step_and_a_retry_adds_nothing(
    scratch: asyncpg.Pool,
) -> None:
    state, work_order = dispatched()
    callback = CallbackRecord("T-1", True, True, "", "", "surveyor-1", T0, ticket_status="DISPATCHED")
    record = RecordTicketInput(state.view, events(state.view, 1, 2))
    change = PersistChangeInput(record, [work_order], callback)
    step = TicketPersistence(
        intake=IntakeActivities(scratch, SimulatedLineTester()),
        dispatch=DispatchActivities(scratch),
        survey=SurveyActivities(scratch),
    )
    await step.persist_change(change)
    await step.persist_change(change)  # retried after its commit
    orders = await scratch.fetch("SELECT work_order_id, team_id, status FROM dispatch.work_orders")
    assert [tuple(r) for r in orders] == [(work_order.work_order_id, "network", "DISPATCHED")]
    assert await scratch.fetchval("SELECT count(*) FROM survey.callbacks WHERE ticket_id = 'T-1'") == 1
    assert await scratch.fetchval("SELECT status FROM intake.tickets") == "DISPATCHED"
    assert await queued(scratch) == ["T-1-e1", "T-1-e2"]


async def test_the_relay_forgets_only_what_it_published_when_an_earlier_position_commits_late(
    scratch: asyncpg.Pool,
) -> None:
    """Positions are drawn at insert, not at commit: a record still committing holds a lower one."""
    early = dispatched()[0].view
    late = replace(early, draft=replace(early.draft, ticket_id="T-2"))
    async with scratch.acquire() as conn, conn.transaction():
        await repository.record_ticket(
            db=conn, view=early, events=events(early, 1), trace="{}", release_keys=False
        )  # draws the lower position, not committed yet
        await record(scratch, late, events(late, 1))
        read = await outbox.oldest(db=scratch, limit=10)  # what the relay sees and publishes
    # The early record commits now, before the relay forgets what it has published.
    await outbox.forget(db=scratch, positions=[q.position for q in read])
    assert [q.event().event_id for q in read] == ["T-2-e1"]
    assert await queued(scratch) == ["T-1-e1"]  # still queued: the next batch publishes it
