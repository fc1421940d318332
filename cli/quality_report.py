"""`helpdesk qa report WEEK`: the weekly QA report (每周质检分析报告) of an ISO week, from a running desk.

It prints the report (JSON, or `--human`); `--csv FILE` and `--html FILE` also write it as the CSV
and the page the HTTP gateway serves (services/http/report_pages.py), for a spreadsheet or a browser.
A finished week's report is final and never changes; the current week's is the numbers so far.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import grpc

from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.http.report_pages import report_csv, report_html


def report(args: argparse.Namespace, endpoints: dict[str, Any]) -> quality_pb2.QualityReport:
    role = args.as_role or "qa_inspector"
    token = endpoints["tokens"].get(role)
    if token is None:
        known = ", ".join(sorted(endpoints["tokens"]))
        raise SystemExit(f"no development token for {role!r}; known: {known}")
    with grpc.insecure_channel(endpoints["services"]["quality"]) as channel:
        stub = quality_pb2_grpc.QualityServiceStub(channel)
        answer: quality_pb2.QualityReport = stub.GetQualityReport(
            quality_pb2.GetQualityReportRequest(week=args.week),
            metadata=(("authorization", f"Bearer {token}"),),
        )
    for path, render in ((args.csv, report_csv), (args.html, report_html)):
        if path is not None:
            path.write_text(render(answer), encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    return answer


def qa_verbs(commands: Any) -> Any:
    """The `qa` group's subcommands, made here or by whichever module made the group first."""
    group = commands.choices.get("qa") or commands.add_parser(
        "qa", help="quality inspection (质检): samples, spot checks, inspections, reports"
    )
    found = [a for a in group._actions if isinstance(a, argparse._SubParsersAction)]
    return found[0] if found else group.add_subparsers(dest="verb", required=True, metavar="VERB")


def register(commands: Any) -> None:
    """Add `helpdesk qa report` to the `helpdesk` parser's subcommands (in the `qa` group)."""
    verb = qa_verbs(commands).add_parser(
        "report", help="the weekly QA report of an ISO week (final once the week is over)"
    )
    verb.add_argument("week", help="the ISO week, YYYY-Www (e.g. 2026-W48)")
    verb.add_argument("--csv", type=Path, metavar="FILE", help="also write it as CSV, a block per section")
    verb.add_argument("--html", type=Path, metavar="FILE", help="also write it as a self-contained page")
    verb.set_defaults(run=report)
