"""`helpdesk escalation list|show|open|resolve|rule`: the manager hotline (经理热线) from the command line.

Managers list the queue (open cases first, then newest), resolve a case and read or set the
compensation rule; desk agents open a case (`open`, with `--as agent`). Answers print as JSON, like
the other client commands.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from google.protobuf import message

from cli.client import _enum, call
from helpdesk.v1 import escalation_pb2, escalation_pb2_grpc, survey_pb2

E = escalation_pb2
SOURCES = ("REPEATS", "OVERDUE_RECONTACT", "DISPUTED_INVESTIGATION", "REFUSED_ANSWER", "COMPLAINT")
OUTCOMES = ("EXPLAINED", "COMPENSATED", "REFERRED")
RESPONSIBILITIES = ("NOT_OURS", "SERVICE_DESK", "OPS_TEAM")


def _hotline(
    args: argparse.Namespace, endpoints: dict[str, Any], method: str, request: message.Message
) -> message.Message:
    return call(
        endpoints,
        service="survey",
        role=args.as_role or ("agent" if method == "OpenEscalation" else "manager"),
        stub_type=escalation_pb2_grpc.EscalationServiceStub,
        method=method,
        request=request,
    )


def _optional(enum: Any, prefix: str, name: str) -> Any:
    """The enum value of a name given, UNSPECIFIED (0) for none."""
    return _enum(enum, prefix, name) if name else 0


def escalation_list(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = E.ListEscalationsRequest(
        status=_optional(E.EscalationStatus, "ESCALATION_STATUS_", args.status),
        source=_optional(E.EscalationSource, "ESCALATION_SOURCE_", args.source),
        ticket_id=args.ticket,
        page_size=args.page_size,
        page_token=args.page_token,
    )
    return _hotline(args, endpoints, "ListEscalations", request)


def escalation_show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = E.GetEscalationRequest(escalation_id=args.escalation_id)
    return _hotline(args, endpoints, "GetEscalation", request)


def escalation_open(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = E.OpenEscalationRequest(
        ticket_id=args.ticket_id,
        source=_enum(E.EscalationSource, "ESCALATION_SOURCE_", args.source),
        note=args.note,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    return _hotline(args, endpoints, "OpenEscalation", request)


def escalation_resolve(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = E.ResolveEscalationRequest(
        escalation_id=args.escalation_id,
        outcome=_enum(E.EscalationOutcome, "ESCALATION_OUTCOME_", args.outcome),
        note=args.note,
        request_id=args.request_id or str(uuid.uuid4()),
        responsibility=_optional(survey_pb2.Responsibility, "RESPONSIBILITY_", args.responsibility),
    )
    if args.amount is not None:
        request.compensation_cents = args.amount
    return _hotline(args, endpoints, "ResolveEscalation", request)


def rule_show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    return _hotline(args, endpoints, "GetCompensationRule", E.GetCompensationRuleRequest())


def rule_set(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    rule = E.CompensationRule(amount_per_hour_cents=args.per_hour, cap_cents=args.cap, currency=args.currency)
    return _hotline(args, endpoints, "SetCompensationRule", E.SetCompensationRuleRequest(rule=rule))


def register(sub: Any) -> None:
    """Add `escalation` to the `helpdesk` parser's subcommands."""
    verbs = sub.add_parser(
        "escalation", help="the manager hotline: its queue, resolutions, compensation rule"
    )
    verb = verbs.add_subparsers(dest="verb", required=True)
    listing = verb.add_parser("list", help="the queue: open cases first, then newest (managers)")
    listing.add_argument("--status", default="", choices=["", "OPEN", "RESOLVED"])
    listing.add_argument("--source", default="", choices=["", *SOURCES])
    listing.add_argument("--ticket", default="", help="only this ticket's cases")
    listing.add_argument("--page-size", type=int, default=20)
    listing.add_argument("--page-token", default="")
    listing.set_defaults(run=escalation_list)
    show = verb.add_parser("show", help="one case")
    show.add_argument("escalation_id")
    show.set_defaults(run=escalation_show)
    opening = verb.add_parser("open", help="send a ticket's customer to the hotline (desk agents)")
    opening.add_argument("ticket_id")
    opening.add_argument(
        "--source", required=True, choices=["REFUSED_ANSWER", "COMPLAINT", "DISPUTED_INVESTIGATION"]
    )
    opening.add_argument("--note", required=True, help="what the customer says")
    opening.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    opening.set_defaults(run=escalation_open)
    resolve = verb.add_parser("resolve", help="a manager's resolution of one case")
    resolve.add_argument("escalation_id")
    resolve.add_argument("--outcome", required=True, choices=OUTCOMES)
    resolve.add_argument("--note", required=True, help="what was found and told to the customer")
    resolve.add_argument("--responsibility", default="", choices=["", *RESPONSIBILITIES])
    resolve.add_argument(
        "--amount", type=int, default=None, help="COMPENSATED: own amount in fen (else the rule's)"
    )
    resolve.add_argument("--request-id", default="", help="idempotency key: send the same again to retry")
    resolve.set_defaults(run=escalation_resolve)
    rule = verb.add_parser("rule", help="the compensation rule").add_subparsers(
        dest="rule_verb", required=True
    )
    rule.add_parser("show", help="the rule in force").set_defaults(run=rule_show)
    setting = rule.add_parser("set", help="a new version of the rule")
    setting.add_argument("--per-hour", type=int, required=True, help="fen per started hour overdue")
    setting.add_argument("--cap", type=int, required=True, help="at most this many fen in all")
    setting.add_argument("--currency", default="CNY")
    setting.set_defaults(run=rule_set)
