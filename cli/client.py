"""`helpdesk ticket|workorder|callback`: walk a ticket's main path by hand against a running desk.

Each command returns the desk's answer, a protobuf message; :func:`run_client_command` prints it for
a person on a terminal and as JSON for scripts (the rule is in :mod:`cli.output`).

`helpdesk ops watch` (an ops team's live view) is in :mod:`cli.ops`.

The desk is found through `.data/endpoints.json` (written by `helpdesk up`), which also holds the
development tokens; `--as ROLE` picks one (e.g. `--as ops_engineer:network`).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import grpc
from google.protobuf import message

from cli.endpoints import read_endpoints, service_channel
from cli.output import add_output_options, print_answer
from desk import proto_fields
from desk.config import Settings
from desk.rich_errors import explain
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)

Command = Callable[[argparse.Namespace, dict[str, Any]], message.Message]


def bearer(endpoints: dict[str, Any], role: str) -> tuple[tuple[str, str], ...]:
    """The call metadata of a role's development token (from endpoints.json)."""
    token = endpoints["tokens"].get(role)
    if token is None:
        raise SystemExit(
            f"no development token for {role!r}; known: {', '.join(sorted(endpoints['tokens']))}"
        )
    return (("authorization", f"Bearer {token}"),)


def call(
    endpoints: dict[str, Any],
    *,
    service: str,
    role: str,
    stub_type: Any,
    method: str,
    request: message.Message,
) -> message.Message:
    metadata = bearer(endpoints, role)
    with service_channel(endpoints, service) as channel:
        answer: message.Message = getattr(stub_type(channel), method)(request, metadata=metadata)
        return answer


def _enum(enum: Any, prefix: str, name: str) -> Any:
    return enum.Value(prefix + name.upper().replace("-", "_"))


def ticket_create(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = intake_pb2.CreateTicketRequest(
        request_id=args.request_id or str(uuid.uuid4()),
        channel=_enum(common_pb2.Channel, "CHANNEL_", args.channel),
        kind=_enum(common_pb2.TicketKind, "TICKET_KIND_", args.kind),
        reporter=common_pb2.Reporter(name=args.name, phone=args.phone, organization=args.organization),
        fault_number=args.fault_number,
        category=args.category,
        priority=_enum(common_pb2.Priority, "PRIORITY_", args.priority),
        customer_tier=_enum(common_pb2.CustomerTier, "CUSTOMER_TIER_", args.tier),
        summary=args.summary,
        description=args.description,
        wait_for_routing=True,  # a person at the terminal wants to see where it went
    )
    return call(
        endpoints,
        service="intake",
        role=args.as_role or "agent",
        stub_type=intake_pb2_grpc.IntakeServiceStub,
        method="CreateTicket",
        request=request,
    )


def ticket_show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = intake_pb2.GetTicketRequest(ticket_id=args.ticket_id)
    return call(
        endpoints,
        service="intake",
        role=args.as_role or "agent",
        stub_type=intake_pb2_grpc.IntakeServiceStub,
        method="GetTicket",
        request=request,
    )


def ticket_list(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = intake_pb2.ListTicketsRequest(
        status=_enum(common_pb2.TicketStatus, "TICKET_STATUS_", args.status or "UNSPECIFIED"),
        team_id=args.team,
        page_size=args.page_size,
        page_token=args.page_token,
    )
    return call(
        endpoints,
        service="intake",
        role=args.as_role or "agent",
        stub_type=intake_pb2_grpc.IntakeServiceStub,
        method="ListTickets",
        request=request,
    )


def _engineer_role(args: argparse.Namespace) -> str:
    return str(args.as_role or f"ops_engineer:{args.team}")


def workorder_accept(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = dispatch_pb2.AcceptWorkOrderRequest(work_order_id=args.work_order_id, engineer=args.engineer)
    return call(
        endpoints,
        service="dispatch",
        role=_engineer_role(args),
        stub_type=dispatch_pb2_grpc.DispatchServiceStub,
        method="AcceptWorkOrder",
        request=request,
    )


def workorder_resolve(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    visited = args.test_result or args.departed or args.arrived or args.restored or args.signed
    onsite = (
        common_pb2.OnsiteReport(
            departed_at=proto_fields.timestamp(args.departed),
            arrived_at=proto_fields.timestamp(args.arrived),
            restored_at=proto_fields.timestamp(args.restored),
            test_result=_enum(common_pb2.TestResult, "TEST_RESULT_", args.test_result),
            customer_signed=args.signed,
        )
        if visited
        else None
    )
    request = dispatch_pb2.ResolveWorkOrderRequest(
        work_order_id=args.work_order_id,
        cause=args.cause,
        action=args.action,
        engineer=args.engineer,
        onsite=onsite,
    )
    return call(
        endpoints,
        service="dispatch",
        role=_engineer_role(args),
        stub_type=dispatch_pb2_grpc.DispatchServiceStub,
        method="ResolveWorkOrder",
        request=request,
    )


def workorder_return(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = dispatch_pb2.ReturnWorkOrderRequest(work_order_id=args.work_order_id, reason=args.reason)
    return call(
        endpoints,
        service="dispatch",
        role=_engineer_role(args),
        stub_type=dispatch_pb2_grpc.DispatchServiceStub,
        method="ReturnWorkOrder",
        request=request,
    )


def callback(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = survey_pb2.RecordCallbackRequest(
        ticket_id=args.ticket_id,
        reached=not args.not_reached,
        confirmed_resolved=not args.not_fixed,
        termination_reason=args.reason,
        note=args.note,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    return call(
        endpoints,
        service="survey",
        role=args.as_role or "surveyor",
        stub_type=survey_pb2_grpc.SurveyServiceStub,
        method="RecordCallback",
        request=request,
    )


def _ticket_parsers(sub: Any) -> None:
    ticket = sub.add_parser("ticket", help="create, show and list tickets").add_subparsers(
        dest="verb", required=True
    )
    create = ticket.add_parser("create", help="record a report")
    create.add_argument("--summary", required=True)
    create.add_argument("--name", required=True, help="the reporter's name")
    create.add_argument("--phone", required=True, help="the reporter's phone")
    create.add_argument("--category", required=True, help="e.g. network, software, machine-room, automation")
    create.add_argument("--description", default="")
    create.add_argument("--organization", default="")
    create.add_argument("--fault-number", default="")
    create.add_argument("--priority", default="P3", choices=["P1", "P2", "P3", "P4"])
    create.add_argument("--channel", default="PHONE")
    create.add_argument("--kind", default="FAULT")
    create.add_argument("--tier", default="STANDARD", choices=["STANDARD", "VIP"])
    create.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    create.set_defaults(run=ticket_create)
    show = ticket.add_parser("show", help="one ticket with work orders, deadlines and timeline")
    show.add_argument("ticket_id")
    show.set_defaults(run=ticket_show)
    listing = ticket.add_parser("list", help="tickets, newest first")
    listing.add_argument("--status", default="")
    listing.add_argument("--team", default="")
    listing.add_argument("--page-size", type=int, default=20)
    listing.add_argument("--page-token", default="")
    listing.set_defaults(run=ticket_list)


def _local_time(text: str) -> datetime:
    """An ISO 8601 time or date-time; a bare time is today's, and without a zone it is local time."""
    try:
        parsed = datetime.combine(date.today(), time.fromisoformat(text)) if "T" not in text else None
    except ValueError:
        parsed = None
    moment = parsed or datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.astimezone()


def _workorder_parsers(sub: Any) -> None:
    wo = sub.add_parser("workorder", help="an ops engineer's answers").add_subparsers(
        dest="verb", required=True
    )
    for name, run in (
        ("accept", workorder_accept),
        ("resolve", workorder_resolve),
        ("return", workorder_return),
    ):
        p = wo.add_parser(name)
        p.add_argument("work_order_id")
        p.add_argument("--team", required=True, help="the engineer's team (picks its development token)")
        p.set_defaults(run=run)
        if name in ("accept", "resolve"):
            p.add_argument("--engineer", required=True)
        if name == "resolve":
            p.add_argument("--cause", required=True)
            p.add_argument("--action", required=True)
            # A visit's on-site report (上门服务单): all three times, the test result and the signature.
            for moment in ("departed", "arrived", "restored"):
                p.add_argument(
                    f"--{moment}", type=_local_time, help="on-site visit: ISO 8601 time, e.g. 09:40"
                )
            p.add_argument("--test-result", default="", choices=["", "NORMAL", "ABNORMAL"])
            p.add_argument("--signed", action="store_true", help="the customer signed the on-site report")
        if name == "return":
            p.add_argument("--reason", required=True)


def register(sub: Any) -> None:
    """Add the client commands to the `helpdesk` parser's subcommands."""
    _ticket_parsers(sub)
    _workorder_parsers(sub)
    cb = sub.add_parser(
        "callback", help="record a callback attempt (not reached: another later, per the callback policy)"
    )
    cb.add_argument("ticket_id")
    cb.add_argument("--not-reached", action="store_true")
    cb.add_argument("--not-fixed", action="store_true", help="the customer says it is not fixed")
    cb.add_argument("--reason", default="", help="termination reason when not reached")
    cb.add_argument("--note", default="")
    cb.add_argument("--request-id", default="", help="idempotency key: resend to retry (default: a new UUID)")
    cb.set_defaults(run=callback)


def group_verbs(commands: Any, group: str) -> Any:
    """The subcommands of a command group another module made (`qa`, `stats`), to add verbs to it."""
    parser = commands.choices[group]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def add_as_option(sub: Any) -> None:
    """Every command present gets `--as ROLE`, the development token it calls with; every one that
    answers with a protobuf message (its `run`) also gets `--json` and `--human` (cli/output.py)."""
    for parser in sub.choices.values():
        _add_common(parser)


def _add_common(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_common(child)
            return
    options = {option for action in parser._actions for option in action.option_strings}
    if "--as" not in options:
        parser.add_argument("--as", dest="as_role", default="", help="whose development token to use")
    if "run" in parser._defaults and "--json" not in options:
        add_output_options(parser)


def run_client_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        answer = args.run(args, read_endpoints(settings))
    except grpc.RpcError as error:
        print(explain(error), file=sys.stderr)
        return 1
    print_answer(answer, args)
    return 0
