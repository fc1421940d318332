"""`helpdesk trace TICKET_ID`: one ticket's traces as indented waterfalls, from the desk's span files.

Reads the span files of the desk whose data dir this is (``HELPDESK_DATA_DIR``, ``.data`` by default),
as the HTTP gateway's page does (desk/trace_view.py). With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set the desk
writes no span files: its traces are in that backend, which has the better viewer.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from desk.config import Settings
from desk.trace_view import (
    DEFAULT_LIMIT,
    Row,
    TicketTrace,
    TraceWaterfall,
    duration_text,
    left_out_text,
    row_label,
    ticket_trace,
)

INDENT = "  "


def register(sub: Any) -> None:
    trace = sub.add_parser(
        "trace", help="one ticket's traces as waterfalls (from the running desk's span files)"
    )
    trace.add_argument("ticket_id", help="the ticket's id")
    trace.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"rows shown at most (default {DEFAULT_LIMIT})"
    )
    trace.set_defaults(entry=trace_command)


def trace_command(args: argparse.Namespace, settings: Settings) -> int:
    view = ticket_trace(settings.span_dir, args.ticket_id, limit=args.limit)
    if not view.traces:
        raise SystemExit(_nothing_found(settings, args.ticket_id))
    for line in render(view):
        print(line)
    return 0


def _nothing_found(settings: Settings, ticket_id: str) -> str:
    if settings.otlp_endpoint:
        return (
            f"no spans of ticket {ticket_id} in {settings.span_dir}: this desk sends its spans to"
            f" {settings.otlp_endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT); look the ticket up there by its"
            " helpdesk.ticket_id attribute"
        )
    return (
        f"no spans of ticket {ticket_id} in {settings.span_dir}: no such ticket, or its spans are older than"
        " the span files keep (HELPDESK_DATA_DIR names the desk's data dir)"
    )


def render(view: TicketTrace) -> list[str]:
    """The waterfalls as text: a header per trace, then a line per row, children indented."""
    lines = [f"ticket {view.ticket_id}: {len(view.traces)} traces shown, {view.span_count} spans"]
    for waterfall in view.traces:
        lines += ["", _header(waterfall)]
        lines += [_line(row) for row in waterfall.rows]
    left_out = left_out_text(view, option="--limit")
    if left_out:
        lines += ["", left_out]
    return lines


def _header(waterfall: TraceWaterfall) -> str:
    began = datetime.fromtimestamp(waterfall.start_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return (
        f"trace {waterfall.trace_id.removeprefix('0x')}  {began} UTC  {waterfall.span_count} spans"
        f"  over {duration_text(waterfall.duration_ns)}"
    )


def _line(row: Row) -> str:
    offset = "+" + duration_text(row.offset_ns)
    return (
        f"{offset:>11} {duration_text(row.duration_ns):>10}  {row.status:<5}  {row.service:<20} "
        f"{INDENT * row.depth}{row_label(row)}"
    )
