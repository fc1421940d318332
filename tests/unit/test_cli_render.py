"""What `helpdesk` prints for a person (cli/render.py), on the desk's real generated messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from google.protobuf import duration_pb2, empty_pb2, timestamp_pb2

from cli.render import readable_duration, render
from cli.tables import display_width
from helpdesk.v1 import common_pb2 as C
from helpdesk.v1 import intake_pb2, quality_pb2, survey_pb2

SHANGHAI = ZoneInfo("Asia/Shanghai")
TICKET_ID = "TK20261123000001"
WORK_ORDER_ID = f"{TICKET_ID}-W1"


def _at(hour: int, minute: int) -> timestamp_pb2.Timestamp:
    """A time on 2026-11-23 in UTC (eight hours behind Shanghai)."""
    moment = timestamp_pb2.Timestamp()
    moment.FromDatetime(datetime(2026, 11, 23, hour, minute, tzinfo=UTC))
    return moment


def _ticket(**overrides: object) -> C.Ticket:
    work_order = C.WorkOrder(
        work_order_id=WORK_ORDER_ID,
        ticket_id=TICKET_ID,
        team_id="network",
        status=C.WORK_ORDER_STATUS_ACCEPTED,
        engineer="Wang Wu",
        created_at=_at(1, 40),
        accepted_at=_at(1, 52),
    )
    deadlines = [
        C.Deadline(
            kind=C.DEADLINE_KIND_RESPONSE,
            work_order_id=WORK_ORDER_ID,
            state=C.DEADLINE_STATE_MET,
            due_at=_at(2, 10),
            met_at=_at(1, 52),
            target=duration_pb2.Duration(seconds=1800),
        ),
        C.Deadline(kind=C.DEADLINE_KIND_RESOLUTION, state=C.DEADLINE_STATE_PENDING, due_at=_at(5, 40)),
    ]
    fields: dict[str, object] = {
        "ticket_id": TICKET_ID,
        "status": C.TICKET_STATUS_IN_PROGRESS,
        "channel": C.CHANNEL_PHONE,
        "kind": C.TICKET_KIND_FAULT,
        "category": "network",
        "priority": C.PRIORITY_P2,
        "customer_tier": C.CUSTOMER_TIER_VIP,
        "reporter": C.Reporter(name="Li Lei", phone="13812346138"),
        "summary": "No dial tone",
        "assigned_team_id": "network",
        "created_at": _at(1, 40),
        "work_orders": [work_order],
        "deadlines": deadlines,
        "timeline": [
            C.TimelineEntry(sequence=1, type="ticket.created", actor="agent-7", occurred_at=_at(1, 40)),
            C.TimelineEntry(sequence=2, type="dispatch.accepted", actor="王五", occurred_at=_at(1, 52)),
        ],
    }
    fields.update(overrides)
    return C.Ticket(**fields)  # type: ignore[arg-type]


def _value(lines: list[str], label: str) -> str:
    """The value of the record line `label: value`."""
    [value] = [line.split(":", 1)[1].strip() for line in lines if line.strip().startswith(label + ":")]
    return value


def _rows(lines: list[str], header_start: str) -> list[str]:
    """A table: its header (the line starting with `header_start`) and its rows, up to a blank line."""
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(header_start))
    rows = []
    for line in lines[at:]:
        if not line.strip():
            break
        rows.append(line)
    return rows


def _column(rows: list[str], header: str) -> list[str]:
    """The cells under `header`, cut at its display column (tables align by display width)."""
    start = display_width(rows[0][: rows[0].index(header)])
    return [_from_column(row, start).split("  ")[0] for row in rows[1:]]


def _from_column(line: str, column: int) -> str:
    used = 0
    for i, c in enumerate(line):
        if used >= column:
            return line[i:]
        used += display_width(c)
    return ""


def test_a_ticket_reads_as_a_summary_line_its_fields_and_tables_in_local_time() -> None:
    lines = render(_ticket(), zone=SHANGHAI).splitlines()

    assert lines[0] == f"Ticket {TICKET_ID} · IN_PROGRESS · P2 · No dial tone"
    assert _value(lines, "kind") == "FAULT"
    assert _value(lines, "customer tier") == "VIP"
    assert _value(lines, "reporter") == "Li Lei, 13812346138"
    assert _value(lines, "created at") == "2026-11-23 09:40:00 CST"  # 01:40 UTC, in Shanghai

    work_orders = _rows(lines, "WORK ORDER")
    assert _column(work_orders, "WORK ORDER") == [WORK_ORDER_ID]
    assert _column(work_orders, "STATUS") == ["ACCEPTED"]
    assert _column(work_orders, "ENGINEER") == ["Wang Wu"]
    assert _column(work_orders, "CREATED AT") == ["2026-11-23 09:40"]

    deadlines = _rows(lines, "KIND")
    assert _column(deadlines, "KIND") == ["RESPONSE", "RESOLUTION"]
    assert _column(deadlines, "STATE") == ["MET", "PENDING"]
    assert _column(deadlines, "DUE AT") == ["2026-11-23 10:10", "2026-11-23 13:40"]
    assert _column(deadlines, "MET AT") == ["2026-11-23 09:52", ""]


def test_enums_lose_their_prefix_and_empty_fields_are_left_out() -> None:
    text = render(_ticket(), zone=SHANGHAI)

    for prefix in (
        "TICKET_STATUS_",
        "CHANNEL_",
        "PRIORITY_",
        "WORK_ORDER_STATUS_",
        "DEADLINE_",
        "_UNSPECIFIED",
    ):
        assert prefix not in text
    labels = {line.split(":")[0].strip() for line in text.splitlines() if ":" in line}
    for empty in ("escalated", "repeat count", "outage id", "cancel reason", "description", "line test"):
        assert empty not in labels
    assert "ticket id" not in labels  # it is in the first line


def test_columns_line_up_by_display_width_with_chinese_text() -> None:
    timeline = _rows(render(_ticket(), zone=SHANGHAI).splitlines(), "OCCURRED AT")

    assert _column(timeline, "ACTOR") == ["agent-7", "王五"]
    assert _column(timeline, "TYPE") == ["ticket.created", "dispatch.accepted"]
    # `王五` is two characters but four columns wide: nothing after it would line up otherwise.
    widths = {
        display_width(row[: row.index(cell)])
        for row, cell in zip(timeline[1:], ("agent-7", "王五"), strict=True)
    }
    assert len(widths) == 1


def test_times_are_in_the_local_time_zone_when_none_is_given(local_zone: None) -> None:
    lines = render(_ticket(), zone=None).splitlines()

    assert _value(lines, "created at") == "2026-11-23 09:40:00 CST"


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_list_answer_is_a_table_with_a_count_and_the_next_page() -> None:
    answer = intake_pb2.ListTicketsResponse(
        tickets=[
            _ticket(),
            _ticket(ticket_id="TK20261123000002", summary="光模块告警", status=C.TICKET_STATUS_OPEN),
        ],
        next_page_token="page-2",
    )
    lines = render(answer, zone=SHANGHAI).splitlines()

    assert _column(lines[:3], "TICKET") == [TICKET_ID, "TK20261123000002"]
    assert _column(lines[:3], "STATUS") == ["IN_PROGRESS", "OPEN"]
    assert _column(lines[:3], "SUMMARY") == ["No dial tone", "光模块告警"]
    assert lines[3] == "2 tickets; next page: --page-token page-2"
    assert render(intake_pb2.ListTicketsResponse()) == "no tickets"


def test_a_wrapped_answer_shows_its_own_fields_then_the_record_it_carries() -> None:
    created = intake_pb2.CreateTicketResponse(ticket=_ticket(), outcome=intake_pb2.CREATE_OUTCOME_REPEAT)
    lines = render(created, zone=SHANGHAI).splitlines()

    assert lines[0] == "outcome: REPEAT"
    assert f"Ticket {TICKET_ID} · IN_PROGRESS · P2 · No dial tone" in lines


def test_a_work_order_shows_its_onsite_report_as_a_section_with_its_parts() -> None:
    onsite = C.OnsiteReport(
        arrived_at=_at(2, 0),
        test_result=C.TEST_RESULT_NORMAL,
        parts=[C.Part(name="jumper", quantity=2)],
        customer_signed=True,
    )
    answer = C.WorkOrder(work_order_id=WORK_ORDER_ID, status=C.WORK_ORDER_STATUS_RESOLVED, onsite=onsite)
    lines = render(answer, zone=SHANGHAI).splitlines()

    assert lines[0] == f"Work order {WORK_ORDER_ID} · RESOLVED"
    assert "  onsite" in lines
    assert _value(lines, "arrived at") == "2026-11-23 10:00:00 CST"
    assert _value(lines, "test result") == "NORMAL"
    assert _value(lines, "customer signed") == "yes"
    assert _column(_rows(lines, "NAME"), "QUANTITY") == ["2"]


def test_a_callback_not_reached_says_so_rather_than_leaving_it_out() -> None:
    answer = survey_pb2.Callback(ticket_id=TICKET_ID, ticket_status=C.TICKET_STATUS_RESOLVED, surveyor="s-1")
    lines = render(answer, zone=SHANGHAI).splitlines()

    assert lines[0] == f"Callback {TICKET_ID} · RESOLVED"
    assert _value(lines, "reached") == "no"
    assert _value(lines, "confirmed resolved") == "no"


def test_a_message_without_hints_still_reads_well() -> None:
    survey = survey_pb2.Survey(
        ticket_id=TICKET_ID, rating=survey_pb2.RATING_UNSATISFIED, submitted_at=_at(3, 0)
    )
    lines = render(survey, zone=SHANGHAI).splitlines()
    assert lines[0] == f"Survey {TICKET_ID}"
    assert _value(lines, "rating") == "UNSATISFIED"
    assert _value(lines, "submitted at") == "2026-11-23 11:00:00 CST"

    run = quality_pb2.SamplingRun(
        day="2026-11-23",
        samples=[quality_pb2.SampledTicket(agent_id="agent-7", ticket_id=TICKET_ID)],
    )
    lines = render(run, zone=SHANGHAI).splitlines()
    assert _value(lines, "day") == "2026-11-23"
    assert _column(_rows(lines, "AGENT"), "TICKET") == [TICKET_ID]


def test_durations_maps_and_unknown_enum_numbers() -> None:
    policy = C.SlaPolicy(priority=C.PRIORITY_P1, response_target=duration_pb2.Duration(seconds=5400))
    assert _value(render(policy).splitlines(), "response target") == "1h 30m"
    assert [readable_duration(timedelta(seconds=s)) for s in (0.5, 45, 86400 + 4 * 3600, -60)] == [
        "0.5s",
        "45s",
        "1d 4h",
        "-1m",
    ]
    turn = intake_pb2.IvrTurn(
        call_id="call-1", prompts=[intake_pb2.IvrPrompt(code="menu", params={"n": "3"})]
    )
    assert _column(_rows(render(turn).splitlines(), "CODE"), "PARAMS") == ["n=3"]
    assert (
        render(C.Deadline(state=cast("C.DeadlineState.ValueType", 99))).splitlines()[0] == "Deadline · 99"
    )  # a newer server's value
    assert render(empty_pb2.Empty()) == "done"


def test_tables_narrow_their_text_to_fit_the_terminal_but_keep_ids_and_times_whole() -> None:
    noisy = "category=network, channel=PHONE, customer_tier=STANDARD, kind=FAULT, priority=P3"
    entries = [C.TimelineEntry(type="ticket.created", actor="agent-7", occurred_at=_at(1, 40), detail=noisy)]
    ticket = _ticket(timeline=entries)

    timeline = _rows(render(ticket, zone=SHANGHAI, width=80).splitlines(), "OCCURRED AT")
    assert max(display_width(line) for line in timeline) == 80
    assert _column(timeline, "OCCURRED AT") == ["2026-11-23 09:40"]
    assert _column(timeline, "DETAIL")[0].startswith("category=") and timeline[1].endswith("…")
    assert max(display_width(line) for line in render(ticket).splitlines()) > 80

    listed = render(intake_pb2.ListTicketsResponse(tickets=[ticket]), zone=SHANGHAI, width=40).splitlines()
    assert _column(listed[:2], "TICKET") == [TICKET_ID]  # wider than 40 then: a cut id is of no use
    assert _column(listed[:2], "CREATED AT") == ["2026-11-23 09:40"]
