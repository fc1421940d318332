"""An error that repeats is written once per interval, then counted in one line."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from desk.process_logging import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """Scheduled callbacks, run by the test when it says the time has come."""

    def __init__(self) -> None:
        self.due: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay: float, function: Callable[[], None]) -> None:
        self.due.append((delay, function))

    def fire(self) -> None:
        due, self.due = self.due, []
        for _, function in due:
            function()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timers() -> Timers:
    return Timers()


@pytest.fixture
def written(clock: Clock, timers: Timers) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatFilter(handler.handle, 10.0, clock=clock, schedule=timers))
    logger = logging.getLogger(f"test-{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def _fail(logger: logging.Logger, ticket: int) -> None:
    try:
        raise ConnectionError("connection is closed")
    except ConnectionError:
        logger.exception("ticket %s not opened; retrying", ticket)


def _lines(stream: io.StringIO) -> list[str]:
    """The log lines, without the lines of their tracebacks."""
    return [line for line in stream.getvalue().splitlines() if line.startswith(("ERROR", "WARNING"))]


def test_a_thousand_identical_errors_in_an_interval_make_one_line_and_a_count(
    written: tuple[logging.Logger, io.StringIO], clock: Clock, timers: Timers
) -> None:
    logger, stream = written
    for ticket in range(1000):
        _fail(logger, ticket)  # the same template, its argument differing
        clock.now += 0.005
    assert _lines(stream) == ["ERROR " + logger.name + ": ticket 0 not opened; retrying"]
    assert stream.getvalue().count("Traceback") == 1

    assert [delay for delay, _ in timers.due] == [pytest.approx(9.995)]  # due when the interval ends
    timers.fire()
    assert _lines(stream)[1:] == [
        f"ERROR {logger.name}: ticket 999 not opened; retrying (repeated 999 times in the last 10 s)"
    ]
    assert stream.getvalue().count("Traceback") == 1  # the count line carries no traceback


def test_after_the_interval_the_error_is_written_again_after_the_count(
    written: tuple[logging.Logger, io.StringIO], clock: Clock, timers: Timers
) -> None:
    logger, stream = written
    for ticket in range(3):
        _fail(logger, ticket)
    clock.now += 10.0
    _fail(logger, 3)  # before the timer ran: the count still comes first, once
    timers.fire()
    assert _lines(stream) == [
        f"ERROR {logger.name}: ticket 0 not opened; retrying",
        f"ERROR {logger.name}: ticket 2 not opened; retrying (repeated 2 times in the last 10 s)",
        f"ERROR {logger.name}: ticket 3 not opened; retrying",
    ]


def test_other_messages_levels_and_exceptions_are_not_held_back(
    written: tuple[logging.Logger, io.StringIO], timers: Timers
) -> None:
    logger, stream = written
    logger.warning("relay lost its connection (%s)", "a")
    logger.error("relay lost its connection (%s)", "a")
    logger.warning("starter lost its connection (%s)", "a")
    try:
        raise TimeoutError
    except TimeoutError:
        logger.warning("relay lost its connection (%s)", "a", exc_info=True)
    assert len(_lines(stream)) == 4
    assert not timers.due  # nothing was held back, so there is nothing to count


def test_information_lines_are_never_held_back(
    written: tuple[logging.Logger, io.StringIO], timers: Timers
) -> None:
    logger, stream = written
    logger.setLevel(logging.INFO)
    for name in ("intake", "dispatch", "survey"):
        logger.info("%s ready, pid %s", name, 42)
    assert stream.getvalue().splitlines() == [
        f"INFO {logger.name}: {name} ready, pid 42" for name in ("intake", "dispatch", "survey")
    ]
    assert not timers.due


def test_the_count_comes_on_its_own_when_the_errors_stop() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RepeatFilter(handler.handle, 0.1))  # the real timer
    logger = logging.getLogger(f"test-{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(handler)
    for _ in range(50):
        logger.error("NATS unreachable")
    for _ in range(100):
        if "repeated" in stream.getvalue():
            break
        time.sleep(0.05)
    assert stream.getvalue().splitlines() == [
        "NATS unreachable",
        "NATS unreachable (repeated 49 times in the last 0.1 s)",
    ]


def test_every_desk_process_logs_through_the_filter() -> None:
    """What `helpdesk serve` and `helpdesk worker` set up (cli.main), in a process of its own."""
    program = (
        "import logging, sys\n"
        "from desk.process_logging import LogStyle, configure_logging\n"
        "configure_logging('%(levelname)s %(name)s: %(message)s', stream=sys.stderr, repeat_interval=60,\n"
        "                  style=LogStyle('intake', 'text'))\n"
        "for n in range(1000):\n"
        "    logging.getLogger('services.intake.events.relay').warning('events not published yet (%s)', n)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stderr.splitlines() == ["WARNING services.intake.events.relay: events not published yet (0)"]
