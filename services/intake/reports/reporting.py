"""Accepting a validated report: the one path from a report to its ticket, whatever the channel.

``CreateTicket`` (gRPC, and the HTTP channels through it) and the IVR's self-service reports both
come here, so every report gets the same checks and the same idempotency:

1. the directory checks (exchange, owner, VIP; services/intake/reference/directory.py). A refused report
   claims nothing, but a retry of a report accepted before the data changed still finds its ticket;
2. the claim of the request id and the report's keys (``repository.accept_report``): a retry finds
   the same ticket, and a report whose fault number or caller+category an open ticket holds is a
   repeat of it (counted there once per request id);
3. a new ticket is linked to a known outage it falls in and accepted: its draft is written to
   ``intake.pending_tickets``. From there its workflow is opened (:func:`open_ticket`, by the caller
   at once or by the intake process's starter, services/intake/opening/starter.py), whatever crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from desk import metrics
from desk.errors import InvalidArgument, NotFound, TransitionNotAllowed, Unavailable
from domain.commands import RecordRepeatInput, RepeatReport, ResolveByOutageInput
from domain.line_tests import LineTestResult
from domain.ticket import Handling, TicketDraft, TicketView
from services.intake import repository
from services.intake.opening import pending_tickets
from services.intake.outages.matching import OutageRecord
from services.intake.reference import directory
from services.intake.reports.repeats import report_keys
from services.intake.validation import ValidReport
from workflows import contract as wf
from workflows.ticket_client import TicketWorkflows

ABANDONED_AFTER = timedelta(minutes=5)
"""How long a claimed ticket may stay unrecorded before its keys stop making repeats of it."""


@dataclass
class Accepted:
    view: TicketView
    repeat: bool  # the report repeats this open ticket; else the ticket is the report's own
    replayed: bool = False  # the request id was accepted before: this is the same answer again
    pending: TicketDraft | None = None  # a new ticket its workflow has not recorded yet: open it


async def accept_report(
    *,
    db: asyncpg.Pool,
    tickets: TicketWorkflows,
    report: ValidReport,
    fingerprint: bytes,
    now: datetime,
    recorded_by: str,
    handling: Handling = Handling.MANUAL,
    line_test: LineTestResult | None = None,
    leased_until: datetime,
) -> Accepted:
    """The ticket a report makes or repeats. ``fingerprint`` tells a retry from a reused request id.

    A new ticket comes back ``pending``, as received; ``leased_until`` is how long the caller holds the
    right to open it before any intake process's starter may.
    """
    try:  # exchange, owner and VIP checks: region, tier and priority may change; refusals claim nothing
        report = directory.applied(report, await directory.check_report(db=db, report=report))
    except (InvalidArgument, TransitionNotAllowed):
        found = await find_accepted(db=db, request_id=report.request_id, fingerprint=fingerprint)
        if found is None:
            raise  # a retry of a report accepted before the directory changed still finds its ticket
        return Accepted(found, repeat=False, replayed=True)
    keys = report_keys(
        fault_number=report.fault_number,
        phone=report.reporter.phone,
        category=report.category,
        channel=report.channel,
    )
    draft = new_draft(report, ticket_id="", created_at=now, recorded_by=recorded_by)  # numbered below
    draft.handling, draft.line_test = handling, line_test
    claim = await repository.accept_report(
        db=db,
        request_id=report.request_id,
        fingerprint=fingerprint,
        now=now,
        keys=keys,
        draft=draft,
        outage_id=await _matching_outage(db, draft),
        leased_until=leased_until,
    )
    if claim.fingerprint != fingerprint:
        raise InvalidArgument.one("request_id", "was already used for a different report")
    if claim.repeat:
        repeated = await _repeat(db, tickets, report, claim.ticket_id, at=claim.created_at, actor=recorded_by)
        return Accepted(repeated, repeat=True, replayed=not claim.fresh)
    if claim.fresh:
        draft.ticket_id, draft.outage_id = claim.ticket_id, claim.outage_id
        metrics.TICKETS_ACCEPTED.labels(draft.channel).inc()
        return Accepted(pending_tickets.received(draft), repeat=False, pending=draft)
    return await _accepted_before(db, claim, draft, leased_until)


async def _accepted_before(
    db: asyncpg.Pool, claim: repository.ReportClaim, draft: TicketDraft, leased_until: datetime
) -> Accepted:
    """A retry: the ticket as recorded, or as accepted while its workflow has not recorded it yet."""
    if (view := await repository.get_view(db=db, ticket_id=claim.ticket_id)) is not None:
        return Accepted(view, repeat=False, replayed=True)
    pending = await pending_tickets.get_pending(db=db, ticket_id=claim.ticket_id)
    if pending is None:  # claimed by an older intake, whose CreateTicket died before starting it
        draft.ticket_id, draft.created_at = claim.ticket_id, claim.created_at
        draft.outage_id = await _known_outage(db, draft)
        await pending_tickets.add_pending(db=db, draft=draft, leased_until=leased_until)
        pending = draft
    return Accepted(pending_tickets.received(pending), repeat=False, replayed=True, pending=pending)


async def open_ticket(*, db: asyncpg.Pool, tickets: TicketWorkflows, draft: TicketDraft) -> TicketView:
    """Open an accepted ticket's workflow (or join it) and wait until it has recorded the ticket.

    Idempotent: the workflow id is the ticket id. Once recorded, the ticket is no longer pending.
    """
    view = await tickets.start(draft)
    await _resolve_if_outage_ended(db, tickets, view, actor=draft.agent_id)
    await pending_tickets.drop_pending(db=db, ticket_id=draft.ticket_id)
    return view


def new_draft(report: ValidReport, *, ticket_id: str, created_at: datetime, recorded_by: str) -> TicketDraft:
    return TicketDraft(
        ticket_id=ticket_id,
        request_id=report.request_id,
        channel=report.channel,
        kind=report.kind,
        reporter=report.reporter,
        category=report.category,
        priority=report.priority,
        customer_tier=report.customer_tier,
        summary=report.summary,
        created_at=created_at,
        description=report.description,
        fault_number=report.fault_number,
        occurred_at=report.occurred_at,
        expected_by=report.expected_by,
        agent_id=report.agent_id or recorded_by,
        region=report.region,
        on_behalf_of=report.on_behalf_of,
        via=report.via,
    )


async def find_accepted(*, db: asyncpg.Pool, request_id: str, fingerprint: bytes) -> TicketView | None:
    """The ticket this very report (same request id, same content) was accepted as, if it was."""
    claim = await repository.find_claim(db=db, request_id=request_id)
    if claim is None or claim.fingerprint != fingerprint:
        return None
    view = await repository.find_ticket(db=db, ticket_id=claim.ticket_id)
    if view is None:
        raise NotFound("ticket", claim.ticket_id)
    return view


async def resolve_by_outage(
    *, tickets: TicketWorkflows, outage: OutageRecord, ticket_id: str, actor: str
) -> None:
    """Resolve a ticket linked to the outage, as its repair does; once, however often it is asked."""
    arg = ResolveByOutageInput(outage.outage_id, outage.resolution, actor)
    # Refused when already resolved (a retry), or not started yet: its own report resolves it.
    with contextlib.suppress(TransitionNotAllowed):
        await tickets.update(
            ticket_id,
            wf.RESOLVE_BY_OUTAGE,
            arg,
            TicketView,
            update_id=f"outage/{outage.outage_id}/{ticket_id}",
        )


async def _repeat(
    db: asyncpg.Pool,
    tickets: TicketWorkflows,
    report: ValidReport,
    ticket_id: str,
    *,
    at: datetime,
    actor: str,
) -> TicketView:
    """Count the report on the open ticket it repeats (once per request id).

    A ticket still pending is opened by this update (the repeat then waits for its recording there).
    """
    pending = await _accepted_draft(db, ticket_id, report.request_id)
    repeat = RecordRepeatInput(
        RepeatReport(
            request_id=report.request_id,
            channel=report.channel,
            reporter=report.reporter,
            summary=report.summary,
            received_at=at,
            description=report.description,
            agent_id=report.agent_id or actor,
        ),
        actor=report.agent_id or actor,
        on_behalf_of=report.on_behalf_of,
        via=report.via,
    )
    return await tickets.update(
        ticket_id,
        wf.RECORD_REPEAT,
        repeat,
        TicketView,
        update_id=f"repeat/{report.request_id}",
        start=pending,
    )


async def _accepted_draft(db: asyncpg.Pool, ticket_id: str, request_id: str) -> TicketDraft | None:
    """None once the ticket is recorded; its draft while it is pending (accepted, not recorded yet).

    A ticket only claimed (its CreateTicket has not accepted it yet) is waited for.
    """
    for _ in range(200):
        if await repository.get_view(db=db, ticket_id=ticket_id) is not None:
            return None
        if (draft := await pending_tickets.get_pending(db=db, ticket_id=ticket_id)) is not None:
            return draft
        await asyncio.sleep(0.05)
    # A report whose first CreateTicket died between its claim and its workflow, never retried, would
    # hold its keys forever and turn every later report into a repeat of nothing: after a while, let go.
    if await repository.abandon_unstarted(
        db=db, ticket_id=ticket_id, request_id=request_id, older_than=ABANDONED_AFTER
    ):
        raise Unavailable(
            f"ticket {ticket_id} was never recorded; retry with the same request_id to file anew"
        )
    raise Unavailable(f"ticket {ticket_id} is not recorded yet; retry with the same request_id")


async def _matching_outage(db: asyncpg.Pool, draft: TicketDraft) -> str:
    """The active known outage the report falls in, if any ("" when none)."""
    outage = await repository.matching_outage(
        db=db, fault_number=draft.fault_number, category=draft.category, region=draft.region
    )
    return "" if outage is None else outage.outage_id


async def _known_outage(db: asyncpg.Pool, draft: TicketDraft) -> str:
    outage_id = await _matching_outage(db, draft)
    if not outage_id:
        return ""
    linked = await repository.link_to_outage(db=db, outage_id=outage_id, ticket_id=draft.ticket_id)
    return outage_id if linked else ""


async def _resolve_if_outage_ended(
    db: asyncpg.Pool, tickets: TicketWorkflows, view: TicketView, *, actor: str
) -> None:
    """An outage resolved while its new ticket was starting: resolve the ticket as ResolveOutage would."""
    if not view.draft.outage_id:
        return
    outage = await repository.get_outage(db=db, outage_id=view.draft.outage_id)
    if outage is not None and not outage.active:
        await resolve_by_outage(tickets=tickets, outage=outage, ticket_id=view.draft.ticket_id, actor=actor)
