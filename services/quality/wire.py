"""The quality service's proto mapping."""

from __future__ import annotations

from desk.proto_fields import timestamp
from helpdesk.v1 import quality_pb2
from services.quality.repository import LedgerRow, StoredRun
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


def ledger_item_to_proto(
    row: LedgerRow, origin: quality_pb2.SampleOrigin.ValueType = quality_pb2.SAMPLE_ORIGIN_UNSPECIFIED
) -> quality_pb2.SampledTicket:
    item = row.item
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
        origin=origin,
        inspection_id=row.inspection_id,
        score=row.score,
        detail=item.detail,
        ledger_position=row.position,
    )


def population_to_proto(count: Count) -> quality_pb2.PopulationCount:
    return quality_pb2.PopulationCount(
        post=post_to_proto(count.post), agent_id=count.staff_id, items=count.items, sampled=count.sampled
    )


def sampling_run_to_proto(
    run: StoredRun, samples: list[LedgerRow], late_items: int
) -> quality_pb2.SamplingRun:
    return quality_pb2.SamplingRun(
        day=run.day.isoformat(),
        samples=[ledger_item_to_proto(row, quality_pb2.SAMPLE_ORIGIN_DAILY) for row in samples],
        ran_at=timestamp(run.ran_at),
        key_id=run.key_id,
        population=[population_to_proto(count) for count in run.population],
        ledger_position=run.ledger_position,
        rate_per_mille=run.rate_per_mille,
        late_items=late_items,
    )
