"""The survey, its investigation and the archive as pure transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desk.errors import AlreadyExists, InvalidArgument, TransitionNotAllowed
from domain import survey_state as surveys
from domain.aftercare_policy import AftercarePolicy
from domain.commands import RecordCallbackInput, RecordInvestigationInput, SubmitSurveyInput
from domain.deadlines import DeadlineKind
from domain.surveys import SurveyStatus
from domain.ticket import TicketStatus
from domain.ticket_state import TicketState, record_callback
from tests.unit.test_ticket_state import T0, deadline, resolved

POLICY = AftercarePolicy()
CLOSED_AT = T0 + timedelta(hours=5)  # 2026-03-02 14:00 UTC, 22:00 in Shanghai


def closed(policy: AftercarePolicy = POLICY) -> TicketState:
    state = resolved()
    record_callback(state, RecordCallbackInput(True, True, "", "", "surveyor-1"), CLOSED_AT)
    surveys.after_close(state, policy, CLOSED_AT)
    return state


def answer(rating: str, request_id: str = "s1") -> SubmitSurveyInput:
    return SubmitSurveyInput(rating, "", "surveyor-1", request_id)


def test_a_closed_fault_gets_a_survey_open_for_the_window() -> None:
    state = closed()
    assert state.view.survey is not None
    assert (state.view.survey.round, state.view.survey.status) == (1, SurveyStatus.OPEN)
    assert surveys.next_step_at(state) == CLOSED_AT + timedelta(days=3)
    assert state.archive_at is None


def test_a_kind_not_surveyed_is_archived_at_the_start_of_the_next_day_in_the_desks_zone() -> None:
    state = closed(AftercarePolicy(surveyed_kinds=[]))
    assert state.view.survey is None
    # 22:00 on 2 March in Shanghai: the next day starts at 00:00 on 3 March there, 16:00 UTC.
    assert state.archive_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def test_an_answer_is_taken_once_and_checked() -> None:
    state = closed()
    with pytest.raises(InvalidArgument) as unrated:
        surveys.check_submit(state, answer(""))
    assert [v.field for v in unrated.value.violations] == ["rating"]
    surveys.submit(state, answer("SATISFIED"), POLICY, CLOSED_AT + timedelta(hours=1))
    with pytest.raises(AlreadyExists):
        surveys.check_submit(state, answer("NEUTRAL", "s2"))
    assert state.archive_at == surveys.archive_time(CLOSED_AT + timedelta(hours=1), POLICY)


def test_a_ticket_not_closed_has_no_survey_to_answer() -> None:
    with pytest.raises(TransitionNotAllowed):
        surveys.check_submit(resolved(), answer("SATISFIED"))


def test_an_unsatisfied_answer_waits_for_its_investigation_before_the_archive() -> None:
    state = closed()
    events = surveys.submit(state, answer("UNSATISFIED"), POLICY, CLOSED_AT)
    investigation = deadline(state, DeadlineKind.INVESTIGATION)
    assert (investigation.calendar, investigation.target_seconds) == ("BUSINESS_5X8", 8 * 3600)
    assert events[0].payload["investigation_due_at"] == investigation.due_at.isoformat()
    assert state.archive_at is None

    with pytest.raises(InvalidArgument) as bad:
        surveys.check_investigation(state, RecordInvestigationInput("", " ", "surveyor-1"))
    assert [v.field for v in bad.value.violations] == ["responsibility", "finding"]
    surveys.investigate(
        state, RecordInvestigationInput("NOT_OURS", "router", "surveyor-1"), POLICY, CLOSED_AT
    )
    assert state.archive_at is not None


def test_an_ops_team_finding_reopens_the_ticket_and_its_next_closing_opens_round_two() -> None:
    state = closed()
    surveys.submit(state, answer("UNSATISFIED"), POLICY, CLOSED_AT)
    surveys.investigate(state, RecordInvestigationInput("OPS_TEAM", "badly spliced", "s"), POLICY, CLOSED_AT)
    assert (state.view.status, state.archive_at) == (TicketStatus.OPEN, None)
    state.view.status = TicketStatus.CLOSED
    surveys.after_close(state, POLICY, CLOSED_AT + timedelta(days=1))
    assert state.view.survey is not None and state.view.survey.round == 2


def test_an_expired_survey_is_done() -> None:
    state = closed()
    [expired] = surveys.expire(state, POLICY, CLOSED_AT + timedelta(days=3))
    assert expired.type == "survey.expired" and state.archive_at is not None
    assert surveys.expire(state, POLICY, CLOSED_AT + timedelta(days=3)) == []  # once
