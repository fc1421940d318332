"""The ticket workflow's patches: each change to what running tickets do, by the id it is checked by.

Tickets live for days, so a worker must keep replaying the histories of tickets opened before a
change: the change goes behind ``TicketCode.has(<id>)`` (below; a new id also goes at the end of
``CHAINED``) and the history recorded before it is kept under ``tests/workflows/histories/``
(``test_replay.py`` replays them all). Oldest first; an id is never reused, and one goes only once
no ticket opened before it can still be running.
"""

from __future__ import annotations

from temporalio import workflow

RETURN_GOES_TO_DESK = "return-goes-to-desk"
"""A returned ticket waits at the desk; before it, the workflow routed it to the next team."""

LINE_TEST_AFTER_OPEN = "line-test-after-open"
"""A fault with a number is line-tested once recorded; tickets opened before it never were."""

EVENTS_VIA_INTAKE_OUTBOX = "events-via-intake-outbox"
"""Events go into intake's outbox with the ticket record and intake's relay publishes them; a ticket
opened before it keeps publishing its own (workflows/outbox.py) to its end."""

POLICY_WITH_ROUTE = "policy-with-route"
"""Opening asks dispatch for the route and its team's SLA policy in one activity, not two."""

LINE_TEST_IN_OPENING = "line-test-in-opening"
"""A line test the draft comes with (intake's starter or the IVR ran it) is recorded with the opening;
before it, in a second record after the opening."""

ONE_PERSIST_PER_CHANGE = "one-persist-per-change"
"""A change's writes (work orders in dispatch, a callback in survey, then the ticket in intake) go in
one local activity; before it, in one local activity each."""

ONE_MARKER_PER_TICKET = "one-marker-per-ticket"
"""The first chained patch: a ticket that has it has every patch above, and records only its marker."""

CHAINED = (ONE_MARKER_PER_TICKET,)
"""Patches asked for once, newest first, when a ticket opens; append each new patch here.

The newest one a ticket has implies every patch before it: code that had it had them all. So a new
ticket records one patch marker, not one per patch. Each marker also upserts Temporal's
TemporalChangeVersion search attribute, a write to its visibility store; five patches had been ten
of the 49 events of a ticket's main path."""


class TicketCode:
    """Which patches the code that opened this ticket had: ask at the start of the workflow's run.

    Tickets opened before the chain began recorded each patch where its change happens, so for them
    ``has`` asks for a patch there as before (the same marker, at the same point of the history).
    """

    def __init__(self) -> None:
        self._chained: tuple[str, ...] = ()
        for newest in reversed(range(len(CHAINED))):
            if workflow.patched(CHAINED[newest]):
                self._chained = CHAINED[: newest + 1]
                break

    def has(self, patch: str) -> bool:
        if patch in CHAINED:
            return patch in self._chained
        return bool(self._chained) or workflow.patched(patch)
