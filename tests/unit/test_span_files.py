"""Span files rotate, and the span directory keeps no more than its budget: by count, size and age."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from desk.config import FileLimits
from desk.span_files import SpanFiles

LIMITS = FileLimits(max_bytes=4096, files_kept=3, max_age_seconds=3600)


def _span_lines(first: int, count: int) -> list[str]:
    spans = ({"name": f"span {n}", "padding": "x" * 80} for n in range(first, first + count))
    return [json.dumps(span) + "\n" for span in spans]


def _read(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for path in directory.glob("*.jsonl") for line in path.read_text().splitlines()]


def test_writing_far_more_than_the_budget_keeps_the_newest_files_within_it(tmp_path: Path) -> None:
    intake, worker = SpanFiles(tmp_path, "intake-11", LIMITS), SpanFiles(tmp_path, "worker-12", LIMITS)
    for batch in range(200):  # 200 batches of 5 spans of ~100 bytes each, per process: ~100 KB each
        intake.write(_span_lines(batch * 5, 5))
        worker.write(_span_lines(batch * 5, 5))

    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) <= LIMITS.files_kept + 2  # the closed ones kept, and each process's open file
    assert all(path.stat().st_size <= LIMITS.max_bytes for path in files)
    assert {"intake-11.jsonl", "worker-12.jsonl"} <= {path.name for path in files}
    names = [span["name"] for span in _read(tmp_path)]
    assert names.count("span 999") == 2  # the newest of each process are kept, whole lines only
    assert "span 0" not in names


def test_a_file_left_by_a_process_that_is_gone_is_swept_when_a_process_starts(tmp_path: Path) -> None:
    stale, recent = tmp_path / "stats-7.jsonl", tmp_path / "stats-8.3.jsonl"
    stale.write_text("".join(_span_lines(0, 3)))
    recent.write_text("".join(_span_lines(3, 3)))
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(stale, (week_ago, week_ago))

    SpanFiles(tmp_path, "intake-9", LIMITS)

    assert not stale.exists()  # past the age
    assert recent.exists()  # within age and count


def test_a_file_being_written_is_never_swept_however_old(tmp_path: Path) -> None:
    quiet = SpanFiles(tmp_path, "quality-5", LIMITS)
    quiet.write(_span_lines(0, 1))
    long_ago = time.time() - 30 * 24 * 3600
    os.utime(quiet.path, (long_ago, long_ago))

    busy = SpanFiles(tmp_path, "intake-6", LIMITS)
    for batch in range(100):
        busy.write(_span_lines(batch * 5, 5))  # rotates, and sweeps at each rotation

    quiet.write(_span_lines(1, 1))
    assert [span["name"] for span in map(json.loads, quiet.path.read_text().splitlines())] == [
        "span 0",
        "span 1",
    ]
