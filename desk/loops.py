"""A process's long-running loops: they outlive lost connections, and a loop that dies ends its process.

Intake's event relay and ticket starter run for the life of the process. A backing server that
restarts (PostgreSQL, NATS, Temporal) is an everyday event for them: the loop reports itself down,
waits a growing, jittered pause and connects again; meanwhile the process's gRPC health service
answers NOT_SERVING, so a load balancer, `helpdesk up` or an operator can see it. Anything else a loop
raises is a defect: it is logged and ends the process, whose supervisor starts a fresh one. A loop
never swallows its own cancellation, so a process that is told to stop stops.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import NoReturn

import asyncpg
import nats.errors
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is one): down or restarting
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.InterfaceError,  # "connection is closed", "… was closed in the middle of operation"
    # A pooled connection whose server died mid-query can be left between protocol states: the next
    # query on it fails "cannot switch to state 12; another operation (2) is in progress" (seen when
    # PostgreSQL was SIGKILLed under load: CreateTicket answered INTERNAL instead of UNAVAILABLE).
    asyncpg.InternalClientError,
    asyncpg.OperatorInterventionError,  # 57P0x: the server shuts down, crashed or is starting up
    asyncpg.TooManyConnectionsError,
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
)
"""Errors that say a backing server is not reachable now, rather than that the request was wrong."""

_TEMPORAL_UNREACHABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


def connection_lost(error: BaseException) -> bool:
    """Whether `error` means a backing server (PostgreSQL, NATS, Temporal) is not reachable now."""
    if isinstance(error, RPCError):
        return error.status in _TEMPORAL_UNREACHABLE
    return isinstance(error, CONNECTION_LOST)


def reraise_if_cancelled() -> None:
    """Raise CancelledError if the running task is being cancelled.

    For handlers that catch broad exceptions in a loop: a cancellation can surface as another error
    (a client library's own "cancelled" status), and asyncio.wait_for before Python 3.12 can lose it.
    A loop that caught it and went on would keep its process from ever stopping.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Backoff:
    """Pauses between attempts: doubling from `first` up to `most`, each with ±50 % jitter."""

    def __init__(self, *, first: float = 0.5, most: float = 10.0) -> None:
        self._first = first
        self._most = most
        self._next = first

    def reset(self) -> None:
        self._next = self._first

    def next(self) -> float:
        pause = self._next
        self._next = min(2 * self._next, self._most)
        return pause * random.uniform(0.5, 1.5)


Report = Callable[[str, bool], None]
"""Told each time a loop says it works (True) or is down (False): the process's metrics
(:func:`desk.metrics.report_readiness`)."""


def _report_nothing(name: str, up: bool) -> None:
    pass


class Readiness:
    """Which background loops of a process are down; the process serves while none is.

    The gRPC health service follows it (:func:`desk.process.serve`), and ``report`` is told every
    report, so that a metric shows what health answers.
    """

    def __init__(self, report: Report = _report_nothing) -> None:
        self._down: dict[str, str] = {}
        self._changed = asyncio.Event()
        self._report = report

    @property
    def serving(self) -> bool:
        return not self._down

    @property
    def down_loops(self) -> dict[str, str]:
        """Each loop that is down, with why."""
        return dict(self._down)

    def down(self, loop: str, reason: str) -> None:
        if loop not in self._down:
            log.warning("%s is down: %s", loop, reason)
        self._down[loop] = reason
        self._report(loop, False)
        self._changed.set()

    def up(self, loop: str) -> None:
        self._report(loop, True)
        if self._down.pop(loop, None) is not None:
            log.info("%s is working again", loop)
            self._changed.set()

    async def changed(self) -> bool:
        """Wait for the next change; returns whether the process serves now."""
        await self._changed.wait()
        self._changed.clear()
        return self.serving


Body = Callable[[Callable[[], None]], Awaitable[None]]
"""A loop's body: it calls the function it is given once it works (connected), and runs until it fails."""


async def keep_running(
    name: str, body: Body, readiness: Readiness, *, backoff: Backoff | None = None
) -> NoReturn:
    """Run `body` for ever: again after a lost connection, following a pause; any other error ends it.

    While the body fails to connect the loop counts as down in `readiness`; it is up again as soon as
    the body says it works.
    """
    pauses = backoff or Backoff()

    def working() -> None:
        pauses.reset()
        readiness.up(name)

    while True:
        try:
            await body(working)
        except Exception as error:
            reraise_if_cancelled()
            if not connection_lost(error):
                log.exception("%s failed; the process stops so that its supervisor starts it again", name)
                raise
            readiness.down(name, describe(error))
            await asyncio.sleep(pauses.next())
        else:
            raise RuntimeError(f"{name} returned; it must run until cancelled")


def describe(error: BaseException) -> str:
    """An error for a log line or a status message: what happened, without a stack."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
