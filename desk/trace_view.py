"""One ticket's traces read back from the span files, as waterfalls (pure but for reading the files).

A ticket's life is many traces over days: each RPC about it is one, and the workflow's own spans hang
in the trace of the call that started it. :func:`ticket_trace` finds the traces holding a span that
says the ticket (``helpdesk.ticket_id``, :mod:`desk.ticket_spans`), then takes every span of those
traces, from every process's open file and the files it rotated (:mod:`desk.span_files`); a file
rotated or swept away while being read is skipped, a half-written line too.

Each trace becomes rows in tree order: a span under its parent, siblings by start time, a span whose
parent is not on disk (rotated away, or never flushed by a process killed) a root of its own. A ticket
can have thousands of spans (a long life, an outage's repeated SQL), so runs of like siblings beyond
:data:`KEEP_REPEATS` fold into one row, and rows past ``limit`` are left out; both are counted, so a
reader is told what was not shown. The command line (`helpdesk trace`) and the HTTP gateway's page
render the same rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk.span_files import SUFFIX
from desk.ticket_spans import TICKET_ID

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 400
"""Rows shown at most unless asked for more: a screenful of traces, not a ticket's whole history."""

KEEP_REPEATS = 3
"""Like siblings (same service and operation) shown one by one; the rest of the run fold into a row."""

_TRACE_ID_KEY = '"trace_id": "'
_STATEMENT_KEYS = ("db.query.text", "db.statement")  # OpenTelemetry's SQL text, new name and old
STATEMENT_SHOWN = 72
"""Characters of a SQL span's statement shown beside its operation (bind parameters, never values)."""


@dataclass(frozen=True)
class SpanRecord:
    """One finished span as a process's JsonLinesSpanExporter wrote it."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str
    detail: str = ""  # what the name leaves out: a SQL span's statement, shortened

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


@dataclass(frozen=True)
class Row:
    """One line of a waterfall: a span, or a run of like siblings folded into one (``folded`` > 0)."""

    depth: int
    service: str
    name: str
    offset_ns: int  # from the trace's first span
    duration_ns: int  # a folded run: from the first one's start to the last one's end
    status: str  # a folded run: ERROR if any of them failed
    detail: str = ""
    orphan: bool = False  # its parent is not in the span files
    folded: int = 0  # the spans this row stands for, counting their descendants


@dataclass
class TraceWaterfall:
    trace_id: str
    start_ns: int
    duration_ns: int
    span_count: int
    rows: list[Row]


@dataclass
class TicketTrace:
    ticket_id: str
    traces: list[TraceWaterfall] = field(default_factory=list)
    spans_left_out: int = 0  # past the limit
    traces_left_out: int = 0  # past the limit, with none of their spans shown

    @property
    def span_count(self) -> int:
        return sum(t.span_count for t in self.traces)


def ticket_trace(span_dir: Path, ticket_id: str, *, limit: int = DEFAULT_LIMIT) -> TicketTrace:
    """The ticket's traces, oldest first, from the span files under `span_dir`."""
    files = span_files(span_dir)
    saying = _records(files, lambda line: ticket_id in line)
    trace_ids = {span.trace_id for span, attributes in saying if attributes.get(TICKET_ID) == ticket_id}
    spans = _records(files, lambda line: _trace_id_in(line) in trace_ids)
    return build(ticket_id, (span for span, _ in spans), limit=limit)


def span_files(span_dir: Path) -> list[Path]:
    return sorted(span_dir.glob(f"*{SUFFIX}")) if span_dir.is_dir() else []


def build(ticket_id: str, spans: Iterable[SpanRecord], *, limit: int = DEFAULT_LIMIT) -> TicketTrace:
    """The waterfalls of these spans, grouped by trace, the traces in time order, at most `limit` rows."""
    by_trace: dict[str, dict[str, SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, {})[span.span_id] = span  # a span written twice counts once
    waterfalls = sorted((_waterfall(tid, by_id) for tid, by_id in by_trace.items()), key=lambda w: w.start_ns)
    return _bounded(ticket_id, waterfalls, limit)


def _bounded(ticket_id: str, waterfalls: list[TraceWaterfall], limit: int) -> TicketTrace:
    shown = TicketTrace(ticket_id)
    room = max(limit, 0)
    for waterfall in waterfalls:
        if room == 0:
            shown.traces_left_out += 1
            shown.spans_left_out += waterfall.span_count
            continue
        kept, dropped = waterfall.rows[:room], waterfall.rows[room:]
        shown.spans_left_out += sum(max(row.folded, 1) for row in dropped)
        room -= len(kept)
        waterfall.rows = kept
        shown.traces.append(waterfall)
    return shown


# --- one trace ---


def _waterfall(trace_id: str, by_id: dict[str, SpanRecord]) -> TraceWaterfall:
    children: dict[str, list[SpanRecord]] = {}
    roots: list[SpanRecord] = []
    for span in by_id.values():
        if span.parent_id and span.parent_id in by_id and span.parent_id != span.span_id:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)
    start = min(s.start_ns for s in by_id.values())
    end = max(s.end_ns for s in by_id.values())
    walk = _Walk(children, start)
    walk.rows_of(_in_order(roots), 0)
    # Only a loop of parent ids in a damaged file leaves spans unreached: shown from where it closes.
    while unreached := [s for s in by_id.values() if s.span_id not in walk.seen]:
        walk.rows_of(_in_order(unreached)[:1], 0)
    return TraceWaterfall(trace_id, start, max(0, end - start), len(by_id), walk.rows)


def _in_order(spans: list[SpanRecord]) -> list[SpanRecord]:
    return sorted(spans, key=lambda s: (s.start_ns, s.end_ns, s.span_id))


class _Walk:
    """The rows of one trace's tree, depth first, folding runs of like siblings."""

    def __init__(self, children: dict[str, list[SpanRecord]], start_ns: int) -> None:
        self._children = children
        self._start = start_ns
        self.seen: set[str] = set()
        self.rows: list[Row] = []

    def rows_of(self, siblings: list[SpanRecord], depth: int) -> None:
        for run in _runs(siblings):
            for span in run[:KEEP_REPEATS]:
                if span.span_id in self.seen:  # a loop of parent ids in a damaged file: shown once
                    continue
                self.seen.add(span.span_id)
                orphan = depth == 0 and span.parent_id is not None
                self.rows.append(_row(span, depth, self._start, orphan=orphan))
                self.rows_of(_in_order(self._children.get(span.span_id, [])), depth + 1)
            if len(run) > KEEP_REPEATS:
                self.rows.append(self._folded(run[KEEP_REPEATS:], depth))

    def _folded(self, run: list[SpanRecord], depth: int) -> Row:
        first, last_end = run[0], max(s.end_ns for s in run)
        status = "ERROR" if any(s.status == "ERROR" for s in run) else first.status
        folded = set()
        for span in run:
            folded |= _subtree(span, self._children)
        self.seen |= folded
        return Row(depth, first.service, first.name, first.start_ns - self._start,
                   last_end - first.start_ns, status, folded=len(folded))  # fmt: skip


def _runs(siblings: list[SpanRecord]) -> Iterator[list[SpanRecord]]:
    """Consecutive siblings of the same service and operation, as lists."""
    run: list[SpanRecord] = []
    for span in siblings:
        if run and (span.service, span.name) != (run[0].service, run[0].name):
            yield run
            run = []
        run.append(span)
    if run:
        yield run


def _row(span: SpanRecord, depth: int, start: int, *, orphan: bool) -> Row:
    offset = span.start_ns - start
    return Row(depth, span.service, span.name, offset, span.duration_ns, span.status, span.detail, orphan)


def _subtree(span: SpanRecord, children: dict[str, list[SpanRecord]]) -> set[str]:
    """The ids of the span and all below it."""
    found: set[str] = set()
    todo = [span]
    while todo:
        current = todo.pop()
        if current.span_id not in found:
            found.add(current.span_id)
            todo.extend(children.get(current.span_id, []))
    return found


# --- reading the files ---


def _records(files: list[Path], wanted: Callable[[str], bool]) -> list[tuple[SpanRecord, dict[str, Any]]]:
    """The spans on lines `wanted(line)` accepts (a cheap test before parsing), with their attributes."""
    found = []
    for path in files:
        for line in _lines(path):
            if wanted(line):
                record = _parsed(line)
                if record is not None:
                    found.append(record)
    return found


def _lines(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            yield from file
    except FileNotFoundError:  # rotated away or swept between the listing and the read
        return


def _parsed(line: str) -> tuple[SpanRecord, dict[str, Any]] | None:
    try:
        raw = json.loads(line)
        span = SpanRecord(
            trace_id=raw["context"]["trace_id"],
            span_id=raw["context"]["span_id"],
            parent_id=raw.get("parent_id"),
            name=str(raw["name"]),
            service=str(raw.get("service", "")),
            start_ns=int(raw["start_time"]),
            end_ns=int(raw.get("end_time") or raw["start_time"]),
            status=str(raw.get("status", "UNSET")),
            detail=_statement(raw.get("attributes") or {}),
        )
    except (ValueError, KeyError, TypeError, AttributeError):  # a line being written, or not a span
        return None
    return span, raw.get("attributes") or {}


def _statement(attributes: dict[str, Any]) -> str:
    text = next((str(attributes[key]) for key in _STATEMENT_KEYS if attributes.get(key)), "")
    text = " ".join(text.split())
    return text if len(text) <= STATEMENT_SHOWN else text[: STATEMENT_SHOWN - 1] + "…"


def _trace_id_in(line: str) -> str:
    """The trace id of a span's line without parsing it (the exporter writes the context first)."""
    at = line.find(_TRACE_ID_KEY)
    if at < 0:
        return ""
    begin = at + len(_TRACE_ID_KEY)
    return line[begin : line.find('"', begin)]


# --- text ---


def duration_text(ns: int) -> str:
    """A duration a person reads at a glance: 0.42 ms, 12.3 ms, 1.24 s, 5m 03s, 2h 05m, 3d 04h."""
    seconds = ns / 1e9
    if seconds < 0.001:
        return f"{ns / 1e6:.2f} ms"
    if seconds < 1:
        return f"{ns / 1e6:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def row_label(row: Row) -> str:
    """The operation, with what a reader must know about the row: folded, or without its parent."""
    name = f"{row.name}: {row.detail}" if row.detail and row.detail != row.name else row.name
    if row.folded:
        return f"{row.name} … and {row.folded} more like it"
    return f"{name} (parent not found)" if row.orphan else name


def left_out_text(view: TicketTrace, *, option: str) -> str:
    """What the limit left out, and how to see it; empty when nothing was."""
    if not view.spans_left_out:
        return ""
    traces = f" (and {view.traces_left_out} later traces whole)" if view.traces_left_out else ""
    return f"{view.spans_left_out} more spans not shown{traces}: raise {option} to see them"
