"""Waterfalls from span files: the tree, the order, missing parents, rotated files, folding and the limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli.trace import render
from desk.ticket_spans import TICKET_ID
from desk.trace_view import KEEP_REPEATS, Row, build, duration_text, ticket_trace

MS = 1_000_000
T0 = 1_780_000_000 * 1_000_000_000  # a start time in ns; offsets are what matter


def span(
    name: str,
    span_id: str,
    *,
    trace: str = "0xaa",
    parent: str | None = None,
    start_ms: float = 0,
    ms: float = 1,
    service: str = "helpdesk-intake",
    status: str = "UNSET",
    ticket: str | None = None,
) -> dict[str, Any]:
    start = T0 + int(start_ms * MS)
    return {
        "name": name,
        "context": {"trace_id": trace, "span_id": span_id},
        "parent_id": parent,
        "kind": "INTERNAL",
        "start_time": start,
        "end_time": start + int(ms * MS),
        "status": status,
        "attributes": {TICKET_ID: ticket} if ticket else {},
        "service": service,
    }


def write(path: Path, *spans: dict[str, Any], tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(s) + "\n" for s in spans) + tail)


def shape(rows: list[Row]) -> list[tuple[int, str]]:
    return [(row.depth, row.name) for row in rows]


def test_children_sit_under_their_parents_and_siblings_go_by_start(tmp_path: Path) -> None:
    write(
        tmp_path / "intake-1.jsonl",
        span("rpc", "0x1", start_ms=0, ms=50, ticket="T1"),
        span("second", "0x3", parent="0x1", start_ms=20),
        span("first", "0x2", parent="0x1", start_ms=10),
        span("inside first", "0x4", parent="0x2", start_ms=11),
    )
    [trace] = ticket_trace(tmp_path, "T1").traces
    assert shape(trace.rows) == [(0, "rpc"), (1, "first"), (2, "inside first"), (1, "second")]
    assert [row.offset_ns for row in trace.rows] == [0, 10 * MS, 11 * MS, 20 * MS]
    assert trace.rows[0].duration_ns == 50 * MS and trace.span_count == 4


def test_every_span_of_the_ticket_s_traces_and_no_other_trace(tmp_path: Path) -> None:
    write(
        tmp_path / "intake-1.jsonl",
        span("rpc", "0x1", trace="0xaa", ticket="T1"),
        span("sql without the id", "0x2", trace="0xaa", parent="0x1"),
        span("another ticket", "0x9", trace="0xbb", ticket="T2"),
        span("T1 but in another's attribute", "0x8", trace="0xcc", ticket="T10"),
    )
    view = ticket_trace(tmp_path, "T1")
    assert [t.trace_id for t in view.traces] == ["0xaa"]
    assert shape(view.traces[0].rows) == [(0, "rpc"), (1, "sql without the id")]


def test_traces_in_time_order_each_from_its_own_start(tmp_path: Path) -> None:
    write(
        tmp_path / "intake-1.jsonl",
        span("later call", "0x5", trace="0xbb", start_ms=90_000, ticket="T1"),
        span("create", "0x1", trace="0xaa", start_ms=0, ticket="T1"),
    )
    view = ticket_trace(tmp_path, "T1")
    assert [t.rows[0].name for t in view.traces] == ["create", "later call"]
    assert view.traces[1].rows[0].offset_ns == 0


def test_spans_from_rotated_files_and_every_process_join_one_tree(tmp_path: Path) -> None:
    write(tmp_path / "intake-7.1.jsonl", span("rpc", "0x1", ms=40, ticket="T1"))  # rotated
    write(tmp_path / "intake-7.jsonl", span("sql", "0x2", parent="0x1", start_ms=5))
    write(
        tmp_path / "worker-9.jsonl",
        span("RunActivity", "0x3", parent="0x1", start_ms=10, service="helpdesk-worker"),
        tail='{"name": "half a li',  # the line the worker is writing now
    )
    [trace] = ticket_trace(tmp_path, "T1").traces
    assert shape(trace.rows) == [(0, "rpc"), (1, "sql"), (1, "RunActivity")]
    assert trace.rows[2].service == "helpdesk-worker"


def test_a_span_whose_parent_is_gone_is_a_root_and_says_so(tmp_path: Path) -> None:
    write(
        tmp_path / "worker-1.jsonl",
        span("rpc", "0x1", start_ms=0, ticket="T1"),
        span("orphan", "0x2", parent="0xdead", start_ms=3),
        span("its child", "0x3", parent="0x2", start_ms=4),
    )
    [trace] = ticket_trace(tmp_path, "T1").traces
    assert shape(trace.rows) == [(0, "rpc"), (0, "orphan"), (1, "its child")]
    assert [row.orphan for row in trace.rows] == [False, True, False]
    assert render(ticket_trace(tmp_path, "T1"))[4].endswith("orphan (parent not found)")


def test_a_loop_of_parent_ids_does_not_hang() -> None:
    spans = [span("a", "0x1", parent="0x2", ticket="T1"), span("b", "0x2", parent="0x1")]
    rows = build("T1", [_record(s) for s in spans]).traces[0].rows
    assert shape(rows) == [(0, "a"), (1, "b")]  # each once, from the earlier one


def test_runs_of_like_siblings_fold_into_one_row_that_counts_them() -> None:
    spans = [span("activity", "0x1", ms=1000, ticket="T1")]
    spans += [span("SELECT", f"0x1{n:03d}", parent="0x1", start_ms=n, status="OK") for n in range(50)]
    spans[-1]["status"] = "ERROR"
    spans.append(span("publish", "0x2", parent="0x1", start_ms=60))
    rows = build("T1", [_record(s) for s in spans]).traces[0].rows
    assert [row.name for row in rows] == ["activity", *["SELECT"] * (KEEP_REPEATS + 1), "publish"]
    folded = rows[KEEP_REPEATS + 1]
    assert folded.folded == 50 - KEEP_REPEATS and folded.status == "ERROR"
    assert folded.offset_ns == KEEP_REPEATS * MS and folded.duration_ns == (49 - KEEP_REPEATS + 1) * MS


def test_the_limit_leaves_out_rows_and_says_how_many(tmp_path: Path) -> None:
    first = [span("a", "0x1", trace="0xaa", ticket="T1"), span("b", "0x2", trace="0xaa", parent="0x1")]
    later = [span(f"c{n}", f"0x{n + 10}", trace="0xbb", start_ms=100 + n, ticket="T1") for n in range(3)]
    write(tmp_path / "intake-1.jsonl", *first, *later)
    view = ticket_trace(tmp_path, "T1", limit=3)
    assert [len(t.rows) for t in view.traces] == [2, 1]
    assert view.spans_left_out == 2 and view.traces_left_out == 0
    assert render(view)[-1] == "2 more spans not shown: raise --limit to see them"
    none_shown = ticket_trace(tmp_path, "T1", limit=2)
    assert none_shown.traces_left_out == 1 and none_shown.spans_left_out == 3


def test_no_span_dir_is_no_trace(tmp_path: Path) -> None:
    assert ticket_trace(tmp_path / "absent", "T1").traces == []


def test_durations_read_at_a_glance() -> None:
    assert duration_text(420_000) == "0.42 ms"
    assert duration_text(12_340_000) == "12.3 ms"
    assert duration_text(1_240_000_000) == "1.24 s"
    assert duration_text(303 * 10**9) == "5m 03s"
    assert duration_text((3 * 86400 + 4 * 3600) * 10**9) == "3d 04h"


def test_the_text_has_a_header_per_trace_and_indents_children(tmp_path: Path) -> None:
    write(
        tmp_path / "intake-1.jsonl",
        span("rpc", "0x1", trace="0x" + "ab" * 16, ms=50, status="OK", ticket="T1"),
        span("sql", "0x2", trace="0x" + "ab" * 16, parent="0x1", start_ms=2, ms=1.5),
    )
    lines = render(ticket_trace(tmp_path, "T1"))
    assert lines[0] == "ticket T1: 1 traces shown, 2 spans"
    assert lines[2].startswith("trace " + "ab" * 16) and "2 spans" in lines[2]
    assert lines[3].split() == ["+0.00", "ms", "50.0", "ms", "OK", "helpdesk-intake", "rpc"]
    assert lines[4].endswith("helpdesk-intake        sql") and "+2.0 ms" in lines[4]


def _record(raw: dict[str, Any]) -> Any:
    from desk.trace_view import _parsed

    parsed = _parsed(json.dumps(raw))
    assert parsed is not None
    return parsed[0]
