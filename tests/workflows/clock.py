"""A time-skipping test server whose clock starts at a chosen instant.

The server's clock starts at the wall clock's now and only moves forward, so a deadline across a
public holiday that is already past (National Day 2026 seen from November) could not be tested.
Java's in-process test environment has an ``initialTime`` option; the standalone server has none,
so this runs it under libfaketime (``LD_PRELOAD``), built once from the C sources the ``libfaketime``
wheel ships. The workflow only ever sees the server's clock (``workflow.now()``), so nothing else
is faked: workers, activities and the test itself run on the real clock.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import libfaketime  # type: ignore[import-untyped]

BUILD_DIR = Path(__file__).resolve().parents[2] / "build" / "faketime"
LIBRARY = BUILD_DIR / "src" / "libfaketime.so.1"


def faketime_library() -> Path:
    """The preload library, compiled from the wheel's vendored sources on first use (about 5 s)."""
    if not LIBRARY.exists():
        sources = Path(libfaketime.__file__).parent / "vendor" / "libfaketime"
        shutil.rmtree(BUILD_DIR, ignore_errors=True)
        shutil.copytree(sources, BUILD_DIR)
        subprocess.run(["make", "-s", "-C", str(BUILD_DIR / "src")], check=True, capture_output=True)
    return LIBRARY


def server_starting_at(start: datetime, directory: Path) -> Path:
    """A script running the test server with its clock starting at ``start`` (then ticking on)."""
    server = Path(sys.executable).parent / "temporal-test-server"
    at = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    script = directory / "temporal-test-server-at"
    script.write_text(
        "#!/bin/sh\n"
        f'LD_PRELOAD="{faketime_library()}" FAKETIME="@{at}" FAKETIME_DONT_RESET=1 TZ=UTC '
        f'exec "{server}" "$@"\n'
    )
    script.chmod(0o755)
    return script
