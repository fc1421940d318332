"""Dispatch's records to and from its protobuf messages: teams, rules, policies, violations, site reports."""

from __future__ import annotations

from desk.proto_fields import duration, enum_name, enum_value, from_timestamp, timestamp
from domain.work_orders import OnsiteReport, PartUsed, SlaPolicyRecord
from helpdesk.v1 import common_pb2
from services.dispatch.contract import RoutingRuleRecord
from services.dispatch.repository import TeamRow, ViolationRow


def onsite_from_proto(message: common_pb2.OnsiteReport) -> OnsiteReport:
    return OnsiteReport(
        departed_at=from_timestamp(message, "departed_at"),
        arrived_at=from_timestamp(message, "arrived_at"),
        restored_at=from_timestamp(message, "restored_at"),
        test_result=enum_name(common_pb2.TestResult, message.test_result, "TEST_RESULT_"),
        parts=[PartUsed(p.name, p.model, p.unit, p.quantity, p.note) for p in message.parts],
        customer_signed=message.customer_signed,
    )


def team_to_proto(t: TeamRow) -> common_pb2.Team:
    return common_pb2.Team(
        team_id=t.team_id,
        name=t.name,
        categories=t.categories,
        regions=t.regions,
        calendar=enum_value(common_pb2.Calendar, t.calendar, "CALENDAR_"),
        time_zone=t.time_zone,
        on_call_contacts=t.on_call_contacts,
        active=t.active,
    )


def rule_to_proto(r: RoutingRuleRecord) -> common_pb2.RoutingRule:
    return common_pb2.RoutingRule(
        rule_id=r.rule_id,
        category=r.category,
        region=r.region,
        customer_tier=enum_value(common_pb2.CustomerTier, r.customer_tier, "CUSTOMER_TIER_"),
        team_id=r.team_id,
        require_review=r.require_review,
        updated_at=timestamp(r.updated_at),
    )


def violation_to_proto(v: ViolationRow) -> common_pb2.Violation:
    return common_pb2.Violation(
        violation_id=v.violation_id,
        ticket_id=v.ticket_id,
        team_id=v.team_id,
        agent_id=v.agent_id,
        deadline_kind=enum_value(common_pb2.DeadlineKind, v.deadline_kind, "DEADLINE_KIND_"),
        work_order_id=v.work_order_id,
        due_at=timestamp(v.due_at),
        recorded_at=timestamp(v.recorded_at),
        chased=v.chased,
        chase_count=v.chase_count,
        source=enum_value(common_pb2.ViolationSource, v.source, "VIOLATION_SOURCE_"),
        code=v.code,
        note=v.note,
    )


def policy_to_proto(p: SlaPolicyRecord) -> common_pb2.SlaPolicy:
    return common_pb2.SlaPolicy(
        priority=enum_value(common_pb2.Priority, p.priority, "PRIORITY_"),
        customer_tier=enum_value(common_pb2.CustomerTier, p.customer_tier, "CUSTOMER_TIER_"),
        team_id=p.team_id,
        response_target=duration(p.response_seconds),
        resolution_target=duration(p.resolution_seconds),
        callback_target=duration(p.callback_seconds),
        warning_percent=p.warning_percent,
        calendar=enum_value(common_pb2.Calendar, p.calendar, "CALENDAR_"),
        version=p.version,
    )
