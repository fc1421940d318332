"""The survey service's proto mapping: callbacks and the callback queue."""

from __future__ import annotations

from desk.proto_fields import enum_value, timestamp
from domain.callbacks import CallbackRecord, PendingCallback
from domain.surveys import SurveyRecord
from helpdesk.v1 import common_pb2, survey_pb2
from services import ticket_messages
from workflows import contract as wf


def callback_to_proto(result: wf.RecordCallbackResult) -> survey_pb2.Callback:
    c: CallbackRecord = result.callback
    return survey_pb2.Callback(
        ticket_id=c.ticket_id,
        reached=c.reached,
        confirmed_resolved=c.confirmed_resolved,
        termination_reason=c.termination_reason,
        note=c.note,
        surveyor=c.surveyor,
        recorded_at=timestamp(c.recorded_at),
        ticket_status=enum_value(common_pb2.TicketStatus, result.ticket.status.value, "TICKET_STATUS_"),
        request_id=c.request_id,
        attempt=c.attempt,
        next_attempt_at=timestamp(result.ticket.next_callback_at),
    )


def pending_callbacks_to_proto(
    entries: list[PendingCallback], next_page_token: str
) -> survey_pb2.ListPendingCallbacksResponse:
    return survey_pb2.ListPendingCallbacksResponse(
        tickets=[ticket_messages.ticket_to_proto(e.ticket) for e in entries if e.ticket is not None],
        callbacks=[
            survey_pb2.PendingCallback(
                ticket_id=e.ticket_id,
                callback_due_at=timestamp(e.due_at),
                attempts=e.attempts,
                max_attempts=e.max_attempts,
                next_attempt_at=timestamp(e.next_attempt_at),
            )
            for e in entries
        ],
        next_page_token=next_page_token,
    )


def survey_to_proto(s: SurveyRecord) -> survey_pb2.Survey:
    return survey_pb2.Survey(
        ticket_id=s.ticket_id,
        round=s.round,
        status=enum_value(survey_pb2.SurveyStatus, s.status, "SURVEY_STATUS_"),
        opened_at=timestamp(s.opened_at),
        due_at=timestamp(s.due_at),
        rating=enum_value(survey_pb2.Rating, s.rating, "RATING_"),
        comment=s.comment,
        request_id=s.request_id,
        answered_by=s.answered_by,
        submitted_at=timestamp(s.submitted_at),
        expired_at=timestamp(s.expired_at),
        investigation_due_at=timestamp(s.investigation_due_at),
        responsibility=enum_value(survey_pb2.Responsibility, s.responsibility, "RESPONSIBILITY_"),
        finding=s.finding,
        staff_id=s.staff_id,
        disputed=s.disputed,
        investigated_by=s.investigated_by,
        investigated_at=timestamp(s.investigated_at),
    )
