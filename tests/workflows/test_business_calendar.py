"""5x8 deadlines on the time-skipping server: across a weekend, National Day, an adjusted Saturday.

Team network works Mon-Fri 09:00-17:00 Asia/Shanghai on mainland China's calendar (chinese-calendar
data: 1-7 October 2026 are holidays, Saturday 10 October 2026 is a working day). Its policy: response
within 4 working hours, warning at 80 % (3 h 12 min). Each ticket is routed at 15:00 local time, so
2 working hours are left that day and the rest falls on the next working day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.deadlines import DeadlineKind, DeadlineState, derive
from tests.workflows.clock import server_starting_at
from tests.workflows.driving import close_to, deadline, eventually, open_ticket, sla_events
from tests.workflows.fakes import FakeDesk, serving

SHANGHAI = ZoneInfo("Asia/Shanghai")
StartAt = Callable[[datetime], Awaitable[tuple[WorkflowEnvironment, FakeDesk]]]


def near(actual: datetime, expected: datetime) -> bool:
    """The test server's clock starts at the chosen instant and the ticket is opened a moment later:
    under a loaded machine more than a second (seen once in `make test`). The calendar's effects are
    hours and days, so ten seconds of slack hide none of them."""
    return close_to(actual, expected, within=timedelta(seconds=10))


def local(day: str, at: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{at}").replace(tzinfo=SHANGHAI)


@pytest.fixture
async def start_at(tmp_path: Path, task_queue: str) -> AsyncIterator[StartAt]:
    """Start a test server whose clock reads the given instant, with the fakes serving it."""
    stack: list[tuple[WorkflowEnvironment, object]] = []

    async def start(at: datetime) -> tuple[WorkflowEnvironment, FakeDesk]:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(server_starting_at(at, tmp_path))
        )
        desk = FakeDesk(teams_by_category={"network": ["network"]})
        desk.team_calendars["network"] = ("BUSINESS_5X8", "Asia/Shanghai")
        desk.policy.response_seconds = 4 * 3600.0
        serving_desk = serving(env.client, desk, task_queue)
        await serving_desk.__aenter__()
        stack.append((env, serving_desk))
        return env, desk

    yield start
    for env, serving_desk in reversed(stack):
        await serving_desk.__aexit__(None, None, None)  # type: ignore[attr-defined]
        await env.shutdown()


@pytest.mark.parametrize(
    ("routed", "warns", "due"),
    [
        pytest.param(
            local("2026-09-11", "15:00"),
            local("2026-09-14", "10:12"),
            local("2026-09-14", "11:00"),
            id="over-a-weekend",
        ),
        pytest.param(
            local("2026-09-30", "15:00"),
            local("2026-10-08", "10:12"),
            local("2026-10-08", "11:00"),
            id="over-national-day",
        ),
        pytest.param(
            local("2026-10-09", "15:00"),
            local("2026-10-10", "10:12"),
            local("2026-10-10", "11:00"),
            id="into-an-adjusted-saturday",
        ),
    ],
)
async def test_a_response_deadline_runs_on_working_hours_only(
    start_at: StartAt, task_queue: str, routed: datetime, warns: datetime, due: datetime
) -> None:
    env, desk = await start_at(routed)
    handle, view = await open_ticket(env, task_queue)
    ticket_id = view.draft.ticket_id
    assert near(view.draft.created_at, routed)
    response = deadline(view, DeadlineKind.RESPONSE)
    assert (response.calendar, response.time_zone) == ("BUSINESS_5X8", "Asia/Shanghai")
    assert (response.warn_at, response.due_at) == derive(response)
    assert near(response.warn_at, warns) and near(response.due_at, due)

    await env.sleep(warns - timedelta(minutes=1) - await env.get_current_time())
    assert sla_events(desk, ticket_id, DeadlineKind.RESPONSE) == []  # nights and holidays do not count

    await env.sleep(due + timedelta(minutes=1) - await env.get_current_time())
    await eventually(lambda: len(sla_events(desk, ticket_id, DeadlineKind.RESPONSE)) == 2)
    warning, overdue = sla_events(desk, ticket_id, DeadlineKind.RESPONSE)
    assert (warning.type, overdue.type) == ("sla.warning", "sla.overdue")
    assert near(warning.occurred_at, warns) and near(overdue.occurred_at, due)
    assert desk.tickets[ticket_id].deadlines[-1].state == DeadlineState.OVERDUE
    await handle.terminate("test over")
