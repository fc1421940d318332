"""The inspection's rules that need no desk: the mean, the scorecard's checks naming each field, the
slice as stored, and the command line's parsing of scores, violations and times."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from cli.quality_inspections import criterion_score, desk_time, named_violation
from services.quality.inspection_records import CriterionScore, InspectionRequest, NamedViolation, Slice
from services.quality.inspections import mean_score, scorecard_violations, violation_id
from services.quality.scorecards import SCORECARDS, Post

STATISTICIAN = SCORECARDS[Post.STATISTICIAN]  # accuracy, completeness, punctuality


def request(
    scores: list[CriterionScore], violations: list[NamedViolation] | None = None
) -> InspectionRequest:
    return InspectionRequest("r", "item", "", scores, violations or [], "")


def all_at(score: int) -> list[CriterionScore]:
    return [CriterionScore(c.criterion, score) for c in STATISTICIAN.criteria]


@pytest.mark.parametrize(
    ("scores", "mean"),
    [((90, 85), 88), ((90, 84), 87), ((100, 100, 99), 100), ((0, 0, 1), 0), ((0, 1), 1), ((60, 80, 80), 73)],
)
def test_the_score_is_the_mean_rounded_half_up(scores: tuple[int, ...], mean: int) -> None:
    assert mean_score([CriterionScore(f"c{n}", s) for n, s in enumerate(scores)]) == mean


def test_a_complete_scorecard_passes() -> None:
    assert scorecard_violations(STATISTICIAN, request(all_at(100), [NamedViolation("REPORT_LATE")])) == []
    assert scorecard_violations(STATISTICIAN, request(all_at(0))) == []


def test_each_problem_names_its_field() -> None:
    scores = [
        CriterionScore("accuracy", 101),
        CriterionScore("attitude", 50),  # an agent's, not a statistician's
        CriterionScore("punctuality", -1),
    ]
    violations = [NamedViolation("REPORT_LATE"), NamedViolation("WRONG_ANSWER")]
    fields = [v.field for v in scorecard_violations(STATISTICIAN, request(scores, violations))]
    assert fields == [
        "scores[0].score",
        "scores[1].criterion",
        "scores[2].score",
        "scores",
        "violations[1].code",
    ]


def test_a_missing_or_repeated_criterion_is_the_scores_field() -> None:
    repeated = [*all_at(80), CriterionScore("accuracy", 70)]
    [problem] = scorecard_violations(STATISTICIAN, request(repeated))
    assert (problem.field, "repeated accuracy" in problem.description) == ("scores", True)
    [problem] = scorecard_violations(STATISTICIAN, request(all_at(80)[1:]))
    assert (problem.field, "missing accuracy" in problem.description) == ("scores", True)


def test_violation_ids_number_from_one() -> None:
    assert violation_id("insp-1", 1) == "inspection/insp-1/1"


def test_a_slice_is_stored_and_read_back_the_same() -> None:
    start = datetime(2025, 4, 2, 16, tzinfo=UTC)
    whole = Slice("T-1", "agent-7", "network", Post.AGENT, start, start + timedelta(days=1))
    assert Slice.from_json(whole.to_json()) == whole
    assert Slice.from_json(Slice().to_json()) == Slice()


def test_the_command_line_reads_scores_violations_and_desk_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_TIME_ZONE", "Asia/Shanghai")
    assert (criterion_score("accuracy=90").criterion, criterion_score("accuracy=90").score) == (
        "accuracy",
        90,
    )
    with pytest.raises(argparse.ArgumentTypeError):
        criterion_score("accuracy")
    named = named_violation("report_late:two days late: again")
    assert (named.code, named.note) == ("REPORT_LATE", "two days late: again")
    assert desk_time("2025-04-03") == datetime(2025, 4, 2, 16, tzinfo=UTC)  # midnight in Shanghai
    assert desk_time("2025-04-03T08:30+00:00") == datetime(2025, 4, 3, 8, 30, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        desk_time("tomorrow")
