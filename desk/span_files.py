"""Span files: one open file per process, rotated at a size; the closed ones kept within a budget.

A process writes ``<name>-<pid>.jsonl``; when the next line would take it past ``max_bytes`` it is
closed as ``<name>-<pid>.<n>.jsonl`` and a new one begun, so every file of spans ends in ``.jsonl``
and a reader globs them all. The directory is shared by every process of the desk, and each restart is
a new pid, so the budget is the directory's: when a process starts and after each rotation, closed
files older than ``max_age_seconds`` are deleted, then all but the newest ``files_kept``. Whether a
file is closed is asked of the file itself: its writer holds an exclusive flock on it while it writes
(the kernel drops the lock when the writer dies), so a file nobody locks was rotated or left by a
process that is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from desk.config import FileLimits
from desk.private_files import open_private_append, private_directory

SUFFIX = ".jsonl"


class SpanFiles:
    """Appends lines to this process's span file, rotating it; not thread-safe (the exporter locks)."""

    def __init__(self, directory: Path, stem: str, limits: FileLimits) -> None:
        private_directory(directory)
        self._directory = directory
        self._stem = stem
        self._limits = limits
        self._rotations = 0
        self._file, self._size = self._open()
        sweep(directory, limits)

    @property
    def path(self) -> Path:
        return self._directory / f"{self._stem}{SUFFIX}"

    def write(self, lines: Sequence[str]) -> None:
        """Each line whole in one file: a file passes `max_bytes` only by a single line longer than that."""
        batch = "".join(lines).encode()
        if self._size + len(batch) <= self._limits.max_bytes:
            self._append(batch)
        else:
            for line in lines:
                data = line.encode()
                if self._size and self._size + len(data) > self._limits.max_bytes:
                    self._rotate()
                self._append(data)
        self._file.flush()

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        self._file.close()

    def _append(self, data: bytes) -> None:
        self._file.write(data)
        self._size += len(data)

    def _open(self) -> tuple[IO[bytes], int]:
        file = open_private_append(self.path)
        fcntl.flock(file, fcntl.LOCK_EX)  # blocks only while a sweeper looks at the new file
        return file, file.seek(0, os.SEEK_END)

    def _rotate(self) -> None:
        self._rotations += 1
        self._file.flush()
        # Renamed while still locked: no sweeper sees it unlocked before it is complete.
        self.path.rename(self._directory / f"{self._stem}.{self._rotations}{SUFFIX}")
        self._file.close()
        self._file, self._size = self._open()
        sweep(self._directory, self._limits)


def sweep(directory: Path, limits: FileLimits, *, now: float | None = None) -> None:
    """Delete closed span files past the age, then all closed ones but the newest `files_kept`."""
    cutoff = (time.time() if now is None else now) - limits.max_age_seconds
    closed = sorted(_closed_files(directory), key=lambda entry: entry[1], reverse=True)
    for rank, (path, modified) in enumerate(closed):
        if rank >= limits.files_kept or modified < cutoff:
            path.unlink(missing_ok=True)


def _closed_files(directory: Path) -> list[tuple[Path, float]]:
    found = []
    for path in directory.glob(f"*{SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):  # another process's sweep got there first
            modified = path.stat().st_mtime
            if not _being_written(path):
                found.append((path, modified))
    return found


def _being_written(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
