"""Everything the desk writes under its data dir is owner-only (0600 files in 0700 directories), even
under a permissive umask, and a file an older desk left readable is tightened when next opened."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.child_log import RotatingLog
from desk.config import FileLimits
from desk.private_files import restrict_tree
from desk.span_files import SpanFiles

LIMITS = FileLimits(max_bytes=64, files_kept=2, max_age_seconds=3600)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """As a process that did not set the desk's umask: its own modes must hold by themselves."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_childs_log_and_its_rotations_are_owner_only(tmp_path: Path) -> None:
    log = RotatingLog(tmp_path / "data" / "logs" / "intake.log", LIMITS)
    for _ in range(5):
        log.write(b"a line of forty characters, more or les\n")
    log.close()
    assert mode(tmp_path / "data") == mode(tmp_path / "data" / "logs") == 0o700
    files = sorted((tmp_path / "data" / "logs").iterdir())
    assert [f.name for f in files] == ["intake.log", "intake.log.1", "intake.log.2"]
    assert {mode(f) for f in files} == {0o600}


def test_a_log_left_readable_by_an_older_desk_is_tightened(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir(mode=0o755)
    old = tmp_path / "logs" / "nats.log"
    old.write_bytes(b"from before\n")
    old.chmod(0o644)
    log = RotatingLog(old, LIMITS)
    log.write(b"now\n")
    log.close()
    assert (mode(tmp_path / "logs"), mode(old)) == (0o700, 0o600)
    assert old.read_bytes() == b"from before\nnow\n"


def test_span_files_are_owner_only(tmp_path: Path) -> None:
    spans = SpanFiles(tmp_path / "spans", "intake-1", LIMITS)
    spans.write(['{"span": 1, "padding": "................................"}\n'] * 3)
    spans.close()
    assert mode(tmp_path / "spans") == 0o700
    files = list((tmp_path / "spans").iterdir())
    assert len(files) == 3 and {mode(f) for f in files} == {0o600}


def test_the_tree_is_tightened_except_what_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "nats" / "jetstream").mkdir(parents=True, mode=0o755)
    (tmp_path / "nats" / "jetstream" / "msgs.blk").write_bytes(b"")
    (tmp_path / "endpoints.json").write_text("{}")
    (tmp_path / "postgres").mkdir(mode=0o750)
    (tmp_path / "postgres" / "PG_VERSION").write_text("17")
    (tmp_path / "postgres" / "PG_VERSION").chmod(0o640)
    restrict_tree(tmp_path, leave=[tmp_path / "postgres"])
    assert mode(tmp_path / "nats") == mode(tmp_path / "nats" / "jetstream") == 0o700
    assert mode(tmp_path / "nats" / "jetstream" / "msgs.blk") == mode(tmp_path / "endpoints.json") == 0o600
    assert (mode(tmp_path / "postgres"), mode(tmp_path / "postgres" / "PG_VERSION")) == (0o750, 0o640)
