"""What every benchmark entry point shares: a desk of its own in a temporary directory, a clean exit."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

from tests.stack import DeskProcess


@asynccontextmanager
async def bench_desk(settings: Mapping[str, str] | None = None) -> AsyncIterator[tuple[Path, dict[str, Any]]]:
    """`helpdesk up` in a temporary directory for the block: its directory and its endpoints."""
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        desk = DeskProcess(Path(tmp), settings)
        desk.start()
        try:
            yield Path(tmp), await desk.wait_until_up()
        finally:
            if await desk.stop() is None:
                desk.kill()


def run(main: Coroutine[Any, Any, None]) -> NoReturn:
    asyncio.run(main)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # temporalio can abort at interpreter exit (PyGILState_Release); the run is done
