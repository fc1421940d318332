"""A child's output: read from a pipe by `helpdesk up` and appended to a log file that rotates.

``<logs>/<name>.log`` is the file being written; when the next lines would take it past ``max_bytes``
it becomes ``<name>.log.1``, the older ones move up (``.2``, ``.3`` …) and the one past ``files_kept``
is deleted, as is any rotated file older than ``max_age_seconds``. `helpdesk up` is the file's only
writer, so rotating is a rename, never a race with a child still appending to the renamed file; and
everything a child writes reaches the file in order: its logging, an uncaught traceback, what
libraries write to stderr themselves (Temporal's core), the servers' own output.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import IO

from desk.config import FileLimits
from desk.private_files import open_private_append, private_directory

CHUNK_BYTES = 65_536


class RotatingLog:
    """One log file and its rotated predecessors; opened at the first write, rotated on the way."""

    def __init__(self, path: Path, limits: FileLimits) -> None:
        self.path = path
        self._limits = limits
        self._file: IO[bytes] | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        """Whole lines per file where they fit: a file is cut mid-line only for a line longer than room."""
        file = self._file or self._open()
        while data:
            room = max(0, self._limits.max_bytes - self._size)  # the file may be a bigger one from before
            if len(data) <= room:
                self._append(file, data)
                return
            fits = data.rfind(b"\n", 0, room) + 1
            if not fits and not self._size:
                fits = room  # one line longer than a whole file
            self._append(file, data[:fits])
            data = data[fits:]
            file = self._rotate(file)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def rotated(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{number}")

    def _append(self, file: IO[bytes], data: bytes) -> None:
        file.write(data)
        self._size += len(data)

    def _open(self) -> IO[bytes]:
        private_directory(self.path.parent)
        self._file = open_private_append(
            self.path, buffering=0
        )  # unbuffered: each chunk on disk at once (`tail -f`)
        self._size = self._file.seek(0, 2)
        self._expire()
        return self._file

    def _rotate(self, file: IO[bytes]) -> IO[bytes]:
        file.close()
        self.rotated(self._limits.files_kept).unlink(missing_ok=True)
        for number in range(self._limits.files_kept - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                self.rotated(number).rename(self.rotated(number + 1))
        self.path.rename(self.rotated(1))
        return self._open()

    def _expire(self) -> None:
        """Rotated files past the age, or past the count (the setting may have been lowered since)."""
        cutoff = time.time() - self._limits.max_age_seconds
        for path in self.path.parent.glob(f"{self.path.name}.*"):
            number = path.name.rpartition(".")[2]
            if not number.isdigit():
                continue
            with contextlib.suppress(FileNotFoundError):
                if int(number) > self._limits.files_kept or path.stat().st_mtime < cutoff:
                    path.unlink()


async def copy_output(stream: asyncio.StreamReader, log: RotatingLog) -> None:
    """Until the pipe ends: when the child and whatever it started with the pipe have exited."""
    while chunk := await stream.read(CHUNK_BYTES):
        log.write(chunk)
