"""`helpdesk up`'s supervisor keeps a watched backing server running, also when a restart fails."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from deploy.processes import ChildProcess, ChildSpec, StartupFailed
from deploy.supervisor import Supervisor


async def test_a_watched_server_that_dies_is_started_again_until_it_comes_up(tmp_path: Path) -> None:
    server = ChildProcess(ChildSpec("postgres", ["sleep", "60"], tmp_path / "postgres.log"), tmp_path)
    starts: list[str] = []

    async def start() -> None:  # as EmbeddedPostgres.start: spawn, then wait until it answers
        await server.start()
        starts.append("spawned")
        if len(starts) == 2:  # the first restart does not come up
            raise StartupFailed("postgres", "was not ready after 60 s", server.spec.log_path, "")

    spawned: list[int] = []
    supervisor = Supervisor([], tmp_path, on_spawn=lambda name, pid: spawned.append(pid))
    await start()
    supervisor.watch(server, start)
    try:
        os.kill(spawned[-1], signal.SIGKILL)
        for _ in range(200):
            if len(starts) == 3 and server.returncode is None:
                break
            await asyncio.sleep(0.05)
        assert len(starts) == 3 and server.returncode is None  # the failed restart was tried again
        assert len(set(spawned)) == 3 and spawned[-1] == server.pid  # each pid reported as it came
    finally:
        await supervisor.stop([])
        await server.stop()
