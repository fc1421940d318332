"""`GET /v1/tickets/{ticket_id}/trace`: one ticket's traces as a page, for the desk's SREs.

The gateway reads the span files of its own data dir (desk/trace_view.py, the same rows as
`helpdesk trace`), which is where the embedded desk writes them; a desk exporting to an OTLP backend
writes none, and that backend's UI is the place to look. Unlike the gateway's other routes this one is
answered by the gateway itself, so it checks the bearer token itself, against the desk's tokens
(desk/auth.py): SREs, managers and admins may read traces. Spans carry ids, operations
and SQL text, never customer data (desk/ticket_spans.py), but they map the desk's inside, hence the
role. The page is self-contained like the report pages: every text escaped, no script, nothing fetched.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Protocol

from desk.auth import TRACE_READERS, Principal
from desk.errors import PermissionDenied, Unauthenticated
from desk.report_format import page
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
from services.http.errors import HttpError, unauthenticated

MAX_LIMIT = 5000

_STYLE = """
.wf{border-collapse:collapse;font-size:.85rem;width:100%}.wf td{padding:.1rem .5rem;white-space:nowrap;
border-bottom:1px solid #eef1f5}.wf td.op{width:100%}
.wf td.t{text-align:right;font-variant-numeric:tabular-nums}
.bar{position:relative;height:.7rem;width:16rem;background:#f4f6f9}.bar span{position:absolute;top:0;
height:.7rem;min-width:1px;background:#4a78c2}.ERROR .bar span{background:#c8453b}.ERROR td{color:#a3261b}
.note{color:#5b6475;font-style:italic}
"""


class Authenticator(Protocol):
    """desk.auth.TokenAuthenticator's one method the pages use."""

    async def authenticate(self, authorization: str | None) -> Principal: ...


class TracePages:
    """Reads and renders the trace page for an authorised caller."""

    def __init__(self, span_dir: Path, authenticator: Authenticator) -> None:
        self._span_dir = span_dir
        self._authenticator = authenticator

    async def page(self, ticket_id: str, token: str | None, *, limit: int = DEFAULT_LIMIT) -> str:
        try:
            principal = await self._authenticator.authenticate(f"Bearer {token}" if token else None)
            principal.require_any(TRACE_READERS)
        except Unauthenticated as refused:
            raise unauthenticated(str(refused)) from None
        except PermissionDenied as refused:
            raise HttpError(403, "PERMISSION_DENIED", str(refused)) from None
        bounded = min(max(limit, 1), MAX_LIMIT)
        # Reading the files takes a while for a busy desk: not on the event loop.
        view = await asyncio.to_thread(ticket_trace, self._span_dir, ticket_id, limit=bounded)
        return trace_html(view, self._span_dir)


def trace_html(view: TicketTrace, span_dir: Path) -> str:
    body = [f"<h1>Ticket {escape(view.ticket_id)} <span class='sub'>traces</span></h1>"]
    if not view.traces:
        body.append(
            f'<p class="empty">No spans of this ticket in {escape(str(span_dir))}: no such ticket, its spans'
            " are older than the span files keep, or this desk sends its spans to an OTLP backend"
            " (OTEL_EXPORTER_OTLP_ENDPOINT), whose UI shows them.</p>"
        )
    else:
        body.append(f'<p class="sub">{len(view.traces)} traces, {view.span_count} spans, oldest first.</p>')
    for waterfall in view.traces:
        body += [_header(waterfall), _table(waterfall)]
    left_out = left_out_text(view, option="the limit (?limit=)")
    if left_out:
        body.append(f'<p class="note">{escape(left_out)}</p>')
    return page(f"Ticket {view.ticket_id}: traces", body, style=_STYLE)


def _header(waterfall: TraceWaterfall) -> str:
    began = datetime.fromtimestamp(waterfall.start_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    trace_id = waterfall.trace_id.removeprefix("0x")
    return (
        f"<h2>Trace <code>{escape(trace_id)}</code></h2><p class='sub'>{escape(began)} · "
        f"{waterfall.span_count} spans over {escape(duration_text(waterfall.duration_ns))}</p>"
    )


def _table(waterfall: TraceWaterfall) -> str:
    head = "".join(
        f'<th scope="col">{name}</th>' for name in ("service", "operation", "start", "duration", "status", "")
    )
    rows = "".join(_row(row, waterfall.duration_ns) for row in waterfall.rows)
    return f'<table class="wf"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _row(row: Row, total_ns: int) -> str:
    span = max(total_ns, 1)
    left, width = 100 * row.offset_ns / span, 100 * row.duration_ns / span
    indent = f"{1.2 * row.depth:.1f}rem"
    status = row.status if row.status in ("OK", "ERROR", "UNSET") else "UNSET"
    return (
        f'<tr class="{status}"><td>{escape(row.service)}</td>'
        f'<td class="op" style="padding-left:{indent}">{escape(row_label(row))}</td>'
        f'<td class="t">+{escape(duration_text(row.offset_ns))}</td>'
        f'<td class="t">{escape(duration_text(row.duration_ns))}</td><td>{escape(row.status)}</td>'
        f'<td><div class="bar"><span style="left:{left:.2f}%;width:{width:.2f}%"></span></div></td></tr>'
    )
