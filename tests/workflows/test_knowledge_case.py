"""A proposed hard case's knowledge deadline on the time-skipping server (seed 002 五.二).

The entry is due half a working day (4 h of the desk's 09:00-17:00 Asia/Shanghai day, mainland
China's calendar) after the proposal, with the warning at 80 % (3 h 12 min). Proposed on Friday
4 December 2026 at 15:00, 2 working hours are left that day, so the warning falls on Monday 7 December
at 10:12 and the deadline at 11:00: the weekend does not count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.knowledge import contract as knowledge
from tests.workflows.clock import server_starting_at
from tests.workflows.knowledge_fakes import FakeKnowledgeDesk, serving_cases
from workflows.knowledge import KnowledgeCaseWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_AFTERNOON = datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI)
MONDAY_WARNING = datetime(2026, 12, 7, 10, 12, tzinfo=SHANGHAI)
MONDAY_DUE = datetime(2026, 12, 7, 11, 0, tzinfo=SHANGHAI)

Propose = Callable[[FakeKnowledgeDesk], Awaitable[tuple[WorkflowEnvironment, WorkflowHandle[Any, Any]]]]


def test_the_deadline_of_a_friday_afternoon_proposal_falls_on_monday_morning() -> None:
    deadline = knowledge.entry_deadline(FRIDAY_AFTERNOON)
    assert (deadline.warn_at, deadline.due_at) == (MONDAY_WARNING, MONDAY_DUE)


@pytest.fixture
async def propose(tmp_path: Path, task_queue: str) -> AsyncIterator[Propose]:
    """A test server whose clock reads Friday 15:00, the fakes serving it, and the case proposed then."""
    started: list[tuple[WorkflowEnvironment, Any]] = []

    async def start(desk: FakeKnowledgeDesk) -> tuple[WorkflowEnvironment, WorkflowHandle[Any, Any]]:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(server_starting_at(FRIDAY_AFTERNOON, tmp_path))
        )
        serving = serving_cases(env.client, desk, task_queue)
        await serving.__aenter__()
        started.append((env, serving))
        handle = await env.client.start_workflow(
            KnowledgeCaseWorkflow.run,
            knowledge.KnowledgeCaseInput("T-HARD-1", FRIDAY_AFTERNOON, "senior-1"),
            id=knowledge.case_workflow_id("T-HARD-1"),
            task_queue=task_queue,
        )
        return env, handle

    yield start
    for env, serving in reversed(started):
        await serving.__aexit__(None, None, None)
        await env.shutdown()


def near(actual: datetime, expected: datetime) -> bool:
    """The server's clock starts at the chosen instant and the case starts a moment later."""
    return abs(actual - expected) < timedelta(seconds=10)


async def test_an_entry_not_written_warns_on_monday_then_goes_overdue_with_one_violation(
    propose: Propose,
) -> None:
    desk = FakeKnowledgeDesk()
    _, handle = await propose(desk)
    assert await handle.result() == knowledge.CaseEntry("")
    assert [kind for kind, _ in desk.alarms] == ["warning", "overdue"]
    (_, warned_at), (_, overdue_at) = desk.alarms
    assert near(warned_at, MONDAY_WARNING)
    assert near(overdue_at, MONDAY_DUE)
    violation = desk.violations["T-HARD-1/knowledge_entry-1"]
    assert (violation.ticket_id, violation.deadline_kind, violation.due_at) == (
        "T-HARD-1",
        "KNOWLEDGE_ENTRY",
        MONDAY_DUE,
    )
    assert violation.team_id == "service-desk"
    assert len(desk.violations) == 1


async def test_an_entry_written_in_time_ends_the_case_without_any_alarm(propose: Propose) -> None:
    desk = FakeKnowledgeDesk()
    env, handle = await propose(desk)
    await env.sleep(timedelta(hours=1))  # Friday 16:00: in time
    await handle.signal(knowledge.ENTRY_WRITTEN, "kb-1")
    assert await handle.result() == knowledge.CaseEntry("kb-1")
    assert desk.alarms == []
    assert desk.violations == {}


async def test_an_entry_whose_signal_was_lost_is_found_before_any_alarm(propose: Propose) -> None:
    desk = FakeKnowledgeDesk(written="kb-2")  # stored, but the signal never came
    _, handle = await propose(desk)
    assert await handle.result() == knowledge.CaseEntry("kb-2")
    assert desk.alarms == []
    assert desk.violations == {}


async def test_an_entry_written_after_the_warning_stops_the_overdue(propose: Propose) -> None:
    desk = FakeKnowledgeDesk()
    env, handle = await propose(desk)
    while not desk.alarms:  # the warning, on Monday
        await env.sleep(timedelta(minutes=30))
    await handle.signal(knowledge.ENTRY_WRITTEN, "kb-3")
    assert await handle.result() == knowledge.CaseEntry("kb-3")
    assert [kind for kind, _ in desk.alarms] == ["warning"]
    assert desk.violations == {}
