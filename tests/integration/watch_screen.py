"""What `helpdesk ops watch` prints, read line by line, and its keyboard: for the tests that run it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class WatchScreen:
    """What `helpdesk ops watch` prints, read line by line, and its keyboard."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None and process.stdin is not None
        self._process, self._stdout, self._stdin = process, process.stdout, process.stdin
        self.lines: list[str] = []

    async def line(self, wanted: Callable[[str], bool], *, within: float = 30.0) -> str:
        """The first line printed (so far or from now on) that is `wanted`: events and answers interleave."""
        if found := next((line for line in self.lines if wanted(line)), None):
            return found
        try:
            async with asyncio.timeout(within):
                while raw := await self._stdout.readline():
                    self.lines.append(raw.decode().rstrip("\n"))
                    if wanted(self.lines[-1]):
                        return self.lines[-1]
        except TimeoutError:
            pass
        errors = await self._errors()
        raise AssertionError("ops watch printed:\n" + "\n".join(self.lines) + "\nand on stderr:\n" + errors)

    async def type(self, command: str) -> None:
        self._stdin.write(command.encode() + b"\n")
        await self._stdin.drain()

    async def quit(self) -> int:
        """Type quit; the exit status it leaves with."""
        await self.type("quit")
        return await asyncio.wait_for(self._process.wait(), 15)

    async def close(self) -> None:
        """Kill it if it is still running (a test that failed half-way)."""
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

    async def _errors(self) -> str:
        if self._process.returncode is None or self._process.stderr is None:
            return "(still running)"
        return (await self._process.stderr.read()).decode(errors="replace")
