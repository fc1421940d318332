"""The satisfaction survey, its investigation and the archive, as pure transitions like ``ticket_state``.

A closed ticket of a surveyed kind (every fault: 普查) gets a survey open for the policy's window; it is
answered once (a retry with the same request id answers the same) or expires unanswered. An
UNSATISFIED answer is investigated within its own deadline (``DeadlineKind.INVESTIGATION``, on the
desk's calendar, warned and overdue like any other). Once nothing is left to do for a closed ticket,
it is archived (归档) the next day in the desk's time zone, and its workflow ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from desk.errors import AlreadyExists, FieldViolation, InvalidArgument, TransitionNotAllowed
from desk.events import survey_subject, ticket_subject
from domain import deadlines
from domain.aftercare_policy import AftercarePolicy
from domain.commands import RecordInvestigationInput, SubmitSurveyInput
from domain.deadlines import DeadlineKind
from domain.surveys import Rating, Responsibility, SurveyRecord, SurveyStatus
from domain.ticket import TicketStatus
from domain.ticket_state import NewEvent, TicketState, meet_deadlines
from domain.work_orders import DESK_TEAM_ID


def after_close(state: TicketState, policy: AftercarePolicy, now: datetime) -> None:
    """The ticket has closed: survey it if its kind is surveyed, else it is done and waits for the archive."""
    if state.view.draft.kind in policy.surveyed_kinds:
        previous = state.view.survey.round if state.view.survey else 0
        due_at = now + timedelta(seconds=policy.survey_window_seconds)
        state.view.survey = SurveyRecord(state.ticket_id, previous + 1, SurveyStatus.OPEN, now, due_at)
    settle(state, policy, now)


def check_submit(state: TicketState, request: SubmitSurveyInput) -> None:
    if request.rating not in set(Rating):
        raise InvalidArgument.one("rating", "one of VERY_SATISFIED, SATISFIED, NEUTRAL, UNSATISFIED")
    survey = _survey_of_closed(state)
    if survey.status == SurveyStatus.ANSWERED:
        raise AlreadyExists(f"survey {survey.round} of ticket {state.ticket_id} is answered already")
    if survey.status == SurveyStatus.EXPIRED:
        raise TransitionNotAllowed(f"survey {survey.round} of ticket {state.ticket_id} expired unanswered")


def submit(
    state: TicketState, request: SubmitSurveyInput, policy: AftercarePolicy, now: datetime
) -> list[NewEvent]:
    """The customer's answer; an UNSATISFIED one starts the investigation's deadline."""
    check_submit(state, request)
    survey = _survey_of_closed(state)
    survey.status, survey.rating, survey.comment = SurveyStatus.ANSWERED, request.rating, request.comment
    survey.request_id, survey.answered_by, survey.submitted_at = request.request_id, request.actor, now
    facts: dict[str, object] = {"round": survey.round, "rating": survey.rating}
    if survey.rating == Rating.UNSATISFIED:
        investigation = deadlines.new_deadline(
            DeadlineKind.INVESTIGATION,
            started_at=now,
            target_seconds=policy.investigation_seconds,
            warning_percent=policy.warning_percent,
            calendar=policy.investigation_calendar,
            time_zone=policy.time_zone,
            team_id=DESK_TEAM_ID,
        )
        state.view.deadlines.append(investigation)
        survey.investigation_due_at = investigation.due_at
        facts["investigation_due_at"] = investigation.due_at.isoformat()
    settle(state, policy, now)
    return [NewEvent("survey.submitted", survey_subject("submitted"), request.actor, request.comment, facts)]


def expire(state: TicketState, policy: AftercarePolicy, now: datetime) -> list[NewEvent]:
    """No answer within the window: recorded as none, and the ticket is done."""
    survey = state.view.survey
    if survey is None or survey.status != SurveyStatus.OPEN:
        return []
    survey.status, survey.expired_at = SurveyStatus.EXPIRED, now
    settle(state, policy, now)
    facts = {"round": survey.round, "due_at": survey.due_at.isoformat()}
    return [NewEvent("survey.expired", survey_subject("expired"), "system", "no answer", facts)]


def check_investigation(state: TicketState, request: RecordInvestigationInput) -> None:
    check_finding(request)
    survey = state.view.survey
    if survey is None or not survey.awaiting_investigation:
        raise TransitionNotAllowed(
            f"ticket {state.ticket_id} has no unsatisfied survey awaiting investigation"
        )


def check_finding(request: RecordInvestigationInput) -> None:
    """The finding's own fields, every bad one named at once."""
    problems = []
    if request.responsibility not in set(Responsibility):
        problems.append(FieldViolation("responsibility", "one of NOT_OURS, SERVICE_DESK, OPS_TEAM"))
    if not request.finding.strip():
        problems.append(FieldViolation("finding", "is required"))
    if request.responsibility == Responsibility.SERVICE_DESK and not request.staff_id.strip():
        problems.append(FieldViolation("staff_id", "is required when the service desk is responsible"))
    if request.disputed and request.responsibility != Responsibility.NOT_OURS:
        problems.append(FieldViolation("disputed", "only a NOT_OURS finding can be disputed"))
    if problems:
        raise InvalidArgument(problems)


def investigate(
    state: TicketState, request: RecordInvestigationInput, policy: AftercarePolicy, now: datetime
) -> list[NewEvent]:
    """Record the finding; OPS_TEAM reopens the ticket for the caller's reviewed second dispatch."""
    check_investigation(state, request)
    survey = state.view.survey
    assert survey is not None
    survey.responsibility, survey.finding, survey.staff_id = (
        request.responsibility,
        request.finding,
        request.staff_id,
    )
    survey.disputed, survey.investigated_by, survey.investigated_at = request.disputed, request.actor, now
    survey.investigation_request_id = request.request_id
    meet_deadlines(state, now, DeadlineKind.INVESTIGATION)
    facts: dict[str, object] = {"round": survey.round, "responsibility": survey.responsibility}
    facts |= {"staff_id": survey.staff_id, "disputed": survey.disputed}
    events = [
        NewEvent("survey.investigated", survey_subject("investigated"), request.actor, request.finding, facts)
    ]
    if request.disputed:  # the workflow also opens the hotline case
        events.append(
            NewEvent("survey.disputed", survey_subject("disputed"), request.actor, request.finding, facts)
        )
    if request.responsibility == Responsibility.OPS_TEAM:
        state.view.status, state.view.assigned_team_id = TicketStatus.OPEN, ""
    settle(state, policy, now)
    return events


def settle(state: TicketState, policy: AftercarePolicy, now: datetime) -> None:
    """Once a closed ticket has nothing left to do, set when it is archived (once)."""
    if state.archive_at is None and state.view.status == TicketStatus.CLOSED and _done(state.view.survey):
        state.archive_at = archive_time(now, policy)


def archive_time(done_at: datetime, policy: AftercarePolicy) -> datetime:
    """The start of the next day in the desk's time zone (or the policy's delay, when it has one)."""
    if policy.archive_delay_seconds > 0:
        return done_at + timedelta(seconds=policy.archive_delay_seconds)
    zone = ZoneInfo(policy.time_zone)
    next_day = done_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=zone).astimezone(UTC)


def archive(state: TicketState, now: datetime) -> list[NewEvent]:
    state.view.status, state.view.archived_at = TicketStatus.ARCHIVED, now
    survey = state.view.survey
    facts = {
        "survey_round": survey.round if survey else 0,
        "survey_status": str(survey.status) if survey else "",
    }
    return [NewEvent("ticket.archived", ticket_subject("archived"), "system", "filed the next day", facts)]


def next_step_at(state: TicketState) -> datetime | None:
    """When the after-care next acts by itself: the survey's expiry, or the archive."""
    survey = state.view.survey
    times = [state.archive_at] if state.archive_at else []
    if state.view.status == TicketStatus.CLOSED and survey is not None and survey.status == SurveyStatus.OPEN:
        times.append(survey.due_at)
    return min(times, default=None)


def _done(survey: SurveyRecord | None) -> bool:
    if survey is None or survey.status == SurveyStatus.EXPIRED:
        return True
    return survey.status == SurveyStatus.ANSWERED and not survey.awaiting_investigation


def _survey_of_closed(state: TicketState) -> SurveyRecord:
    if state.view.status != TicketStatus.CLOSED:
        raise TransitionNotAllowed(
            f"ticket {state.ticket_id} is {state.view.status}, only a closed one is surveyed"
        )
    if state.view.survey is None:
        raise TransitionNotAllowed(
            f"ticket {state.ticket_id} is not surveyed (its kind is not in the survey policy)"
        )
    return state.view.survey
