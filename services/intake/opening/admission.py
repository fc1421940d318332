"""Whether intake takes a new report now: not while its backlog of unopened tickets is at its bound.

Past the bound, accepting more only lengthens the wait of every accepted report (a burst of 50
callers once left 43,697 reports waiting 702 s to be opened): the caller is better told to come back,
or to report another way, than left waiting unseen. Below it nothing changes.

The backlog is counted in PostgreSQL by the pending-ticket poller (every half second, all intake
processes' tickets); between two counts each process adds what it admitted itself. A report admitted
while a count runs may be counted twice, never missed, so one process never lets the backlog past
the bound (several may together overshoot by what each admits between two counts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from desk.errors import Overloaded

MAX_BACKLOG = 5000
"""Accepted-not-opened tickets past which new reports are refused (settings: ``max_backlog``)."""
RETRY_AFTER = 5.0
"""The delay a refused report is told to wait: long enough that refused callers do not add to the
load they were refused for, short enough for an agent with a customer on the line."""


@dataclass(frozen=True)
class CountStarted:
    admitted: int  # admissions so far when the count started
    in_flight: int  # admissions whose report was not stored yet: perhaps in the count, perhaps not


class Admission:
    def __init__(self, bound: int = MAX_BACKLOG) -> None:
        self.bound = bound
        self._counted = 0  # the last count, plus the admissions it may have missed
        self._admitted = 0  # admissions since the process started
        self._admitted_at_count = 0
        self._in_flight = 0
        self._refused = 0

    @property
    def backlog(self) -> int:
        """The backlog as this process knows it: the last count and what it admitted since."""
        return self._counted + self._admitted - self._admitted_at_count

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """Admit one report for the time it takes to store it, or raise Overloaded."""
        if self.backlog >= self.bound:
            self._refused += 1
            raise Overloaded(
                f"{self.backlog} accepted reports are waiting to be opened (the bound is {self.bound});"
                f" retry in {RETRY_AFTER:.0f} s",
                retry_after=RETRY_AFTER,
            )
        self._admitted += 1
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    def take_refused(self) -> int:
        """Reports refused since the last call (the starter logs them with the backlog)."""
        refused, self._refused = self._refused, 0
        return refused

    def count_starts(self) -> CountStarted:
        return CountStarted(self._admitted, self._in_flight)

    def counted(self, backlog: int, started: CountStarted) -> None:
        """The poller's count of the backlog, as it was when `started`."""
        self._counted = backlog + started.in_flight
        self._admitted_at_count = started.admitted
