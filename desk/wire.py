"""Contract records to and from protobuf messages. Protobuf stays at the gRPC edge; this is the edge.

Enum values travel in the contracts as the proto names without their prefix ("PHONE", "P2", "VIP").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from domain.deadlines import Deadline
from domain.line_tests import LineTestResult
from domain.ticket import TicketView
from domain.work_orders import OnsiteReport, PartUsed, SlaPolicyRecord, WorkOrderRecord
from helpdesk.v1 import common_pb2
from services.dispatch.contract import RoutingRuleRecord
from services.dispatch.repository import TeamRow, ViolationRow


def enum_name(enum: Any, value: int, prefix: str) -> str:
    """Proto enum value → contract name; "" for UNSPECIFIED or a value this server does not know."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return ""
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def enum_value(enum: Any, name: str, prefix: str) -> Any:
    """Contract name → proto enum value (typed Any: each generated enum has its own ValueType)."""
    return enum.Value(prefix + name) if name else 0


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def from_timestamp(message: object, field: str) -> datetime | None:
    """The field's time in UTC, or None when the message does not carry it."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    value: timestamp_pb2.Timestamp = getattr(message, field)
    return value.ToDatetime(tzinfo=UTC)


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def onsite_from_proto(message: common_pb2.OnsiteReport) -> OnsiteReport:
    return OnsiteReport(
        departed_at=from_timestamp(message, "departed_at"),
        arrived_at=from_timestamp(message, "arrived_at"),
        restored_at=from_timestamp(message, "restored_at"),
        test_result=enum_name(common_pb2.TestResult, message.test_result, "TEST_RESULT_"),
        parts=[PartUsed(p.name, p.model, p.unit, p.quantity, p.note) for p in message.parts],
        customer_signed=message.customer_signed,
    )


def onsite_to_proto(report: OnsiteReport) -> common_pb2.OnsiteReport:
    return common_pb2.OnsiteReport(
        departed_at=timestamp(report.departed_at),
        arrived_at=timestamp(report.arrived_at),
        restored_at=timestamp(report.restored_at),
        test_result=enum_value(common_pb2.TestResult, report.test_result, "TEST_RESULT_"),
        parts=[
            common_pb2.Part(name=p.name, model=p.model, unit=p.unit, quantity=p.quantity, note=p.note)
            for p in report.parts
        ],
        customer_signed=report.customer_signed,
    )


def work_order_to_proto(w: WorkOrderRecord) -> common_pb2.WorkOrder:
    return common_pb2.WorkOrder(
        work_order_id=w.work_order_id,
        ticket_id=w.ticket_id,
        team_id=w.team_id,
        status=enum_value(common_pb2.WorkOrderStatus, w.status.value, "WORK_ORDER_STATUS_"),
        sequence=w.sequence,
        chase_count=w.chase_count,
        onsite=onsite_to_proto(w.onsite) if w.onsite else None,
        created_at=timestamp(w.created_at),
        accepted_at=timestamp(w.accepted_at),
        resolved_at=timestamp(w.resolved_at),
        returned_at=timestamp(w.returned_at),
        engineer=w.engineer,
        cause=w.cause,
        action=w.action,
        return_reason=w.return_reason,
        dispatch_reason=w.dispatch_reason,
        dispatched_by=w.dispatched_by,
        reviewed_by=w.reviewed_by,
        review_reason=w.review_reason,
        reviewed_at=timestamp(w.reviewed_at),
        sla_policy_version=w.sla_policy_version,
        last_chased_at=timestamp(w.last_chased_at),
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


def deadline_to_proto(d: Deadline) -> common_pb2.Deadline:
    return common_pb2.Deadline(
        kind=enum_value(common_pb2.DeadlineKind, d.kind.value, "DEADLINE_KIND_"),
        due_at=timestamp(d.due_at),
        warn_at=timestamp(d.warn_at),
        state=enum_value(common_pb2.DeadlineState, d.state.value, "DEADLINE_STATE_"),
        work_order_id=d.work_order_id,
        met_at=timestamp(d.met_at),
        started_at=timestamp(d.started_at),
        target=duration(d.target_seconds),
        calendar=enum_value(common_pb2.Calendar, d.calendar, "CALENDAR_"),
        time_zone=d.time_zone,
        team_id=d.team_id,
        sla_policy_version=d.sla_policy_version,
    )


def line_test_to_proto(t: LineTestResult) -> common_pb2.LineTest:
    return common_pb2.LineTest(
        result=enum_value(common_pb2.LineTestResult, t.result, "LINE_TEST_RESULT_"),
        fault_code=t.fault_code,
        detail=t.detail,
        tested_at=timestamp(t.tested_at),
        tester=t.tester,
    )


def ticket_to_proto(
    view: TicketView, timeline: list[common_pb2.TimelineEntry] | None = None
) -> common_pb2.Ticket:
    draft, r = view.draft, view.draft.reporter
    return common_pb2.Ticket(
        ticket_id=draft.ticket_id,
        request_id=draft.request_id,
        status=enum_value(common_pb2.TicketStatus, view.status.value, "TICKET_STATUS_"),
        channel=enum_value(common_pb2.Channel, draft.channel, "CHANNEL_"),
        kind=enum_value(common_pb2.TicketKind, draft.kind, "TICKET_KIND_"),
        category=draft.category,
        priority=enum_value(common_pb2.Priority, draft.priority, "PRIORITY_"),
        customer_tier=enum_value(common_pb2.CustomerTier, draft.customer_tier, "CUSTOMER_TIER_"),
        reporter=common_pb2.Reporter(
            name=r.name, organization=r.organization, phone=r.phone, email=r.email, address=r.address
        ),
        fault_number=draft.fault_number,
        summary=draft.summary,
        description=draft.description,
        occurred_at=timestamp(draft.occurred_at),
        expected_by=timestamp(draft.expected_by),
        agent_id=draft.agent_id,
        region=draft.region,
        line_test=line_test_to_proto(view.line_test) if view.line_test else None,
        resolved_at_first_contact=view.resolved_at_first_contact,
        cancel_reason=view.cancel_reason,
        supplement_count=view.supplements,
        outage_id=draft.outage_id,
        handling=enum_value(common_pb2.Handling, draft.handling, "HANDLING_"),
        repeat_count=view.repeat_count,
        escalated=view.escalated,
        assigned_team_id=view.assigned_team_id,
        work_orders=[work_order_to_proto(w) for w in view.work_orders],
        deadlines=[deadline_to_proto(d) for d in view.deadlines],
        timeline=timeline or [],
        created_at=timestamp(draft.created_at),
        updated_at=timestamp(view.updated_at),
    )
