"""The quality service's proto mapping."""

from __future__ import annotations

from helpdesk.v1 import quality_pb2
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
