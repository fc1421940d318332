"""SurveyService: callbacks, surveys and investigations reach the ticket's workflow as updates; the
surveyors' queues are read from survey's own tables, which the workflow keeps."""

from __future__ import annotations

from grpc import aio

from desk.auth import DESK_AGENTS, SURVEYORS
from desk.db import Executor
from desk.errors import InvalidArgument, Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from desk.paging import decode_token, encode_token, page_size
from domain.commands import RecordCallbackInput
from helpdesk.v1 import survey_pb2, survey_pb2_grpc
from services.survey import repository, wire
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

CALLERS = SURVEYORS | DESK_AGENTS

ACCESS = {
    "RecordCallback": CALLERS,
    # Built by the survey issue; answer UNIMPLEMENTED to any authenticated caller until then.
    "SubmitSurvey": CALLERS,
    "RecordInvestigation": CALLERS,
    "GetSurvey": CALLERS,
    "ListPendingCallbacks": CALLERS,
}


class SurveyServicer(survey_pb2_grpc.SurveyServiceServicer):
    def __init__(self, db: Executor, tickets: TicketWorkflows) -> None:
        self._db = db
        self._tickets = tickets

    async def RecordCallback(
        self, request: survey_pb2.RecordCallbackRequest, context: aio.ServicerContext
    ) -> survey_pb2.Callback:
        ticket_id = request.ticket_id.strip()
        if not ticket_id:
            raise InvalidArgument.one("ticket_id", "is required")
        if not request.reached and not request.termination_reason.strip():
            raise InvalidArgument.one("termination_reason", "is required when the customer was not reached")
        if len(request.note) > 2000:
            raise InvalidArgument.one("note", "at most 2000 characters are allowed")
        if len(request.request_id) > 200:
            raise InvalidArgument.one("request_id", "at most 200 characters are allowed")
        request_id = request.request_id.strip()
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
        raise Unimplemented("SubmitSurvey")

    async def RecordInvestigation(
        self, request: survey_pb2.RecordInvestigationRequest, context: aio.ServicerContext
    ) -> survey_pb2.Survey:
        raise Unimplemented("RecordInvestigation")

    async def GetSurvey(
        self, request: survey_pb2.GetSurveyRequest, context: aio.ServicerContext
    ) -> survey_pb2.Survey:
        raise Unimplemented("GetSurvey")

    async def ListPendingCallbacks(
        self, request: survey_pb2.ListPendingCallbacksRequest, context: aio.ServicerContext
    ) -> survey_pb2.ListPendingCallbacksResponse:
        """Tickets awaiting a callback, earliest deadline first, with their attempts so far."""
        limit = page_size(request.page_size)
        rows = await repository.list_pending_callbacks(
            db=self._db, after=decode_token(request.page_token), limit=limit + 1
        )
        last = rows[limit - 1] if len(rows) > limit else None
        token = encode_token(last.due_at, last.ticket_id) if last and last.due_at else ""
        return wire.pending_callbacks_to_proto(rows[:limit], token)


def binding(servicer: SurveyServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, survey_pb2, survey_pb2_grpc, "SurveyService")
