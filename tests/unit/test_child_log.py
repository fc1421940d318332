"""A child's log rotates within its caps, and its last lines reach the log however fast it dies."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from deploy.child_log import RotatingLog
from deploy.processes import ChildProcess, ChildSpec, StartupFailed, wait_ready
from desk.config import FileLimits

LIMITS = FileLimits(max_bytes=8192, files_kept=2, max_age_seconds=3600)


def _child(tmp_path: Path, program: str) -> ChildProcess:
    spec = ChildSpec(
        name="chatty",
        argv=[sys.executable, "-c", program],
        log_path=tmp_path / "logs" / "chatty.log",
        cwd=tmp_path,
        log_limits=LIMITS,
    )
    return ChildProcess(spec, tmp_path / "run")


def _logs(tmp_path: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((tmp_path / "logs").iterdir())}


async def test_a_childs_log_is_capped_in_size_and_files(tmp_path: Path) -> None:
    # ~1 MB of output, far past the caps: the log and two rotated files of 8 KiB at most are kept.
    child = _child(tmp_path, "for n in range(10_000): print(f'line {n:05d} ' + 'x' * 90)")
    await child.start()
    assert await child.wait() == 0

    logs = _logs(tmp_path)
    assert set(logs) == {"chatty.log", "chatty.log.1", "chatty.log.2"}
    assert all(len(text) <= LIMITS.max_bytes for text in logs.values())
    assert all(text.endswith(b"\n") for text in logs.values())  # rotated between lines
    assert logs["chatty.log"].endswith(b"line 09999 " + b"x" * 90 + b"\n")  # the newest lines are kept
    assert b"line 00000" not in b"".join(logs.values())
    await child.stop()


async def test_a_crashing_childs_last_lines_are_shown_when_it_fails_to_start(tmp_path: Path) -> None:
    # More than a pipe holds, written just before it dies.
    child = _child(tmp_path, "import sys\nfor n in range(100_000): print(n)\nsys.exit('cannot bind 4242')")
    await child.start()

    async def never() -> bool:
        return False

    with pytest.raises(StartupFailed) as failed:
        await wait_ready(child, never, within=30)
    assert failed.value.log_tail.splitlines()[-2:] == ["99999", "cannot bind 4242"]
    await child.stop()


async def test_a_restart_starts_after_the_last_runs_lines(tmp_path: Path) -> None:
    program = (
        "import pathlib; runs = pathlib.Path('runs'); "
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x'); "
        "print(f'run {len(runs.read_text())}')"
    )
    child = _child(tmp_path, program)
    await child.start()
    await child.wait()
    await child.start()
    await child.wait()
    assert child.log_tail() == "run 2"  # this run's lines only: its mark comes after the last run's lines
    await child.stop()


def test_a_log_left_bigger_than_the_cap_is_rotated_at_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "intake.log"
    old = b"x" * (LIMITS.max_bytes + 5) + b"\n"  # from before there were caps, or a lower cap
    path.write_bytes(old)
    log = RotatingLog(path, LIMITS)
    log.write(b"first line\nsecond line\n")
    log.close()
    assert path.read_bytes() == b"first line\nsecond line\n"
    assert log.rotated(1).read_bytes() == old  # kept whole, rotated: deleted in its turn


def test_rotated_logs_past_the_age_are_deleted(tmp_path: Path) -> None:
    log = RotatingLog(tmp_path / "nats.log", LIMITS)
    old = log.rotated(2)
    old.write_bytes(b"from a week ago\n")
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(old, (week_ago, week_ago))
    beyond = log.rotated(3)  # kept when more files were kept
    beyond.write_bytes(b"older still\n")

    log.write(b"hello\n")
    log.close()

    assert not old.exists() and not beyond.exists()
    assert (tmp_path / "nats.log").read_bytes() == b"hello\n"
