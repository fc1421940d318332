"""Spot checks (不定期抽查) and inspections (质检): what an inspector draws, scores, and the violations named.

A spot check draws items of the workload ledger that are not inspected yet: all of one ticket's, or
``size`` of a slice (a person, a team, a post, a time window, in any combination). The draw orders
the slice by SHA-256 of each item id under a fresh 256-bit nonce from the operating system's random
source (``secrets``), so nobody can tell in advance which items a spot check takes; what it drew is
stored, the nonce is not. A slice with nothing to inspect is refused (FAILED_PRECONDITION), so no
empty spot check is ever stored.

An inspection scores one item that a daily sample or a spot check drew against its post's scorecard
(scorecards.py): every criterion 0-100, the overall score their mean rounded half up. One inspection
per item, ever. The violations it names go to the one violations ledger (dispatch's) through the
InspectionViolations workflow (inspection_handoff.py), after the inspection is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Protocol

import asyncpg

from desk.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, TransitionNotAllowed
from desk.events import EventSpec
from services.quality import repository
from services.quality.events import quality_event, queue
from services.quality.inspection_records import (
    CriterionScore,
    Inspection,
    InspectionRequest,
    ItemState,
    NamedViolation,
    Origin,
    Slice,
    SpotCheck,
)
from services.quality.scorecards import SCORECARDS, Scorecard

MAX_SPOT_CHECK_SIZE = 1000
MAX_REQUEST_ID = 200
MAX_TEXT = 4000
"""Reasons, findings and notes: an inspector's words, not documents."""
NONCE_BYTES = 32


def spot_check_id(request_id: str) -> str:
    return "spot-" + hashlib.sha256(request_id.encode()).hexdigest()[:16]


def inspection_id(request_id: str) -> str:
    return "insp-" + hashlib.sha256(request_id.encode()).hexdigest()[:16]


def violation_id(inspection: str, n: int) -> str:
    """The ledger's id of an inspection's n-th violation (from 1): recording it twice records it once."""
    return f"inspection/{inspection}/{n}"


def mean_score(scores: list[CriterionScore]) -> int:
    """The criteria's mean, rounded half up (87.5 → 88)."""
    total, count = sum(s.score for s in scores), len(scores)
    return (2 * total + count) // (2 * count)


def scorecard_violations(card: Scorecard, request: InspectionRequest) -> list[FieldViolation]:
    """What is wrong with the scores and violations for the card's post, each naming its field."""
    problems: list[FieldViolation] = []
    known = card.criterion_names()
    for n, given in enumerate(request.scores):
        if given.criterion not in known:
            why = f"{given.criterion!r} is not a {card.post} criterion"
            problems.append(FieldViolation(f"scores[{n}].criterion", why))
        if not 0 <= given.score <= 100:
            problems.append(FieldViolation(f"scores[{n}].score", "must be 0 to 100"))
        if len(given.note) > MAX_TEXT:
            problems.append(FieldViolation(f"scores[{n}].note", f"at most {MAX_TEXT} characters"))
    named = [s.criterion for s in request.scores]
    missing = [c.criterion for c in card.criteria if c.criterion not in named]
    repeated = sorted({c for c in named if named.count(c) > 1})
    if missing or repeated:
        why = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"repeated {', '.join(repeated)}" if repeated else "",
            )
            if part
        )
        problems.append(FieldViolation("scores", f"every {card.post} criterion once: {why}"))
    for n, violation in enumerate(request.violations):
        if card.code(violation.code) is None:
            why = f"{violation.code!r} is not a {card.post} violation code"
            problems.append(FieldViolation(f"violations[{n}].code", why))
        if len(violation.note) > MAX_TEXT:
            problems.append(FieldViolation(f"violations[{n}].note", f"at most {MAX_TEXT} characters"))
    return problems


class HandOff(Protocol):
    """What the inspections need of the hand-off (inspection_handoff.ViolationsHandOff)."""

    async def start(self, inspection: Inspection) -> None: ...


class Inspections:
    """Spot checks and inspections over the quality schema; ``hand_off`` starts a stored inspection's
    violations on their way to the ledger (a crash before it is made good by its loop)."""

    def __init__(self, pool: asyncpg.Pool, hand_off: HandOff) -> None:
        self._pool = pool
        self._hand_off = hand_off

    async def spot_check(
        self, *, scope: Slice, size: int, reason: str, request_id: str, actor: str
    ) -> SpotCheck:
        """Draw and store the spot check, or answer the one this request id made before."""
        stored = await repository.get_spot_check(db=self._pool, request_id=request_id)
        if stored is not None:
            return stored
        spot = SpotCheck(
            spot_check_id=spot_check_id(request_id),
            request_id=request_id,
            reason=reason,
            scope=scope,
            size=size,
            population=0,
            requested_by=actor,
            created_at=datetime.now(UTC),
        )
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                spot.population, spot.items = await repository.draw_slice(
                    db=conn, scope=scope, size=size or None, nonce=secrets.token_bytes(NONCE_BYTES)
                )
                if not spot.items:
                    raise TransitionNotAllowed("the slice has no item that is not inspected yet")
                await repository.insert_spot_check(db=conn, spot=spot)
                await queue(conn, _spot_checked_event(spot))
        except asyncpg.UniqueViolationError:
            # The same request id at the same moment: the first one stored answers both.
            twin = await repository.get_spot_check(db=self._pool, request_id=request_id)
            if twin is None:
                raise
            return twin
        return spot

    async def record(self, request: InspectionRequest, *, actor: str) -> Inspection:
        """Store the inspection with its event, then hand its violations off to the ledger."""
        stored = await repository.get_inspection(db=self._pool, request_id=request.request_id)
        if stored is not None:
            return _same_request(stored, request)
        state = await self._item_to_inspect(request)
        card = SCORECARDS[state.item.post]
        if problems := scorecard_violations(card, request):
            raise InvalidArgument(problems)
        if state.origin is None:
            raise TransitionNotAllowed(
                f"item {state.item.item_id!r} is in no daily sample and no spot check: draw it first"
            )
        if state.inspection_id:
            return await self._raced(request)  # this request's twin, just now, or another
        inspection = _new_inspection(request, state, state.origin, actor)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await repository.insert_inspection(db=conn, inspection=inspection)
                await queue(conn, _inspected_event(inspection))
        except asyncpg.UniqueViolationError:
            return await self._raced(request)
        if inspection.violations:
            await self._hand_off.start(inspection)
        return inspection

    async def _item_to_inspect(self, request: InspectionRequest) -> ItemState:
        if request.item_id:
            state = await repository.get_item_state(db=self._pool, item_id=request.item_id)
            if state is None:
                raise NotFound("item", request.item_id)
            if request.ticket_id and state.item.ticket_id != request.ticket_id:
                raise InvalidArgument.one(
                    "ticket_id", f"item {request.item_id!r} is of ticket {state.item.ticket_id!r}"
                )
            return state
        awaiting = await repository.items_awaiting_inspection(db=self._pool, ticket_id=request.ticket_id)
        if not awaiting:
            why = "awaits inspection (in a daily sample or a spot check)"
            raise TransitionNotAllowed(f"no item of ticket {request.ticket_id!r} {why}")
        if len(awaiting) > 1:
            names = ", ".join(s.item.item_id for s in awaiting)
            why = f"ticket {request.ticket_id!r} has {len(awaiting)} items awaiting inspection: {names}"
            raise InvalidArgument.one("item_id", why)
        return awaiting[0]

    async def _raced(self, request: InspectionRequest) -> Inspection:
        """Another inspection of the item, or this request's twin, was stored meanwhile."""
        stored = await repository.get_inspection(db=self._pool, request_id=request.request_id)
        if stored is not None:
            return _same_request(stored, request)
        raise AlreadyExists(
            f"item {request.item_id or request.ticket_id!r} is inspected already (another request)"
        )


def _same_request(stored: Inspection, request: InspectionRequest) -> Inspection:
    """A retry answers as the first call did; a request id reused for another item is refused."""
    item = stored.item.item
    if (request.item_id and request.item_id != item.item_id) or (
        request.ticket_id and request.ticket_id != item.ticket_id
    ):
        raise AlreadyExists(
            f"request id {request.request_id!r} recorded the inspection of item {item.item_id!r} already"
        )
    return stored


def _new_inspection(request: InspectionRequest, state: ItemState, origin: Origin, actor: str) -> Inspection:
    new_id = inspection_id(request.request_id)
    now = datetime.now(UTC)
    return Inspection(
        inspection_id=new_id,
        item=ItemState(state.item, state.position, origin, new_id, mean_score(request.scores)),
        request_id=request.request_id,
        origin=origin,
        inspector=actor,
        score=mean_score(request.scores),
        scores=list(request.scores),
        violations=[
            NamedViolation(v.code, v.note, violation_id(new_id, n))
            for n, v in enumerate(request.violations, start=1)
        ],
        findings=request.findings,
        inspected_at=now,
        # Nothing to hand off: recorded, in effect, with the inspection.
        violations_recorded_at=None if request.violations else now,
    )


def _spot_checked_event(spot: SpotCheck) -> EventSpec:
    return quality_event(
        "spot_checked",
        spot.spot_check_id,
        actor=spot.requested_by,
        at=spot.created_at,
        reason=spot.reason,
        payload={
            "spot_check_id": spot.spot_check_id,
            "scope": spot.scope.to_json(),
            "size": spot.size,
            "population": spot.population,
            "item_ids": [s.item.item_id for s in spot.items],
        },
    )


def _inspected_event(inspection: Inspection) -> EventSpec:
    """No findings nor notes: an inspector's words may quote a customer; the stream carries only
    the numbers and codes."""
    item = inspection.item.item
    return quality_event(
        "inspected",
        inspection.inspection_id,
        actor=inspection.inspector,
        at=inspection.inspected_at,
        payload={
            "inspection_id": inspection.inspection_id,
            "item_id": item.item_id,
            "ticket_id": item.ticket_id,
            "post": str(item.post),
            "staff_id": item.staff_id,
            "team_id": item.team_id,
            "origin": str(inspection.origin),
            "score": inspection.score,
            "scores": {s.criterion: s.score for s in inspection.scores},
            "violations": [{"code": v.code, "violation_id": v.violation_id} for v in inspection.violations],
        },
    )
