"""The weekly report's proto mapping, and its stored form: the proto's JSON (field names as in the proto),
the same document GET /v1/quality/reports/{week} answers with."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from helpdesk.v1 import quality_pb2
from services.quality.weekly_report import PersonWeek, ViolationTally, WeeklyReport
from services.quality.wire import post_to_proto


def _post(post: str) -> quality_pb2.Post.ValueType:
    return post_to_proto(post) if post else quality_pb2.POST_UNSPECIFIED


def _person(week: PersonWeek) -> quality_pb2.PersonWeek:
    return quality_pb2.PersonWeek(
        post=_post(week.post),
        agent_id=week.agent_id,
        items=week.items,
        sampled=week.sampled,
        spot_checked=week.spot_checked,
        inspected=week.inspected,
        mean_score=week.mean_score,
        violations=week.violations,
    )


def _tally(tally: ViolationTally) -> quality_pb2.ViolationTally:
    return quality_pb2.ViolationTally(
        source=tally.source,
        agent_id=tally.agent_id,
        team_id=tally.team_id,
        count=tally.count,
        code=tally.code,
    )


def report_to_proto(report: WeeklyReport) -> quality_pb2.QualityReport:
    answer = quality_pb2.QualityReport(
        week=report.week,
        sampled=report.sampled,
        inspected=report.inspected,
        mean_score=report.mean_score,
        first_day=report.first_day,
        last_day=report.last_day,
        final=report.final,
        spot_checked=report.spot_checked,
        posts=[_person(p) for p in report.posts],
        people=[_person(p) for p in report.people],
        criteria=[
            quality_pb2.CriterionMean(
                post=_post(c.post), criterion=c.criterion, mean_score=c.mean_score, inspected=c.inspected
            )
            for c in report.criteria
        ],
        violations_by_person=[_tally(t) for t in report.violations_by_person],
        violations_by_team=[_tally(t) for t in report.violations_by_team],
        weakest=[
            quality_pb2.WeakArea(
                post=_post(w.post), criterion=w.criterion, mean_score=w.mean_score, why=w.why
            )
            for w in report.weakest
        ],
        transfers=[
            quality_pb2.TransferGrading(agent_id=t.agent_id, approved=t.approved, rejected=t.rejected)
            for t in report.transfers
        ],
    )
    answer.generated_at.FromDatetime(report.generated_at)
    return answer


def report_to_json(report: quality_pb2.QualityReport) -> dict[str, Any]:
    """Every field, defaults too: a reader of the stored report or the HTTP answer sees each one."""
    return json_format.MessageToDict(
        report, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def report_from_json(stored: dict[str, Any]) -> quality_pb2.QualityReport:
    return json_format.ParseDict(stored, quality_pb2.QualityReport(), ignore_unknown_fields=True)
