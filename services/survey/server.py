"""SurveyService: callbacks, surveys and investigations reach the ticket's workflow as updates; the
surveyors' queues are read from survey's own tables, which the workflow keeps."""

from __future__ import annotations

from grpc import aio

from desk.auth import DESK_AGENTS, SURVEYORS
from desk.db import Executor
from desk.errors import AlreadyExists, InvalidArgument, NotFound
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import PageTokens, page_size
from desk.proto_fields import enum_name
from domain import survey_state as surveys
from domain.commands import RecordCallbackInput, RecordInvestigationInput, SubmitSurveyInput
from domain.surveys import SurveyStatus
from helpdesk.v1 import survey_pb2, survey_pb2_grpc
from services.survey import repository, wire
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

CALLERS = SURVEYORS | DESK_AGENTS

ACCESS = {
    "RecordCallback": CALLERS,
    "SubmitSurvey": CALLERS,
    "RecordInvestigation": CALLERS,
    "GetSurvey": CALLERS,
    "ListPendingCallbacks": CALLERS,
}


class SurveyServicer(survey_pb2_grpc.SurveyServiceServicer):
    def __init__(self, db: Executor, tickets: TicketWorkflows, page_tokens: PageTokens) -> None:
        self._db = db
        self._tickets = tickets
        self._page_tokens = page_tokens

    async def RecordCallback(
        self, request: survey_pb2.RecordCallbackRequest, context: aio.ServicerContext
    ) -> survey_pb2.Callback:
        ticket_id = _ticket_id(request.ticket_id)
        if not request.reached and not request.termination_reason.strip():
            raise InvalidArgument.one("termination_reason", "is required when the customer was not reached")
        if len(request.note) > 2000:
            raise InvalidArgument.one("note", "at most 2000 characters are allowed")
        request_id = _request_id(request.request_id)
        arg = RecordCallbackInput(
            reached=request.reached,
            confirmed_resolved=request.reached and request.confirmed_resolved,
            termination_reason=request.termination_reason.strip(),
            note=request.note.strip(),
            actor=current_principal().principal_id,
            request_id=request_id,
        )
        update_id = f"callback/{ticket_id}/{request_id}" if request_id else None
        result = await self._tickets.update(
            ticket_id, wf.RECORD_CALLBACK, arg, wf.RecordCallbackResult, update_id=update_id
        )
        return wire.callback_to_proto(result)

    async def SubmitSurvey(
        self, request: survey_pb2.SubmitSurveyRequest, context: aio.ServicerContext
    ) -> survey_pb2.Survey:
        """The customer's answer, once per survey: a retry with its request id answers the same."""
        ticket_id = _ticket_id(request.ticket_id)
        rating = enum_name(survey_pb2.Rating, request.rating, "RATING_")
        if not rating:
            raise InvalidArgument.one("rating", "one of VERY_SATISFIED, SATISFIED, NEUTRAL, UNSATISFIED")
        request_id = _request_id(request.request_id)
        stored = await repository.latest_survey(db=self._db, ticket_id=ticket_id)
        if stored is not None and stored.status == SurveyStatus.ANSWERED:  # also once archived
            if request_id and stored.request_id == request_id:
                return wire.survey_to_proto(stored)
            raise AlreadyExists(f"survey {stored.round} of ticket {ticket_id} is answered already")
        arg = SubmitSurveyInput(rating, request.comment.strip(), current_principal().principal_id, request_id)
        update_id = f"survey/{ticket_id}/{request_id}" if request_id else None
        result = await self._tickets.update_known(
            ticket_id, wf.SUBMIT_SURVEY, arg, wf.SurveyResult, update_id=update_id
        )
        return wire.survey_to_proto(result.survey)

    async def RecordInvestigation(
        self, request: survey_pb2.RecordInvestigationRequest, context: aio.ServicerContext
    ) -> survey_pb2.Survey:
        """The finding on an unsatisfied survey, within its investigation deadline."""
        ticket_id = _ticket_id(request.ticket_id)
        arg = RecordInvestigationInput(
            responsibility=enum_name(survey_pb2.Responsibility, request.responsibility, "RESPONSIBILITY_"),
            finding=request.finding.strip(),
            actor=current_principal().principal_id,
            staff_id=request.staff_id.strip(),
            disputed=request.disputed,
            request_id=_request_id(request.request_id),
        )
        surveys.check_finding(arg)  # every bad field at once, before the ticket is asked
        update_id = f"investigation/{ticket_id}/{arg.request_id}" if arg.request_id else None
        result = await self._tickets.update_known(
            ticket_id, wf.RECORD_INVESTIGATION, arg, wf.SurveyResult, update_id=update_id
        )
        return wire.survey_to_proto(result.survey)

    async def GetSurvey(
        self, request: survey_pb2.GetSurveyRequest, context: aio.ServicerContext
    ) -> survey_pb2.Survey:
        """The ticket's latest survey round, also once the ticket is archived."""
        ticket_id = _ticket_id(request.ticket_id)
        stored = await repository.latest_survey(db=self._db, ticket_id=ticket_id)
        if stored is not None:
            return wire.survey_to_proto(stored)
        if not await self._tickets.exists(ticket_id):
            raise NotFound("ticket", ticket_id)
        raise NotFound("survey of ticket", ticket_id)

    async def ListPendingCallbacks(
        self, request: survey_pb2.ListPendingCallbacksRequest, context: aio.ServicerContext
    ) -> survey_pb2.ListPendingCallbacksResponse:
        """Tickets awaiting a callback, earliest deadline first, with their attempts so far."""
        limit = page_size(request.page_size)
        rows = await repository.list_pending_callbacks(
            db=self._db, after=self._page_tokens.after(request), limit=limit + 1
        )
        last = rows[limit - 1] if len(rows) > limit else None
        token = self._page_tokens.next(request, last.due_at, last.ticket_id) if last and last.due_at else ""
        return wire.pending_callbacks_to_proto(rows[:limit], token)


def binding(servicer: SurveyServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, survey_pb2, survey_pb2_grpc, "SurveyService")


def _ticket_id(value: str) -> str:
    ticket_id = value.strip()
    if not ticket_id:
        raise InvalidArgument.one("ticket_id", "is required")
    return ticket_id


def _request_id(value: str) -> str:
    if len(value) > 200:
        raise InvalidArgument.one("request_id", "at most 200 characters are allowed")
    return value.strip()
