"""SurveyService: callbacks reach the ticket's workflow as updates; surveys come with the survey issue."""

from __future__ import annotations

from grpc import aio

from desk import proto_fields
from desk.auth import DESK_AGENTS, SURVEYORS
from desk.errors import InvalidArgument, Unimplemented
from desk.grpc_edge import ServiceBinding, current_principal
from domain.commands import RecordCallbackInput
from helpdesk.v1 import common_pb2, survey_pb2, survey_pb2_grpc
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
    def __init__(self, tickets: TicketWorkflows) -> None:
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
        arg = RecordCallbackInput(
            reached=request.reached,
            confirmed_resolved=request.reached and request.confirmed_resolved,
            termination_reason=request.termination_reason.strip(),
            note=request.note.strip(),
            actor=current_principal().principal_id,
        )
        result = await self._tickets.update(ticket_id, wf.RECORD_CALLBACK, arg, wf.RecordCallbackResult)
        c = result.callback
        return survey_pb2.Callback(
            ticket_id=c.ticket_id,
            reached=c.reached,
            confirmed_resolved=c.confirmed_resolved,
            termination_reason=c.termination_reason,
            note=c.note,
            surveyor=c.surveyor,
            recorded_at=proto_fields.timestamp(c.recorded_at),
            ticket_status=proto_fields.enum_value(
                common_pb2.TicketStatus, result.ticket.status.value, "TICKET_STATUS_"
            ),
        )

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
        raise Unimplemented("ListPendingCallbacks")


def binding(servicer: SurveyServicer) -> ServiceBinding:
    return ServiceBinding.of(servicer, survey_pb2, survey_pb2_grpc, "SurveyService")
