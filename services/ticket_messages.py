"""The ticket's model as common.proto's messages: every service's edge answers with tickets this way.

Each service maps its own messages in its ``wire`` module; the ticket and its work orders are the
domain every service shares, so their one mapping lives here, beside the services and below none."""

from __future__ import annotations

from desk.auth import Principal
from desk.grpc_edge import current_principal
from desk.proto_fields import duration, enum_value, timestamp
from domain.deadlines import Deadline
from domain.line_tests import LineTestResult
from domain.ticket import TicketView
from domain.work_orders import OnsiteReport, WorkOrderRecord
from helpdesk.v1 import common_pb2
from services import customer_data


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
        dispatch_kind=enum_value(common_pb2.DispatchKind, w.dispatch_kind, "DISPATCH_KIND_"),
        dispatched_by=w.dispatched_by,
        reviewed_by=w.reviewed_by,
        review_reason=w.review_reason,
        reviewed_at=timestamp(w.reviewed_at),
        sla_policy_version=w.sla_policy_version,
        last_chased_at=timestamp(w.last_chased_at),
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
    """The ticket as the RPC's caller may see it: customer data by role (services.customer_data).

    Outside an RPC there is no caller and this raises LookupError: no answer without a reader."""
    reader = current_principal()
    draft, r = view.draft, customer_data.reporter_for(reader, view.draft.reporter)
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
        fault_number=customer_data.fault_number_for(reader, draft.fault_number),
        summary=customer_data.free_text_for(reader, draft.summary),
        description=customer_data.free_text_for(reader, draft.description),
        occurred_at=timestamp(draft.occurred_at),
        expected_by=timestamp(draft.expected_by),
        agent_id=draft.agent_id,
        region=draft.region,
        line_test=line_test_to_proto(view.line_test) if view.line_test else None,
        resolved_at_first_contact=view.resolved_at_first_contact,
        cancel_reason=customer_data.free_text_for(reader, view.cancel_reason),
        supplement_count=view.supplements,
        outage_id=draft.outage_id,
        handling=enum_value(common_pb2.Handling, draft.handling, "HANDLING_"),
        callback_attempts=view.callback_attempts,
        next_callback_at=timestamp(view.next_callback_at),
        second_dispatch_count=view.second_dispatches,
        close_reason=customer_data.free_text_for(reader, view.close_reason),
        archived_at=timestamp(view.archived_at),
        repeat_count=view.repeat_count,
        escalated=view.escalated,
        assigned_team_id=view.assigned_team_id,
        work_orders=[work_order_to_proto(w) for w in view.work_orders],
        deadlines=[deadline_to_proto(d) for d in view.deadlines],
        timeline=[_timeline_for(reader, entry) for entry in timeline or []],
        created_at=timestamp(draft.created_at),
        updated_at=timestamp(view.updated_at),
    )


def _timeline_for(reader: Principal, entry: common_pb2.TimelineEntry) -> common_pb2.TimelineEntry:
    """Reasons and details quote what people typed (a supplement, a note): numbers by role too."""
    shown = common_pb2.TimelineEntry()
    shown.CopyFrom(entry)
    shown.reason = customer_data.free_text_for(reader, entry.reason)
    shown.detail = customer_data.free_text_for(reader, entry.detail)
    return shown
