"""When an accepted ticket's workflow is opened: at once if the caller waits, else at the worker's pace.

CreateTicket answers as soon as a report is accepted (its draft is in ``intake.pending_tickets``).
Opening the ticket (routing, dispatch, deadlines) is the ticket workflow's work, and a burst of
reports arrives faster than the workflow worker opens tickets. So each intake process opens at most
``opening`` tickets at once, each with update-with-start waiting until its workflow has recorded it:
Temporal holds only that window, the rest wait in PostgreSQL in order of arrival. Measured with
`make bench` (docs/performance.md): CreateTicket's latency then no longer depends on the backlog.

Nothing accepted is lost: a ticket handed to this process carries a lease; if the process dies, or
Temporal does not answer, the lease runs out and whichever intake process polls next opens it.
Opening twice is harmless: the workflow id is the ticket id, and a second start joins the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry import trace

from desk import metrics
from desk.errors import DeskError, InvalidArgument, TransitionNotAllowed
from desk.loops import Readiness, keep_running, reraise_if_cancelled
from desk.ticket_spans import ticket_scope
from domain.ticket import TicketDraft, TicketView
from services.intake import repository
from services.intake.opening import pending_tickets
from services.intake.opening.admission import Admission
from services.intake.opening.line_test import LineTester
from services.intake.reports.reporting import open_ticket
from workflows.ticket_client import TicketWorkflows

log = logging.getLogger(__name__)

OPENING = 32
"""Tickets one intake process opens at once: enough to keep the workflow worker busy."""
LEASE = timedelta(seconds=30)
"""How long a ticket handed to a process is its own to open (settings: ``pending_lease_seconds``):
longer than an opening takes (about a second under `make bench`), short enough that a crash delays
the tickets it held by no more than this. An opening that outlasts it is merely done twice."""
RETRY_AFTER = timedelta(seconds=5)
HAND_OFF_LIMIT = 64
"""Tickets queued in this process (about three seconds of openings as measured): each holds a lease
while it waits, so the queue must drain well within the lease. Past it, newly accepted tickets wait
unleased in PostgreSQL, and the poller leases them as the queue empties."""
POLL_EVERY = 0.5
LINE_TEST_WAIT = 5.0
"""Seconds a line test may take before the ticket opens without it (its workflow tests it then)."""
BEHIND_AFTER = timedelta(seconds=30)
"""A ticket accepted longer ago than this and not opened yet is logged as a backlog."""
POLLER = "pending-ticket poller"
DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
"""What a write of the starter's own may meet: the ticket's lease runs out and it is tried again."""


@dataclass(frozen=True)
class Backlog:
    """Accepted tickets not opened yet, as the poller last counted them (all intake processes')."""

    count: int = 0
    oldest: datetime | None = None


class TicketStarter:
    def __init__(
        self,
        db: asyncpg.Pool,
        tickets: TicketWorkflows,
        line_tester: LineTester,
        readiness: Readiness,
        *,
        lease: timedelta = LEASE,
        opening: int = OPENING,
        poll_every: float = POLL_EVERY,
        admission: Admission | None = None,
    ) -> None:
        self._db = db
        self._tickets = tickets
        self._line_tester = line_tester
        self._lease = lease
        self._opening = opening
        self._poll_every = poll_every
        self._readiness = readiness
        self.backlog = Backlog()
        self.admission = admission or Admission()
        self._told = datetime.min.replace(tzinfo=UTC)
        self._queue: asyncio.Queue[tuple[TicketDraft, bool]] = asyncio.Queue()  # (draft, just accepted)
        self._tracer = trace.get_tracer(__name__)

    def lease(self, now: datetime) -> datetime | None:
        """This process's lease on a ticket about to be accepted, if it has room to queue it."""
        return now + self._lease if self._queue.qsize() < HAND_OFF_LIMIT else None

    def hand_off(self, draft: TicketDraft) -> None:
        """Open a ticket accepted with this process's lease, in the background."""
        self._queue.put_nowait((draft, True))

    async def open_now(self, draft: TicketDraft) -> TicketView:
        """Open it before answering (CreateTicket's ``wait_for_routing``)."""
        return await self._opened(draft)

    async def run(self) -> None:
        """Open handed-off and orphaned tickets until cancelled."""
        async with asyncio.TaskGroup() as group:
            for _ in range(self._opening):
                group.create_task(self._open_queued())
            group.create_task(keep_running(POLLER, self._poll, self._readiness))

    async def _open_queued(self) -> None:
        while True:
            draft, just_accepted = await self._queue.get()
            try:
                await self._open(draft, just_accepted=just_accepted)
            except (InvalidArgument, TransitionNotAllowed) as refusal:
                await self._set_aside(draft, refusal)
            except (DeskError, *DATABASE_ERRORS) as error:
                reraise_if_cancelled()
                log.warning("ticket %s not opened yet (%s); retrying", draft.ticket_id, error)
                await self._retry_later(draft)
            except Exception:  # one ticket's surprise must not stop the others from opening
                reraise_if_cancelled()
                log.exception("ticket %s not opened; retrying", draft.ticket_id)
                await self._retry_later(draft)

    async def _open(self, draft: TicketDraft, *, just_accepted: bool) -> None:
        if not just_accepted and await repository.get_view(db=self._db, ticket_id=draft.ticket_id):
            await pending_tickets.drop_pending(db=self._db, ticket_id=draft.ticket_id)  # opened elsewhere
            return
        await self._opened(draft)

    async def _opened(self, draft: TicketDraft) -> TicketView:
        # One span for the opening: in the background it is the root of the opening's trace.
        with self._tracer.start_as_current_span("intake.open_ticket"), ticket_scope(draft.ticket_id):
            tested = await with_line_test(draft, self._line_tester)
            view = await open_ticket(db=self._db, tickets=self._tickets, draft=tested)
            # One line a ticket, with its trace: where an SRE starts from a ticket id. Ids only.
            log.info("ticket %s opened", draft.ticket_id)
            return view

    async def _set_aside(self, draft: TicketDraft, refusal: DeskError) -> None:
        """The opening was refused for good (its workflow could not store the ticket): trying it again
        every few seconds would change nothing, so it waits for an operator, and says so once."""
        try:
            if await repository.get_view(db=self._db, ticket_id=draft.ticket_id):  # recorded after all
                await pending_tickets.drop_pending(db=self._db, ticket_id=draft.ticket_id)
                return
            await pending_tickets.set_aside(db=self._db, ticket_id=draft.ticket_id, reason=str(refusal))
        except DATABASE_ERRORS as error:
            log.warning("ticket %s not set aside yet (%s); its lease runs out", draft.ticket_id, error)
            return
        log.error("ticket %s cannot be opened and is set aside: %s", draft.ticket_id, refusal)

    async def _retry_later(self, draft: TicketDraft) -> None:
        until = datetime.now(UTC) + RETRY_AFTER
        # If this fails too, the ticket's lease runs out anyway.
        with contextlib.suppress(*DATABASE_ERRORS):
            await pending_tickets.release_pending(db=self._db, ticket_id=draft.ticket_id, until=until)

    async def _poll(self, working: Callable[[], None]) -> None:
        """Take over tickets whose lease ran out, oldest first, while there is room in the queue.

        This is what brings back a crashed process's tickets, and what measures the backlog: a lost
        connection ends it for :func:`keep_running` to start again, and the backlog's gauges are not
        exported until it measures again (another intake's count stands meanwhile).
        """
        try:
            await self._poll_on(working)
        finally:
            metrics.INTAKE_BACKLOG.forget()
            metrics.INTAKE_BACKLOG_AGE.forget()

    async def _poll_on(self, working: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(self._poll_every)
            now = datetime.now(UTC)
            started = self.admission.count_starts()
            self.backlog = Backlog(*await pending_tickets.pending_backlog(db=self._db))
            metrics.INTAKE_BACKLOG.set(self.backlog.count)
            metrics.set_age(metrics.INTAKE_BACKLOG_AGE, self.backlog.oldest, now)
            self.admission.counted(self.backlog.count, started)
            working()
            self._tell_backlog(now)
            room = HAND_OFF_LIMIT - self._queue.qsize()
            if room < HAND_OFF_LIMIT // 2:
                continue
            drafts = await pending_tickets.lease_pending(
                db=self._db, limit=room, now=now, leased_until=now + self._lease
            )
            for draft in drafts:
                self._queue.put_nowait((draft, False))

    def _tell_backlog(self, now: datetime) -> None:
        """Log a backlog older than BEHIND_AFTER, once a minute (for SREs: Temporal unreachable, the
        workers down, or reports arriving faster than they are opened)."""
        oldest = self.backlog.oldest
        if oldest is None or now - oldest <= BEHIND_AFTER or now - self._told < 2 * BEHIND_AFTER:
            return
        age = (now - oldest).total_seconds()
        log.warning("%d accepted tickets not opened yet, the oldest for %.0f s", self.backlog.count, age)
        if refused := self.admission.take_refused():
            log.warning(
                "%d new reports refused (RESOURCE_EXHAUSTED) in the last %.0f s: the backlog is at its bound",
                refused, (now - self._told).total_seconds(),
            )  # fmt: skip
        self._told = now


async def with_line_test(draft: TicketDraft, tester: LineTester) -> TicketDraft:
    """The draft with its line test (自动测试) run, if its line is to be tested and was not yet.

    Tested here, before its workflow starts, the ticket's opening records the result: two local
    activities fewer per ticket than the workflow testing and recording again once opened. A tester
    that cannot be asked now leaves the test to the workflow, which then runs it after the opening.
    """
    if draft.line_test is not None or not draft.line_testable:
        return draft
    try:
        async with asyncio.timeout(LINE_TEST_WAIT):
            result = await tester.test(draft.fault_number)
    except Exception as error:  # whatever the adapter raised: the ticket opens anyway, tested later
        reraise_if_cancelled()
        log.warning("line of ticket %s left to its workflow to test (%r)", draft.ticket_id, error)
        return draft
    return dataclasses.replace(draft, line_test=result)
