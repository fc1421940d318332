"""The weekly QA report (每周质检分析报告), computed from rows: no I/O here, so it is tested with known rows.

The report is about the week's work: the ledger items of the week's days (Monday to Sunday, the
desk's local days) and what became of them by the time the report is made (docs/quality.md says
it to the user, in "The weekly report"):

- items, and those the daily runs of those days drew (a day's sample is that day's work);
- those drawn by spot checks (whenever the spot check was made), each once;
- those inspected (whenever the inspection was recorded): the mean scores, per person, post and
  criterion, and the violations the inspectors named (INSPECTION, from the quality service's own
  record of the inspection: the hand-off to the ledger may still be under way);
- the violations of the other sources (DEADLINE, INVESTIGATION) recorded in the week in the
  violations ledger (dispatch's): those are facts of the week itself;
- senior agents' grading of transfers: REVIEW items of the week's days, per junior agent graded.

The weakest areas are ranked in two lists, criteria first: the lowest criterion means (below 100),
lowest first, more inspections before fewer on a tie; then the (source, code) pairs with the most
violations, INSPECTION before DEADLINE before INVESTIGATION on a tie. Each list keeps its top three.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.work_orders import DESK_TEAM_ID
from services.dispatch.contract import ViolationRecord, ViolationSource
from services.quality.contract import IsoWeek
from services.quality.scorecards import SCORECARDS, ItemKind, Post

WEAKEST_CRITERIA = 3
WEAKEST_VIOLATIONS = 3
SOURCES = ("INSPECTION", "DEADLINE", "INVESTIGATION")  # the tie-break order of the weakest areas
APPROVED, REJECTED = "APPROVED", "REJECTED"
_INSPECTION = str(ViolationSource.INSPECTION)
_POST_ORDER = {str(post): index for index, post in enumerate(Post)}
_SOURCE_WORDS = {
    "INSPECTION": "named by inspectors",
    "DEADLINE": "deadlines missed",
    "INVESTIGATION": "unsatisfied surveys blamed on the desk",
}


# --- the rows read (services/quality/repository.py) ---


@dataclass(frozen=True)
class WeekItem:
    """A ledger item of one of the week's days."""

    item_id: str
    post: str
    staff_id: str
    kind: str
    sampled: bool  # drawn by its day's daily run
    subject_staff_id: str = ""  # a review's junior agent
    outcome: str = ""  # a review's APPROVED or REJECTED


@dataclass(frozen=True)
class DrawnItem:
    """An item of the week's days a spot check drew, once however many drew it."""

    item_id: str
    post: str
    staff_id: str


@dataclass(frozen=True)
class WeekInspection:
    """The inspection of an item of the week's days, with the item's post, person and team."""

    item_id: str
    post: str
    staff_id: str
    score: int
    scores: tuple[tuple[str, int], ...]  # (criterion, score)
    team_id: str = ""
    codes: tuple[str, ...] = ()  # the violations named, as their codes

    def violations(self) -> list[ViolationRecord]:
        """As the ledger holds them (services/quality/inspection_handoff.py hands them over so)."""
        team = self.team_id or DESK_TEAM_ID
        return [
            ViolationRecord(
                f"{self.item_id}/{n}", ViolationSource.INSPECTION, self.staff_id, team, code, datetime.min
            )
            for n, code in enumerate(self.codes)
        ]


@dataclass(frozen=True)
class WeekRows:
    items: Sequence[WeekItem] = ()
    spot_checked: Sequence[DrawnItem] = ()
    inspections: Sequence[WeekInspection] = ()
    violations: Sequence[ViolationRecord] = ()  # the ledger's, recorded in the week

    def all_violations(self) -> list[ViolationRecord]:
        """The ledger's of the week but inspections', and those the week's inspections named."""
        named = [v for inspection in self.inspections for v in inspection.violations()]
        return [v for v in self.violations if v.source != _INSPECTION] + named


# --- the report ---


@dataclass
class PersonWeek:
    """A person's week in a post; agent_id "" for the post's total."""

    post: str
    agent_id: str
    items: int = 0
    sampled: int = 0
    spot_checked: int = 0
    inspected: int = 0
    mean_score: float = 0.0
    violations: int = 0


@dataclass
class CriterionMean:
    post: str
    criterion: str
    mean_score: float
    inspected: int


@dataclass
class ViolationTally:
    source: str
    agent_id: str
    team_id: str
    code: str
    count: int


@dataclass
class WeakArea:
    post: str  # "" when the area is no one post's (a deadline, or a code of several posts)
    criterion: str
    mean_score: float  # the criterion's mean in the week, 0 when it was not scored
    why: str


@dataclass
class TransferGrading:
    agent_id: str
    approved: int = 0
    rejected: int = 0


@dataclass
class WeeklyReport:
    week: str
    first_day: str
    last_day: str
    generated_at: datetime
    final: bool
    sampled: int
    spot_checked: int
    inspected: int
    mean_score: float
    posts: list[PersonWeek] = field(default_factory=list)
    people: list[PersonWeek] = field(default_factory=list)
    criteria: list[CriterionMean] = field(default_factory=list)
    violations_by_person: list[ViolationTally] = field(default_factory=list)
    violations_by_team: list[ViolationTally] = field(default_factory=list)
    weakest: list[WeakArea] = field(default_factory=list)
    transfers: list[TransferGrading] = field(default_factory=list)


def weekly_report(week: IsoWeek, rows: WeekRows, *, generated_at: datetime, final: bool) -> WeeklyReport:
    violations = rows.all_violations()
    people = _people(rows, violations)
    criteria = _criteria_means(rows.inspections)
    scores = [i.score for i in rows.inspections]
    return WeeklyReport(
        week=week.name,
        first_day=week.first_day.isoformat(),
        last_day=week.last_day.isoformat(),
        generated_at=generated_at,
        final=final,
        sampled=sum(1 for i in rows.items if i.sampled),
        spot_checked=len(rows.spot_checked),
        inspected=len(rows.inspections),
        mean_score=_mean(scores),
        posts=_posts(people, rows.inspections),
        people=people,
        criteria=criteria,
        violations_by_person=_tallies(violations, by_team=False),
        violations_by_team=_tallies(violations, by_team=True),
        weakest=[*_weakest_criteria(criteria), *_weakest_violations(violations, criteria)],
        transfers=_transfers(rows.items),
    )


def _mean(scores: Sequence[int]) -> float:
    return round(sum(scores) / len(scores), 2) if scores else 0.0


def _post_key(post: str) -> int:
    return _POST_ORDER.get(post, len(_POST_ORDER))


def _people(rows: WeekRows, all_violations: Sequence[ViolationRecord]) -> list[PersonWeek]:
    people: dict[tuple[str, str], PersonWeek] = {}

    def person(post: str, staff_id: str) -> PersonWeek:
        return people.setdefault((post, staff_id), PersonWeek(post, staff_id))

    for item in rows.items:
        person(item.post, item.staff_id).items += 1
        person(item.post, item.staff_id).sampled += item.sampled
    for drawn in rows.spot_checked:
        person(drawn.post, drawn.staff_id).spot_checked += 1
    scores: dict[tuple[str, str], list[int]] = defaultdict(list)
    for inspection in rows.inspections:
        scores[inspection.post, inspection.staff_id].append(inspection.score)
    violations = Counter(v.agent_id for v in all_violations if v.agent_id)
    for key, their_scores in scores.items():
        person(*key).inspected = len(their_scores)
        person(*key).mean_score = _mean(their_scores)
    for week in people.values():
        week.violations = violations[week.agent_id]
    return sorted(people.values(), key=lambda p: (_post_key(p.post), p.agent_id))


def _posts(people: Iterable[PersonWeek], inspections: Iterable[WeekInspection]) -> list[PersonWeek]:
    """Each post's total; a person in two posts adds their violations to both."""
    posts: dict[str, PersonWeek] = {}
    for person in people:
        total = posts.setdefault(person.post, PersonWeek(person.post, ""))
        total.items += person.items
        total.sampled += person.sampled
        total.spot_checked += person.spot_checked
        total.inspected += person.inspected
        total.violations += person.violations
    scores: dict[str, list[int]] = defaultdict(list)
    for inspection in inspections:
        scores[inspection.post].append(inspection.score)
    for post, total in posts.items():
        total.mean_score = _mean(scores[post])
    return sorted(posts.values(), key=lambda p: _post_key(p.post))


def _criterion_order(post: str, criterion: str) -> tuple[int, int, str]:
    card = SCORECARDS[Post(post)] if post in _POST_ORDER else None
    names = [c.criterion for c in card.criteria] if card else []
    return (_post_key(post), names.index(criterion) if criterion in names else len(names), criterion)


def _criteria_means(inspections: Iterable[WeekInspection]) -> list[CriterionMean]:
    scores: dict[tuple[str, str], list[int]] = defaultdict(list)
    for inspection in inspections:
        for criterion, score in inspection.scores:
            scores[inspection.post, criterion].append(score)
    means = [CriterionMean(post, criterion, _mean(s), len(s)) for (post, criterion), s in scores.items()]
    return sorted(means, key=lambda m: _criterion_order(m.post, m.criterion))


def _source_key(source: str) -> int:
    return SOURCES.index(source) if source in SOURCES else len(SOURCES)


def _tallies(violations: Iterable[ViolationRecord], *, by_team: bool) -> list[ViolationTally]:
    """Per person (or team) and source, and per code for inspections; those with no person (team) left out."""
    counts = Counter(
        (v.team_id if by_team else v.agent_id, v.source, v.code)
        for v in violations
        if (v.team_id if by_team else v.agent_id)
    )
    tallies = [
        ViolationTally(source, "" if by_team else who, who if by_team else "", code, count)
        for (who, source, code), count in counts.items()
    ]
    return sorted(tallies, key=lambda t: (t.team_id or t.agent_id, _source_key(t.source), t.code))


def _weakest_criteria(criteria: Iterable[CriterionMean]) -> list[WeakArea]:
    weak = sorted(
        (c for c in criteria if c.mean_score < 100),
        key=lambda c: (c.mean_score, -c.inspected, *_criterion_order(c.post, c.criterion)),
    )
    return [
        WeakArea(c.post, c.criterion, c.mean_score, f"mean {c.mean_score:g} over {c.inspected} inspected")
        for c in weak[:WEAKEST_CRITERIA]
    ]


def _weakest_violations(
    violations: Iterable[ViolationRecord], criteria: Iterable[CriterionMean]
) -> list[WeakArea]:
    counts = Counter((v.source, v.code) for v in violations)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], _source_key(kv[0][0]), kv[0][1]))
    means = {(c.post, c.criterion): c.mean_score for c in criteria}
    areas = []
    for (source, code), count in ranked[:WEAKEST_VIOLATIONS]:
        post, criterion = _code_home(code)
        what = f"{code} ({_SOURCE_WORDS.get(source, source)})" if code else _SOURCE_WORDS.get(source, source)
        why = f"{count} {source} violation{'s' if count != 1 else ''}: {what}"
        areas.append(WeakArea(post, criterion, means.get((post, criterion), 0.0), why))
    return areas


def _code_home(code: str) -> tuple[str, str]:
    """The post whose catalogue names the code (when only one does) and the criterion it belongs to."""
    homes = [(card.post, found.criterion) for card in SCORECARDS.values() if (found := card.code(code))]
    criteria = {criterion for _, criterion in homes}
    post = str(homes[0][0]) if len(homes) == 1 else ""
    return post, criteria.pop() if len(criteria) == 1 else ""


def _transfers(items: Iterable[WeekItem]) -> list[TransferGrading]:
    graded: dict[str, TransferGrading] = {}
    for item in items:
        if item.kind != ItemKind.REVIEW or not item.subject_staff_id:
            continue
        grading = graded.setdefault(item.subject_staff_id, TransferGrading(item.subject_staff_id))
        grading.approved += item.outcome == APPROVED
        grading.rejected += item.outcome == REJECTED
    return sorted(graded.values(), key=lambda g: g.agent_id)
