"""`helpdesk stats kpis --from DAY --to DAY [--team --channel --kind --tier]`: the desk's key figures.

Days are the desk's (HELPDESK_TIME_ZONE) and both are included: `--from 2024-02-01 --to 2024-02-29`
is February. A date-time with its zone (`2024-02-01T08:00+08:00`) is an instant instead, and the
desk widens the range to the whole days it touches; the answer's `from` and `to` say which.
"""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import message

from cli.client import call, group_verbs
from desk.config import load_settings
from helpdesk.v1 import stats_pb2, stats_pb2_grpc


def instant(option: str, text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A date is the start of that day in the desk's zone (of the next day for `--to`, which includes
    its day); a date-time without a zone is the desk's local time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise SystemExit(f"{option}: {text!r} is not a date (YYYY-MM-DD) or a date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), zone)


def kpis(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    zone = load_settings(os.environ).zone
    request = stats_pb2.GetKpisRequest(
        team_id=args.team, channel=args.channel, kind=args.kind, customer_tier=args.tier
    )
    getattr(request, "from").FromDatetime(instant("--from", args.start, zone, end_of_day=False))
    request.to.FromDatetime(instant("--to", args.end, zone, end_of_day=True))
    return call(
        endpoints,
        service="stats",
        role=args.as_role or "statistician",
        stub_type=stats_pb2_grpc.StatsServiceStub,
        method="GetKpis",
        request=request,
    )


def register(commands: Any) -> None:
    """Add `helpdesk stats kpis` (in the `stats` group cli/stats.py makes)."""
    verb = group_verbs(commands, "stats").add_parser(
        "kpis", help="record completeness, FCR, satisfaction, SLA, times to respond and resolve, backlog"
    )
    verb.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (or a date-time)")
    verb.add_argument("--to", dest="end", required=True, help="last day, included (or a date-time: until)")
    verb.add_argument("--team", default="", help="a team id (network …)")
    verb.add_argument("--channel", default="", help="PHONE, IVR, EMAIL, WEB, IM, FAX, API")
    verb.add_argument(
        "--kind", default="", help="FAULT, SERVICE_REQUEST, CONSULTATION, COMPLAINT, CHANGE_REQUEST"
    )
    verb.add_argument("--tier", default="", help="STANDARD or VIP")
    verb.set_defaults(run=kpis)
