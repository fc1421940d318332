"""The processes under `helpdesk up`, kept running: the desk's own and the embedded backing servers.

A process that dies while the desk is up is started again, after a backoff that grows while it keeps
dying young, so a crash loop does not spin the machine; every new pid is reported so endpoints.json
always names the processes that run now. The desk's own processes (one per service, the HTTP gateway,
the workflow workers) are spawned and stopped here; an embedded PostgreSQL, NATS or Temporal is
started and stopped by the stack (deploy/stack.py) and only watched here: it is restarted with its own
`start`, which also waits until it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from deploy.processes import ChildProcess, ChildSpec
from desk.loops import describe

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.2  # before the second restart in a row; the first one is immediate
MAX_BACKOFF_SECONDS = 10.0
HEALTHY_AFTER_SECONDS = 30.0
"""A process that ran this long before dying is restarted at once, as if it never failed before."""


class Supervisor:
    def __init__(
        self, specs: Sequence[ChildSpec], run_dir: Path, on_spawn: Callable[[str, int], None]
    ) -> None:
        self.children = {spec.name: ChildProcess(spec, run_dir) for spec in specs}
        self._on_spawn = on_spawn
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._spawning = asyncio.Lock()  # a stop never cuts a spawn in half, which could leak a process

    def pids(self) -> dict[str, int]:
        return {name: child.pid for name, child in self.children.items() if child.pid is not None}

    async def start(self) -> None:
        """Spawn every process once. Until `supervise`, a death is a startup failure, not restarted."""
        for child in self.children.values():
            await child.start()
            self._report(child)

    def supervise(self) -> None:
        """Restart the desk's processes from now on."""
        self._watchers += [
            asyncio.create_task(self._keep_running(child, self._respawn(child)))
            for child in self.children.values()
        ]

    def watch(self, child: ChildProcess, start: Callable[[], Awaitable[None]]) -> None:
        """Restart a process started elsewhere (a backing server) with `start` whenever it dies.

        Its stop stays with whoever started it: :meth:`stop` ends the watching, and a restart then
        under way, which the starter's stop then ends too.
        """
        self._report(child)
        self._watchers.append(asyncio.create_task(self._keep_running(child, start)))

    async def stop(self, order: Iterable[Sequence[str]]) -> None:
        """Stop the named groups one after another, each group's members in parallel; the rest last."""
        async with self._spawning:
            self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        remaining = dict(self.children)
        for group in [*order, list(self.children)]:
            batch = [remaining.pop(name) for name in group if name in remaining]
            await asyncio.gather(*(child.stop() for child in batch))

    def _respawn(self, child: ChildProcess) -> Callable[[], Awaitable[None]]:
        async def respawn() -> None:
            async with self._spawning:  # a stop never cuts a spawn in half, which could leak a process
                if not self._stopping:
                    await child.start()

        return respawn

    async def _keep_running(self, child: ChildProcess, start: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            code = await child.wait()
            if self._stopping:
                return
            lived = time.time() - child.started_at
            failures = 0 if lived >= HEALTHY_AFTER_SECONDS else failures + 1
            delay = _backoff(failures)
            log.warning(
                "%s (pid %s) exited with code %d after %.1f s; restarting in %.1f s (log: %s)",
                child.name, child.pid, code, lived, delay, child.spec.log_path,
            )  # fmt: skip
            await asyncio.sleep(delay)
            if self._stopping:
                return
            try:
                await start()
            except Exception as error:  # it did not come up (its log says why): the next round retries
                log.warning("%s did not start again: %s", child.name, describe(error))
                await child.stop()
            if child.pid is not None:
                self._report(child)

    def _report(self, child: ChildProcess) -> None:
        assert child.pid is not None
        self._on_spawn(child.name, child.pid)


def _backoff(failures: int) -> float:
    """Seconds before a restart, after `failures` deaths in a row of a process that died young."""
    if failures <= 1:
        return 0.0
    return min(FIRST_BACKOFF_SECONDS * 2.0 ** (failures - 2), MAX_BACKOFF_SECONDS)
