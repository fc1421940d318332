"""`helpdesk qa spot|inspect`: a QA inspector's spot checks (不定期抽查) and inspections (质检).

`qa spot` draws items to inspect: all of one ticket's (`--ticket`), or `--size` of a slice by person,
team, post and time window (`--from`/`--to`: ISO dates or date-times, in the desk's time zone unless
they name one). `qa inspect ITEM` scores one drawn item on its post's scorecard (`--score
criterion=N` for every criterion; `helpdesk qa scorecards` lists them) and names violations
(`--violation CODE[:note]`). Answers print like the other client commands; a qa_inspector's token by
default, `--as manager` for a manager's.
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import date, datetime, time
from typing import Any

from google.protobuf import message, timestamp_pb2

from cli.qa import qa_verbs, quality_call
from desk.config import load_settings
from helpdesk.v1 import quality_pb2

POSTS = ("AGENT", "SENIOR_AGENT", "SURVEYOR", "DATA_MANAGER", "STATISTICIAN")


def desk_time(text: str) -> datetime:
    """An ISO date (its first moment) or date-time; without a zone, in the desk's (HELPDESK_TIME_ZONE)."""
    try:
        moment = datetime.combine(date.fromisoformat(text), time()) if "T" not in text else None
        moment = moment or datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=load_settings(os.environ).zone)


def criterion_score(text: str) -> quality_pb2.CriterionScore:
    """``criterion=N``; whether N is 0-100 and the criterion the post's, the desk says."""
    criterion, _, score = text.partition("=")
    try:
        return quality_pb2.CriterionScore(criterion=criterion.strip(), score=int(score))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected criterion=SCORE, got {text!r}") from None


def named_violation(text: str) -> quality_pb2.InspectionViolation:
    """``CODE`` or ``CODE:note``."""
    code, _, note = text.partition(":")
    return quality_pb2.InspectionViolation(code=code.strip().upper(), note=note.strip())


def _timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


def spot(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = quality_pb2.SpotCheckRequest(
        ticket_id=args.ticket,
        reason=args.reason,
        agent_id=args.agent,
        team_id=args.team,
        post=quality_pb2.Post.Value(f"POST_{args.post}") if args.post else quality_pb2.POST_UNSPECIFIED,
        window_start=_timestamp(args.window_start),
        window_end=_timestamp(args.window_end),
        size=args.size,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    return quality_call(args, endpoints, "SpotCheck", request)  # type: ignore[no-any-return]


def inspect(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = quality_pb2.RecordInspectionRequest(
        item_id=args.item_id or "",
        ticket_id=args.ticket,
        scores=args.score,
        violations=args.violation,
        findings=args.findings,
        request_id=args.request_id or str(uuid.uuid4()),
    )
    return quality_call(args, endpoints, "RecordInspection", request)  # type: ignore[no-any-return]


def scorecards(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    return quality_call(args, endpoints, "ListScorecards", quality_pb2.ListScorecardsRequest())  # type: ignore[no-any-return]


def register(commands: Any) -> None:
    """Add `helpdesk qa spot|inspect|scorecards` to the `helpdesk` parser's subcommands."""
    verbs = qa_verbs(commands)
    drawing = verbs.add_parser("spot", help="spot-check (不定期抽查) a ticket, or a slice of the workload")
    drawing.add_argument("--ticket", default="", help="all of this ticket's items not inspected yet")
    drawing.add_argument("--agent", default="", help="the person who did the work (staff id)")
    drawing.add_argument("--team", default="", help="the ops team the work concerned")
    drawing.add_argument(
        "--post", default="", choices=("", *POSTS), type=str.upper, metavar="POST", help=", ".join(POSTS)
    )
    drawing.add_argument(
        "--from", dest="window_start", type=desk_time, metavar="TIME", help="the window's start"
    )
    drawing.add_argument(
        "--to", dest="window_end", type=desk_time, metavar="TIME", help="its end, not included"
    )
    drawing.add_argument("--size", type=int, default=0, help="items to draw, 1-1000 (0 with --ticket: all)")
    drawing.add_argument("--reason", required=True, help="why the spot check is made")
    drawing.add_argument("--request-id", default="", help="idempotency key: resend to retry (default: new)")
    drawing.set_defaults(run=spot)

    scoring = verbs.add_parser("inspect", help="score an item of a sample or spot check on its scorecard")
    scoring.add_argument("item_id", nargs="?", help="the item (from `qa spot` or a daily sample)")
    scoring.add_argument("--ticket", default="", help="instead of ITEM: the ticket's one item awaiting")
    scoring.add_argument(
        "--score",
        action="append",
        type=criterion_score,
        default=[],
        metavar="CRITERION=N",
        required=True,
        help="one per criterion of the item's post, 0-100 (`qa scorecards` lists them)",
    )
    scoring.add_argument(
        "--violation", action="append", type=named_violation, default=[], metavar="CODE[:NOTE]"
    )
    scoring.add_argument("--findings", default="")
    scoring.add_argument("--request-id", default="", help="idempotency key: resend to retry (default: new)")
    scoring.set_defaults(run=inspect)

    cards = verbs.add_parser("scorecards", help="each post's criteria and violation codes")
    cards.set_defaults(run=scorecards)
