"""The satisfaction survey and the archive on the time-skipping server.

After-care defaults (``AftercarePolicy``): every FAULT surveyed, the survey open 3 days, then the
ticket archived at the start of the next day in Asia/Shanghai; the workflow ends once archived.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.surveys import SurveyStatus
from domain.ticket import TicketStatus, TicketView
from tests.workflows.driving import (
    Handle,
    callback,
    close_to,
    finished,
    open_ticket,
    resolve,
    submit_survey,
)
from tests.workflows.fakes import FakeDesk
from workflows.contract import ALREADY_EXISTS, INVALID_ARGUMENT, TRANSITION_NOT_ALLOWED

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_local_midnight(after: datetime) -> datetime:
    day = after.astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


async def closed_ticket(env: WorkflowEnvironment, task_queue: str) -> tuple[Handle, TicketView]:
    handle, view = await open_ticket(env, task_queue)
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    return handle, await callback(handle)


async def test_a_closed_fault_is_surveyed_and_the_survey_expires_unanswered_then_it_is_archived(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, closed = await closed_ticket(env, task_queue)
    ticket_id = closed.draft.ticket_id
    survey = closed.survey
    assert survey is not None and (survey.round, survey.status) == (1, SurveyStatus.OPEN)
    assert survey.due_at == survey.opened_at + timedelta(days=3)
    assert desk.surveys[ticket_id, 1].status == SurveyStatus.OPEN

    archived = await finished(env, handle)

    [expired] = desk.events(ticket_id, "survey.expired")
    assert close_to(expired.occurred_at, survey.due_at)
    assert desk.surveys[ticket_id, 1].status == SurveyStatus.EXPIRED
    [filed] = desk.events(ticket_id, "ticket.archived")
    assert close_to(filed.occurred_at, next_local_midnight(survey.due_at))
    assert (archived.status, archived.archived_at) == (TicketStatus.ARCHIVED, filed.occurred_at)
    assert desk.tickets[ticket_id].status == TicketStatus.ARCHIVED


async def test_a_survey_is_answered_once_and_a_retry_answers_the_same(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, closed = await closed_ticket(env, task_queue)
    ticket_id = closed.draft.ticket_id
    with pytest.raises(WorkflowUpdateFailedError) as unrated:
        await submit_survey(handle, "", request_id="s0")
    assert unrated.value.cause.type == INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert unrated.value.cause.details[0]["field"] == "rating"  # type: ignore[attr-defined]

    await env.sleep(timedelta(hours=5))
    answered = await submit_survey(handle, "VERY_SATISFIED", request_id="s1")
    again = await submit_survey(handle, "VERY_SATISFIED", request_id="s1")
    with pytest.raises(WorkflowUpdateFailedError) as other:
        await submit_survey(handle, "UNSATISFIED", request_id="s2")

    assert again == answered
    assert other.value.cause.type == ALREADY_EXISTS  # type: ignore[attr-defined]
    assert (answered.survey.status, answered.survey.rating) == (SurveyStatus.ANSWERED, "VERY_SATISFIED")
    assert desk.surveys[ticket_id, 1].rating == "VERY_SATISFIED"
    [submitted] = desk.events(ticket_id, "survey.submitted")
    assert submitted.payload == {"round": 1, "rating": "VERY_SATISFIED"}

    archived = await finished(env, handle)
    assert archived.status == TicketStatus.ARCHIVED
    assert archived.archived_at is not None
    assert close_to(archived.archived_at, next_local_midnight(submitted.occurred_at))
    assert not desk.events(ticket_id, "survey.expired")


async def test_a_ticket_not_closed_has_no_survey_to_answer(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    handle, view = await open_ticket(env, task_queue)
    await resolve(handle, f"{view.draft.ticket_id}-W1")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await submit_survey(handle, "SATISFIED")
    assert refused.value.cause.type == TRANSITION_NOT_ALLOWED  # type: ignore[attr-defined]


async def test_a_kind_the_policy_does_not_survey_is_archived_the_next_day(
    env: WorkflowEnvironment, task_queue: str, desk: FakeDesk
) -> None:
    desk.aftercare_policy.surveyed_kinds = ["COMPLAINT"]
    handle, closed = await closed_ticket(env, task_queue)
    assert closed.survey is None
    closed_at = desk.events(closed.draft.ticket_id, "ticket.closed")[0].occurred_at

    archived = await finished(env, handle)
    assert archived.archived_at is not None
    assert close_to(archived.archived_at, next_local_midnight(closed_at))
