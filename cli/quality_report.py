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

from cli.qa import qa_verbs, quality_call
from helpdesk.v1 import quality_pb2
from services.http.report_pages import report_csv, report_html


def report(args: argparse.Namespace, endpoints: dict[str, Any]) -> quality_pb2.QualityReport:
    request = quality_pb2.GetQualityReportRequest(week=args.week)
    answer: quality_pb2.QualityReport = quality_call(args, endpoints, "GetQualityReport", request)
    for path, render in ((args.csv, report_csv), (args.html, report_html)):
        if path is not None:
            path.write_text(render(answer), encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    return answer


def register(commands: Any) -> None:
    """Add `helpdesk qa report` to the `helpdesk` parser's subcommands (in the `qa` group)."""
    verb = qa_verbs(commands).add_parser(
        "report", help="the weekly QA report of an ISO week (final once the week is over)"
    )
    verb.add_argument("week", help="the ISO week, YYYY-Www (e.g. 2026-W48)")
    verb.add_argument("--csv", type=Path, metavar="FILE", help="also write it as CSV, a block per section")
    verb.add_argument("--html", type=Path, metavar="FILE", help="also write it as a self-contained page")
    verb.set_defaults(run=report)
