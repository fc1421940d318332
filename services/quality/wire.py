"""The quality service's proto mapping."""

from __future__ import annotations

from dataclasses import replace

from desk.errors import FieldViolation, InvalidArgument
from desk.proto_fields import enum_value, from_timestamp, timestamp
from helpdesk.v1 import quality_pb2
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
from services.quality.inspections import MAX_REQUEST_ID, MAX_SPOT_CHECK_SIZE, MAX_TEXT
from services.quality.repository import StoredRun
from services.quality.sampling import Count
from services.quality.scorecards import SCORECARDS, Post, Scorecard


def post_to_proto(post: Post | str) -> quality_pb2.Post.ValueType:
    return quality_pb2.Post.Value(f"POST_{post}")


def post_from_proto(value: int) -> Post | None:
    """The post a request names; None for POST_UNSPECIFIED (and numbers the enum does not have)."""
    if value not in quality_pb2.Post.values() or value == quality_pb2.POST_UNSPECIFIED:
        return None
    return Post(quality_pb2.Post.Name(quality_pb2.Post.ValueType(value)).removeprefix("POST_"))


def scorecard_to_proto(card: Scorecard) -> quality_pb2.Scorecard:
    return quality_pb2.Scorecard(
        post=post_to_proto(card.post),
        criteria=[
            quality_pb2.Criterion(criterion=c.criterion, title=c.title, source=c.source)
            for c in card.criteria
        ],
        violation_codes=[
            quality_pb2.ViolationCode(code=v.code, title=v.title, criterion=v.criterion)
            for v in card.violation_codes
        ],
    )


def scorecards_to_proto() -> quality_pb2.ListScorecardsResponse:
    return quality_pb2.ListScorecardsResponse(scorecards=[scorecard_to_proto(c) for c in SCORECARDS.values()])


# --- spot checks and inspections (services/quality/inspections.py) ---


def spot_check_from_proto(request: quality_pb2.SpotCheckRequest) -> tuple[Slice, int]:
    """The slice and size asked for; InvalidArgument naming every bad field."""
    problems: list[FieldViolation] = []
    ticket_id = request.ticket_id.strip()
    if not request.reason.strip():
        problems.append(FieldViolation("reason", "is required: why the spot check is made"))
    elif len(request.reason.strip()) > MAX_TEXT:
        problems.append(FieldViolation("reason", f"at most {MAX_TEXT} characters"))
    problems += _request_id_problems(request.request_id)
    least = 0 if ticket_id else 1
    if not least <= request.size <= MAX_SPOT_CHECK_SIZE:
        described = "0 (all of the ticket's items) to" if ticket_id else "1 to"
        problems.append(FieldViolation("size", f"must be {described} {MAX_SPOT_CHECK_SIZE}"))
    post = post_from_proto(request.post)
    if request.post and post is None:
        problems.append(FieldViolation("post", f"unknown post {request.post}"))
    start, end = from_timestamp(request, "window_start"), from_timestamp(request, "window_end")
    if start is not None and end is not None and end <= start:
        problems.append(FieldViolation("window_end", "must be after window_start"))
    if problems:
        raise InvalidArgument(problems)
    scope = Slice(
        ticket_id=ticket_id,
        agent_id=request.agent_id.strip(),
        team_id=request.team_id.strip(),
        post=post,
        window_start=start,
        window_end=end,
    )
    return scope, request.size


def inspection_from_proto(request: quality_pb2.RecordInspectionRequest) -> InspectionRequest:
    """What the inspector recorded, its shape checked; the scorecard's rules need the item's post
    (inspections.scorecard_violations)."""
    problems = _request_id_problems(request.request_id)
    if not request.request_id.strip():
        problems.append(
            FieldViolation("request_id", "is required: a retry with it answers as the first call")
        )
    if not request.item_id.strip() and not request.ticket_id.strip():
        problems.append(
            FieldViolation("item_id", "is required (or a ticket_id with one item awaiting inspection)")
        )
    if len(request.findings.strip()) > MAX_TEXT:
        problems.append(FieldViolation("findings", f"at most {MAX_TEXT} characters"))
    if not request.scores:
        problems.append(FieldViolation("scores", "is required: every criterion of the item's post scored"))
    if problems:
        raise InvalidArgument(problems)
    return InspectionRequest(
        request_id=request.request_id.strip(),
        item_id=request.item_id.strip(),
        ticket_id=request.ticket_id.strip(),
        scores=[CriterionScore(s.criterion.strip(), s.score, s.note.strip()) for s in request.scores],
        violations=[NamedViolation(v.code.strip().upper(), v.note.strip()) for v in request.violations],
        findings=request.findings.strip(),
    )


def _request_id_problems(request_id: str) -> list[FieldViolation]:
    if len(request_id.strip()) > MAX_REQUEST_ID:
        return [FieldViolation("request_id", f"at most {MAX_REQUEST_ID} characters")]
    return []


def item_to_proto(state: ItemState) -> quality_pb2.SampledTicket:
    item = state.item
    return quality_pb2.SampledTicket(
        agent_id=item.staff_id,
        ticket_id=item.ticket_id,
        item_id=item.item_id,
        post=post_to_proto(item.post),
        kind=str(item.kind),
        team_id=item.team_id,
        occurred_at=timestamp(item.occurred_at),
        day=item.day.isoformat(),
        event_id=item.event_id,
        origin=enum_value(quality_pb2.SampleOrigin, str(state.origin or ""), "SAMPLE_ORIGIN_"),
        inspection_id=state.inspection_id,
        score=state.score,
        detail=item.detail,
        ledger_position=state.position,
    )


def population_to_proto(count: Count) -> quality_pb2.PopulationCount:
    return quality_pb2.PopulationCount(
        post=post_to_proto(count.post), agent_id=count.staff_id, items=count.items, sampled=count.sampled
    )


def sampling_run_to_proto(
    run: StoredRun, samples: list[ItemState], late_items: int
) -> quality_pb2.SamplingRun:
    return quality_pb2.SamplingRun(
        day=run.day.isoformat(),
        samples=[item_to_proto(replace(row, origin=Origin.DAILY)) for row in samples],
        ran_at=timestamp(run.ran_at),
        key_id=run.key_id,
        population=[population_to_proto(count) for count in run.population],
        ledger_position=run.ledger_position,
        rate_per_mille=run.rate_per_mille,
        late_items=late_items,
    )


def spot_check_to_proto(spot: SpotCheck) -> quality_pb2.Inspection:
    return quality_pb2.Inspection(
        inspection_id=spot.spot_check_id,
        spot_check_id=spot.spot_check_id,
        ticket_id=spot.scope.ticket_id,
        inspector=spot.requested_by,
        inspected_at=timestamp(spot.created_at),
        request_id=spot.request_id,
        reason=spot.reason,
        items=[item_to_proto(s) for s in spot.items],
        population=spot.population,
    )


def inspection_to_proto(inspection: Inspection) -> quality_pb2.Inspection:
    return quality_pb2.Inspection(
        inspection_id=inspection.inspection_id,
        ticket_id=inspection.item.item.ticket_id,
        score=inspection.score,
        findings=inspection.findings,
        inspector=inspection.inspector,
        inspected_at=timestamp(inspection.inspected_at),
        item=item_to_proto(inspection.item),
        scores=[
            quality_pb2.CriterionScore(criterion=s.criterion, score=s.score, note=s.note)
            for s in inspection.scores
        ],
        violations=[
            quality_pb2.InspectionViolation(code=v.code, note=v.note, violation_id=v.violation_id)
            for v in inspection.violations
        ],
        request_id=inspection.request_id,
    )
