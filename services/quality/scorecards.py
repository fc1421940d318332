"""What an inspection scores, per post: the criteria of seed 002 六.2-六.7 and the violations they name.

Every criterion is scored 0-100; the inspection's score is their mean. A violation names one code of
the post's catalogue and is recorded in the violations ledger against the person who did the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Post(StrEnum):
    """The business posts (业务岗位) whose daily work is sampled (names as in the proto, unprefixed)."""

    AGENT = "AGENT"
    SENIOR_AGENT = "SENIOR_AGENT"
    SURVEYOR = "SURVEYOR"
    DATA_MANAGER = "DATA_MANAGER"
    STATISTICIAN = "STATISTICIAN"


class ItemKind(StrEnum):
    """What a handled item was (services/quality/workload.py decides it from the event)."""

    RECORD = "RECORD"  # a report recorded (ticket.created)
    SUPPLEMENT = "SUPPLEMENT"  # a supplement added to an open ticket
    FIRST_CONTACT_ANSWER = "FIRST_CONTACT_ANSWER"  # answered during the call (现场答复)
    DISPATCH = "DISPATCH"  # a work order sent or proposed (派单)
    CHASE = "CHASE"  # a chase by hand (追单)
    REVIEW = "REVIEW"  # a junior agent's dispatch approved or rejected (审核)
    CALLBACK = "CALLBACK"  # a callback attempt (回访)
    SURVEY = "SURVEY"  # a satisfaction survey's answer recorded
    INVESTIGATION = "INVESTIGATION"  # an unsatisfied survey investigated
    KNOWLEDGE_ENTRY = "KNOWLEDGE_ENTRY"  # a knowledge entry written or revised
    ARCHIVE = "ARCHIVE"  # a ticket filed the next day (归档)
    REPORT = "REPORT"  # a statistics report produced


@dataclass(frozen=True)
class Criterion:
    criterion: str
    title: str
    source: str  # the seed's words


@dataclass(frozen=True)
class ViolationCode:
    code: str
    title: str
    criterion: str


@dataclass(frozen=True)
class Scorecard:
    post: Post
    criteria: tuple[Criterion, ...]
    violation_codes: tuple[ViolationCode, ...]

    def criterion_names(self) -> frozenset[str]:
        return frozenset(c.criterion for c in self.criteria)

    def code(self, code: str) -> ViolationCode | None:
        return next((v for v in self.violation_codes if v.code == code), None)


_ANSWERING = (
    Criterion("record_accuracy", "Forms recorded accurately", "各类登记表的准确性"),
    Criterion("answer_speed", "Answered promptly", "答复是否迅速"),
    Criterion("answer_accuracy", "Answered correctly", "答复是否准确"),
    Criterion("attitude", "Courteous", "态度是否和蔼"),
    Criterion("dispatch_timeliness", "Dispatches, chases and returns in time", "派单、追单、退单是否及时"),
    Criterion("dispatch_correctness", "Dispatches, chases and returns correct", "派单、追单、退单是否准确"),
    Criterion(
        "handover",
        "No customer passed between seats; information handed over",
        "是否有座席之间相互推诿用户现象、资料传递是否流畅",
    ),
)
_ANSWERING_CODES = (
    ViolationCode("RECORD_INACCURATE", "A form recorded wrongly", "record_accuracy"),
    ViolationCode("SLOW_ANSWER", "The customer waited for the answer", "answer_speed"),
    ViolationCode("WRONG_ANSWER", "A wrong answer given", "answer_accuracy"),
    ViolationCode("DISCOURTEOUS", "Not courteous to the customer", "attitude"),
    ViolationCode("LATE_DISPATCH", "A dispatch, chase or return made late", "dispatch_timeliness"),
    ViolationCode("WRONG_DISPATCH", "A dispatch, chase or return to the wrong place", "dispatch_correctness"),
    ViolationCode("SHIRKING", "The customer passed between seats", "handover"),
)

SCORECARDS: dict[Post, Scorecard] = {
    Post.AGENT: Scorecard(
        Post.AGENT,
        (
            Criterion(
                "record_completeness", "The report recorded completely", "初级话务员对障碍申告单记录是否完整"
            ),
            *_ANSWERING,
            Criterion(
                "transfer_correctness", "Transferred to a senior agent correctly", "所转电话的正确性 (三.3)"
            ),
        ),
        (
            ViolationCode("RECORD_INCOMPLETE", "The report recorded incompletely", "record_completeness"),
            *_ANSWERING_CODES,
            ViolationCode(
                "WRONG_TRANSFER", "A transfer a senior agent should not have had", "transfer_correctness"
            ),
        ),
    ),
    Post.SENIOR_AGENT: Scorecard(
        Post.SENIOR_AGENT,
        (
            *_ANSWERING,
            Criterion(
                "review_correctness",
                "Reviews of dispatches, chases and returns correct",
                "对派单、追单、退单的审核是否准确",
            ),
        ),
        (
            *_ANSWERING_CODES,
            ViolationCode("WRONG_REVIEW", "A dispatch approved or rejected wrongly", "review_correctness"),
        ),
    ),
    Post.SURVEYOR: Scorecard(
        Post.SURVEYOR,
        (
            Criterion("warnings_on_time", "Warnings handled on time", "预警是否按时处理"),
            Criterion("chases_on_time", "Chases (alarms) handled on time", "催单(告警)是否按时处理"),
            Criterion("nothing_missed", "Nothing missed", "是否有遗漏"),
            Criterion("survey_record", "Survey results recorded correctly", "调查结果记录"),
            Criterion("attitude", "Courteous", "用户满意度调查员的工作情况"),
        ),
        (
            ViolationCode("LATE_WARNING", "A warning handled late", "warnings_on_time"),
            ViolationCode("LATE_CHASE", "A chase handled late", "chases_on_time"),
            ViolationCode("MISSED", "A callback, survey or chase missed", "nothing_missed"),
            ViolationCode("SURVEY_MISRECORDED", "A survey result recorded wrongly", "survey_record"),
            ViolationCode("DISCOURTEOUS", "Not courteous to the customer", "attitude"),
        ),
    ),
    Post.DATA_MANAGER: Scorecard(
        Post.DATA_MANAGER,
        (
            Criterion("completeness", "Knowledge base and archive complete", "整理的资料库是否完整"),
            Criterion(
                "timeliness",
                "Filed in time (archive the next day, an entry within half a working day)",
                "是否及时",
            ),
            Criterion("searchability", "Easy to find", "检索是否方便"),
        ),
        (
            ViolationCode("INCOMPLETE", "An entry or an archive incomplete", "completeness"),
            ViolationCode("LATE", "An entry or an archive late", "timeliness"),
            ViolationCode("HARD_TO_FIND", "Filed where it cannot be found", "searchability"),
        ),
    ),
    Post.STATISTICIAN: Scorecard(
        Post.STATISTICIAN,
        (
            Criterion("accuracy", "Reports accurate", "报表统计是否准确"),
            Criterion("completeness", "Reports complete", "报表统计是否全面"),
            Criterion("punctuality", "Reports on time", "上报是否按时"),
        ),
        (
            ViolationCode("REPORT_INACCURATE", "A report's numbers wrong", "accuracy"),
            ViolationCode("REPORT_INCOMPLETE", "A report missing a section", "completeness"),
            ViolationCode("REPORT_LATE", "A report late", "punctuality"),
        ),
    ),
}
