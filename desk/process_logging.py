"""How every desk process logs: to a stream, and a line that repeats written once per interval, then counted.

Under `helpdesk up` the stream goes into the process's own log file, which rotates
(deploy/child_log.py), so whatever else the process writes (an uncaught traceback, the lines
Temporal's core writes itself) lands in the same file, in order.

During an outage every retry logs the same error (10 MB of one message in a 16-second database
outage). The first of a kind is written; the same kind again within the interval is only counted;
when the interval ends, one line says how many there were: ``<the last one> (repeated N times in the
last 10 s)``. The next one after that is written again and opens a new interval. A kind is the
logger, the level, the message's template (not its arguments: a ticket id or an attempt number would
make every line new) and the exception's type. Only warnings and errors are held back: an
information line is a milestone (a process ready, a loop working again), never an outage's storm,
and lines of one template with other arguments say different things there.

The filter sits on the root logger's handler, so it sees the records of every logger, the
libraries' too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from desk.log_format import JsonFormatter, TextFormatter, TraceContextFilter

Kind = tuple[str, int, str, str]


@dataclass(frozen=True)
class LogStyle:
    """How a process's lines look: its name on each JSON line, the format (auto, json, text), the level."""

    process: str
    format: str = "auto"
    level: int = logging.INFO


Schedule = Callable[[float, Callable[[], None]], None]
"""Calls the function once after the given seconds."""

_SUMMARY = "_repeat_summary"  # set on the count line so that it passes its own filter
_PRUNE_ABOVE = 512  # kinds remembered before those whose interval has passed are forgotten


def _timer(delay: float, function: Callable[[], None]) -> None:
    timer = threading.Timer(delay, function)
    timer.daemon = True  # a process that stops does not wait to count its repeats
    timer.start()


@dataclass
class _Interval:
    opened_at: float
    repeats: int = 0
    last: logging.LogRecord | None = None


class RepeatFilter(logging.Filter):
    """Drops a record of a kind already written within `interval` seconds; counts it for the summary."""

    def __init__(
        self,
        emit: Callable[[logging.LogRecord], object],
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = _timer,
    ) -> None:
        super().__init__()
        self._emit = emit
        self._interval = interval
        self._clock = clock
        self._schedule = schedule
        self._lock = threading.Lock()
        self._open: dict[Kind, _Interval] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, _SUMMARY, False):
            return True
        kind = _kind(record)
        now = self._clock()
        with self._lock:
            current = self._open.get(kind)
            if current is not None and now - current.opened_at < self._interval:
                self._count(kind, current, record, now)
                return False
            self._prune(now)
            self._open[kind] = _Interval(opened_at=now)
        self._summarise(current)  # its interval ended before its timer fired: the count comes first
        return True

    def _count(self, kind: Kind, interval: _Interval, record: logging.LogRecord, now: float) -> None:
        interval.repeats += 1
        interval.last = record
        if interval.repeats == 1:
            self._schedule(interval.opened_at + self._interval - now, lambda: self._close(kind, interval))

    def _close(self, kind: Kind, interval: _Interval) -> None:
        with self._lock:
            if self._open.get(kind) is not interval:
                return  # a record of the kind after the interval closed it already
            del self._open[kind]
        self._summarise(interval)

    def _summarise(self, interval: _Interval | None) -> None:
        if interval is None or interval.last is None:
            return
        summary = logging.makeLogRecord(interval.last.__dict__)
        repeated = f"repeated {interval.repeats} times in the last {self._interval:g} s"
        summary.msg = f"{interval.last.getMessage()} ({repeated})"
        summary.args, summary.exc_info, summary.exc_text, summary.stack_info = None, None, None, None
        summary.created = time.time()
        summary.msecs = (summary.created - int(summary.created)) * 1000
        setattr(summary, _SUMMARY, True)
        self._emit(summary)

    def _prune(self, now: float) -> None:
        """Forget kinds whose interval passed with nothing to count (those with repeats have a timer)."""
        if len(self._open) <= _PRUNE_ABOVE:
            return
        for kind, interval in list(self._open.items()):
            if not interval.repeats and now - interval.opened_at >= self._interval:
                del self._open[kind]


def _kind(record: logging.LogRecord) -> Kind:
    exception = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return record.name, record.levelno, str(record.msg), exception


def configure_logging(
    text_format: str, *, stream: TextIO, repeat_interval: float | None, style: LogStyle
) -> None:
    """The process's logging, once, by its entry point (`cli.main`); None: every line written.

    JSON lines unless `style` says text or (``auto``) the stream is a terminal, where `text_format`
    is used (desk/log_format.py)."""
    handler = logging.StreamHandler(stream)
    as_text = style.format == "text" or (style.format == "auto" and stream.isatty())
    handler.setFormatter(TextFormatter(text_format) if as_text else JsonFormatter(style.process))
    handler.addFilter(TraceContextFilter())  # first: a repeat count keeps the ids of its last line
    if repeat_interval is not None:
        handler.addFilter(RepeatFilter(handler.handle, repeat_interval))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(style.level)
