"""`helpdesk report generate|show|list`: the statistics reports (统计报表) of a running desk.

`report generate PERIOD DAY [--boundary calendar|day21]` has the report of the period holding DAY
generated (or answers the one generated before: a report never changes); `report show ID` prints a
stored one (`MONTHLY-2026-11`, `WEEKLY-2026-W48`, `MONTHLY21-2026-11-21` …); `report list
[--period P]` lists them, newest period first. Each prints the Report message (JSON, or `--human`).
"""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf import message

from cli.client import call
from helpdesk.v1 import stats_pb2, stats_pb2_grpc

PERIODS = ("weekly", "monthly", "quarterly", "yearly")
BOUNDARIES = {
    "": stats_pb2.PERIOD_BOUNDARY_UNSPECIFIED,
    "calendar": stats_pb2.PERIOD_BOUNDARY_CALENDAR,
    "day21": stats_pb2.PERIOD_BOUNDARY_DAY_21,
}


def stats_call(args: argparse.Namespace, endpoints: dict[str, Any], method: str, request: Any) -> Any:
    """One StatsService call with the statistician's development token (or `--as` another role's)."""
    role = getattr(args, "as_role", None) or "statistician"
    stub = stats_pb2_grpc.StatsServiceStub
    return call(endpoints, service="stats", role=role, stub_type=stub, method=method, request=request)


def _period(name: str) -> stats_pb2.Period.ValueType:
    return stats_pb2.Period.Value(f"PERIOD_{name.upper()}") if name else stats_pb2.PERIOD_UNSPECIFIED


def generate(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = stats_pb2.GenerateReportRequest(
        period=_period(args.period), day=args.day, boundary=BOUNDARIES[args.boundary]
    )
    answer: message.Message = stats_call(args, endpoints, "GenerateReport", request)
    return answer


def show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    answer: message.Message = stats_call(
        args, endpoints, "GetReport", stats_pb2.GetReportRequest(report_id=args.report_id)
    )
    return answer


def list_reports(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = stats_pb2.ListReportsRequest(
        period=_period(args.period), page_size=args.page_size, page_token=args.page_token
    )
    answer: message.Message = stats_call(args, endpoints, "ListReports", request)
    return answer


def register(commands: Any) -> None:
    """Add the `helpdesk report` group."""
    group = commands.add_parser("report", help="statistics reports: weekly, monthly, quarterly, yearly")
    verbs = group.add_subparsers(dest="verb", required=True, metavar="VERB")
    make = verbs.add_parser("generate", help="generate the report of a period that is over (or show it)")
    make.add_argument("period", type=str.lower, choices=PERIODS)
    make.add_argument("day", help="any day inside the period, YYYY-MM-DD (the desk's time zone)")
    make.add_argument(
        "--boundary",
        choices=[name for name in BOUNDARIES if name],
        default="",
        help="where months, quarters and years begin: the 1st, or the 21st (default: the desk's setting)",
    )
    make.set_defaults(run=generate)
    one = verbs.add_parser("show", help="a stored report by its id (e.g. MONTHLY-2026-11)")
    one.add_argument("report_id")
    one.set_defaults(run=show)
    many = verbs.add_parser("list", help="the stored reports, newest period first")
    many.add_argument("--period", type=str.lower, choices=PERIODS, default="")
    many.add_argument("--page-size", type=int, default=0)
    many.add_argument("--page-token", default="")
    many.set_defaults(run=list_reports)
