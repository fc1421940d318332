"""Is a dispatch request acceptable? Teams, routing rules, SLA policies and on-site reports from the wire.

Every bad field is named at once (``INVALID_ARGUMENT`` with a BadRequest); a missing customer
sign-off on an on-site report is a refusal of the transition (``FAILED_PRECONDITION``), not bad input.
"""

from __future__ import annotations

import itertools
import re

from desk import proto_fields
from desk.errors import FieldViolation, InvalidArgument, TransitionNotAllowed
from domain.calendars import is_known_time_zone
from domain.work_orders import OnsiteReport, SlaPolicyRecord
from helpdesk.v1 import common_pb2, dispatch_pb2
from services.dispatch import wire
from services.dispatch.contract import RoutingRuleRecord
from services.dispatch.repository import TeamRow

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""A team id is one token of its NATS subjects (`helpdesk.dispatch.<team>.>`) and of its consumer's and
user's names: with a '.', team `a.b`'s work orders would fall under team `a`'s subjects and credential."""
_TARGETS = ("response_target", "resolution_target", "callback_target")


def require(**fields: str) -> None:
    missing = [FieldViolation(name, "is required") for name, value in fields.items() if not value.strip()]
    if missing:
        raise InvalidArgument(missing)


def _raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        raise InvalidArgument(violations)


def team_from_proto(team: common_pb2.Team) -> TeamRow:
    violations = []
    if not _TEAM_ID.match(team.team_id):
        violations.append(FieldViolation("team.team_id", "lowercase letters, digits, '_', '-'; 1-64"))
    if not team.name.strip():
        violations.append(FieldViolation("team.name", "is required"))
    violations += [
        FieldViolation("team.categories", f"{c!r} is not a category id")
        for c in team.categories
        if not _ID.match(c)
    ]
    calendar = proto_fields.enum_name(common_pb2.Calendar, team.calendar, "CALENDAR_")
    if team.calendar and not calendar:
        violations.append(FieldViolation("team.calendar", f"unknown calendar {team.calendar}"))
    time_zone = team.time_zone or "Asia/Shanghai"
    if not is_known_time_zone(time_zone):
        violations.append(FieldViolation("team.time_zone", f"unknown IANA time zone {team.time_zone!r}"))
    _raise_if(violations)
    return TeamRow(
        team_id=team.team_id,
        name=team.name.strip(),
        categories=list(dict.fromkeys(team.categories)),
        regions=list(dict.fromkeys(r.strip() for r in team.regions if r.strip())),
        calendar=calendar or "24X7",
        time_zone=time_zone,
        on_call_contacts=[c.strip() for c in team.on_call_contacts if c.strip()],
        active=team.active,
    )


def rule_from_proto(rule: common_pb2.RoutingRule) -> RoutingRuleRecord:
    violations = []
    if not _ID.match(rule.rule_id):
        violations.append(FieldViolation("rule.rule_id", "lowercase letters, digits, '.', '_', '-'; 1-64"))
    if rule.category and not _ID.match(rule.category):
        violations.append(FieldViolation("rule.category", f"{rule.category!r} is not a category id"))
    tier = proto_fields.enum_name(common_pb2.CustomerTier, rule.customer_tier, "CUSTOMER_TIER_")
    if rule.customer_tier and not tier:
        violations.append(FieldViolation("rule.customer_tier", f"unknown value {rule.customer_tier}"))
    if not (rule.category or rule.region or tier):
        violations.append(FieldViolation("rule.category", "a rule matches on category, region or tier"))
    _raise_if(violations)
    return RoutingRuleRecord(
        rule_id=rule.rule_id,
        category=rule.category,
        region=rule.region.strip(),
        customer_tier=tier,
        team_id=rule.team_id,
        require_review=rule.require_review,
    )


def policy_from_proto(p: common_pb2.SlaPolicy) -> SlaPolicyRecord:
    violations = [
        FieldViolation(f"policy.{name}", "must be a positive duration")
        for name in _TARGETS
        if getattr(p, name).ToNanoseconds() <= 0
    ]
    if not 0 <= p.warning_percent <= 99:
        violations.append(FieldViolation("policy.warning_percent", "must be between 1 and 99 (0 means 80)"))
    calendar = proto_fields.enum_name(common_pb2.Calendar, p.calendar, "CALENDAR_")
    if p.calendar and not calendar:
        violations.append(FieldViolation("policy.calendar", f"unknown calendar {p.calendar}"))
    for field, enum, prefix in (
        ("priority", common_pb2.Priority, "PRIORITY_"),
        ("customer_tier", common_pb2.CustomerTier, "CUSTOMER_TIER_"),
    ):
        value = getattr(p, field)
        if value and not proto_fields.enum_name(enum, value, prefix):
            violations.append(FieldViolation(f"policy.{field}", f"unknown value {value}"))
    _raise_if(violations)
    return SlaPolicyRecord(
        priority=proto_fields.enum_name(common_pb2.Priority, p.priority, "PRIORITY_"),
        customer_tier=proto_fields.enum_name(common_pb2.CustomerTier, p.customer_tier, "CUSTOMER_TIER_"),
        team_id=p.team_id,
        response_seconds=p.response_target.ToNanoseconds() / 1e9,
        resolution_seconds=p.resolution_target.ToNanoseconds() / 1e9,
        callback_seconds=p.callback_target.ToNanoseconds() / 1e9,
        warning_percent=p.warning_percent or 80,
        calendar=calendar,
    )


def onsite_report(request: dispatch_pb2.ResolveWorkOrderRequest) -> OnsiteReport | None:
    """The on-site report (上门服务单) a resolution needs when it took a visit; None when it did not.

    A visit's report needs its departure, arrival and restore times in that order and the test result;
    without the customer's signature the work order cannot be resolved (FAILED_PRECONDITION).
    """
    if not (request.onsite_visit or request.HasField("onsite")):
        return None
    if not request.HasField("onsite"):
        raise InvalidArgument.one("onsite", "is required when the resolution needed a visit")
    report = wire.onsite_from_proto(request.onsite)
    times = [("departed_at", report.departed_at), ("arrived_at", report.arrived_at)]
    times.append(("restored_at", report.restored_at))
    violations = [FieldViolation(f"onsite.{name}", "is required") for name, at in times if at is None]
    if not report.test_result:
        violations.append(FieldViolation("onsite.test_result", "is required (NORMAL or ABNORMAL)"))
    violations += [
        FieldViolation(f"onsite.{later}", f"is before onsite.{earlier}")
        for (earlier, a), (later, b) in itertools.pairwise(times)
        if a is not None and b is not None and b < a
    ]
    violations += [
        FieldViolation(f"onsite.parts[{i}]", "needs a name and a positive quantity")
        for i, part in enumerate(report.parts)
        if not part.name.strip() or part.quantity <= 0
    ]
    _raise_if(violations)
    if not report.customer_signed:
        raise TransitionNotAllowed("an on-site work order is resolved only with the customer's sign-off")
    return report
