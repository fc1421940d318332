"""`helpdesk survey`: a surveyor's after-care against a running desk: the callback queue, the
satisfaction survey, and the investigation of an unsatisfied one. (`helpdesk callback` records a
callback attempt: :mod:`cli.client`.) Answers print as JSON, like the other client commands."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from google.protobuf import message

from cli.endpoints import service_channel
from helpdesk.v1 import survey_pb2, survey_pb2_grpc

RATINGS = ("VERY_SATISFIED", "SATISFIED", "NEUTRAL", "UNSATISFIED")
RESPONSIBILITIES = ("NOT_OURS", "SERVICE_DESK", "OPS_TEAM")


def _call(endpoints: dict[str, Any], args: argparse.Namespace, method: str, request: message.Message) -> Any:
    role = args.as_role or "surveyor"
    token = endpoints["tokens"].get(role)
    if token is None:
        raise SystemExit(
            f"no development token for {role!r}; known: {', '.join(sorted(endpoints['tokens']))}"
        )
    with service_channel(endpoints, "survey") as channel:
        stub = survey_pb2_grpc.SurveyServiceStub(channel)
        return getattr(stub, method)(request, metadata=(("authorization", f"Bearer {token}"),))


def pending(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = survey_pb2.ListPendingCallbacksRequest(page_size=args.page_size, page_token=args.page_token)
    answer: message.Message = _call(endpoints, args, "ListPendingCallbacks", request)
    return answer


def submit(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = survey_pb2.SubmitSurveyRequest(
        ticket_id=args.ticket_id,
        rating=survey_pb2.Rating.Value(f"RATING_{args.rating}"),
        comment=args.comment,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    answer: message.Message = _call(endpoints, args, "SubmitSurvey", request)
    return answer


def show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    answer: message.Message = _call(
        endpoints, args, "GetSurvey", survey_pb2.GetSurveyRequest(ticket_id=args.ticket_id)
    )
    return answer


def investigate(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = survey_pb2.RecordInvestigationRequest(
        ticket_id=args.ticket_id,
        responsibility=survey_pb2.Responsibility.Value(f"RESPONSIBILITY_{args.responsibility}"),
        finding=args.finding,
        staff_id=args.staff,
        disputed=args.disputed,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    answer: message.Message = _call(endpoints, args, "RecordInvestigation", request)
    return answer


def register(sub: Any) -> None:
    """Add `helpdesk survey pending|submit|show|investigate` to the `helpdesk` parser's subcommands."""
    survey = sub.add_parser("survey", help="a surveyor's after-care: callbacks due, surveys, investigations")
    verbs = survey.add_subparsers(dest="verb", required=True)
    queue = verbs.add_parser(
        "pending", help="tickets awaiting a callback, earliest deadline first, with attempts"
    )
    queue.add_argument("--page-size", type=int, default=20)
    queue.add_argument("--page-token", default="")
    queue.set_defaults(run=pending)
    answer = verbs.add_parser("submit", help="record the customer's answer to the survey (once)")
    answer.add_argument("ticket_id")
    answer.add_argument("--rating", required=True, choices=RATINGS)
    answer.add_argument("--comment", default="")
    answer.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    answer.set_defaults(run=submit)
    seen = verbs.add_parser("show", help="the ticket's latest survey and its investigation")
    seen.add_argument("ticket_id")
    seen.set_defaults(run=show)
    finding = verbs.add_parser("investigate", help="the finding on an unsatisfied survey")
    finding.add_argument("ticket_id")
    finding.add_argument("--responsibility", required=True, choices=RESPONSIBILITIES)
    finding.add_argument("--finding", required=True)
    finding.add_argument("--staff", default="", help="the staff member held responsible (SERVICE_DESK)")
    finding.add_argument("--disputed", action="store_true", help="the customer disputes a NOT_OURS finding")
    finding.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    finding.set_defaults(run=investigate)
