"""Statistics reports on the real stack: known roll-up rows (put into the read model's tables by SQL,
on days of 2020 to 2024 no other test touches), GenerateReport's numbers, one report under concurrent
callers, a stored report unchanged after a late event and the next report's late corrections line,
``report.generated`` on the stream, the refusals, listing, the Schedules and the command line.

Each test uses its own period kind and days, so that the late corrections one test causes are no
other test's business.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import grpc
import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from desk import db
from desk.event_bus import EventPublisher, connect
from desk.events import EventSpec, ticket_subject
from desk.payload_codec import encrypted_converter, parse_key
from helpdesk.v1 import stats_pb2, stats_pb2_grpc
from services.stats.periods import Boundary, PeriodKind, ReportPeriod
from services.stats.schedules import ensure_schedules
from tests.integration.desk_client import auth, bad_fields, stream_events
from tests.stack import PROJECT_ROOT, RunningDesk
from workflows.stats_contract import REPORT_SCHEDULES, REPORT_WORKFLOW

S = stats_pb2
SHANGHAI = "Asia/Shanghai"
SQL_DAYS = ("2022-01-01", "2024-12-31")
"""The days this module puts roll-up rows on by SQL (and removes them from when it is done)."""
KEY = ("team_id", "channel", "kind", "customer_tier", "handling", "stage")


@pytest.fixture(scope="module")
async def pool(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(desk.endpoints["postgres"], max_size=4)
    try:
        yield pool
        # The rows put in by SQL are no event's: a rebuild from the stream (another test's) would not
        # make them again, so they go when this module is done. Those of events (2021) stay.
        for table in ("daily", "daily_agents"):
            await pool.execute(
                f"DELETE FROM stats.{table} WHERE day BETWEEN '{SQL_DAYS[0]}' AND '{SQL_DAYS[1]}'"
            )
    finally:
        await pool.close()


def _stub(desk: RunningDesk) -> stats_pb2_grpc.StatsServiceStub:
    return stats_pb2_grpc.StatsServiceStub(desk.channel("stats"))


def _statistician(desk: RunningDesk) -> tuple[tuple[str, str], ...]:
    return auth(desk.token("statistician"))


async def _generate(
    desk: RunningDesk,
    period: S.Period.ValueType,
    day: str,
    boundary: S.PeriodBoundary.ValueType = S.PERIOD_BOUNDARY_UNSPECIFIED,
) -> S.Report:
    request = S.GenerateReportRequest(period=period, day=day, boundary=boundary)
    report: S.Report = await _stub(desk).GenerateReport(request, metadata=_statistician(desk), timeout=60)
    return report


async def _row(pool: asyncpg.Pool, day: str, key: tuple[str, ...], **counters: int) -> None:
    """Add counters to one roll-up row of ``stats.daily``, as the projection would."""
    columns = list(counters)
    await pool.execute(
        f"INSERT INTO stats.daily (day, {', '.join(KEY)}, {', '.join(columns)})"
        f" VALUES ($1, {', '.join(f'${i + 2}' for i in range(len(KEY) + len(columns)))})"
        " ON CONFLICT (day, team_id, channel, kind, customer_tier, handling, stage) DO UPDATE SET "
        + ", ".join(f"{c} = stats.daily.{c} + excluded.{c}" for c in columns),
        date.fromisoformat(day),
        *key,
        *counters.values(),
    )


async def _agent_row(pool: asyncpg.Pool, day: str, agent_id: str, **counters: int) -> None:
    columns = list(counters)
    await pool.execute(
        f"INSERT INTO stats.daily_agents (day, agent_id, {', '.join(columns)})"
        f" VALUES ($1, $2, {', '.join(f'${i + 3}' for i in range(len(columns)))})",
        date.fromisoformat(day),
        agent_id,
        *counters.values(),
    )


PHONE_DESK = ("network", "PHONE", "FAULT", "STANDARD", "MANUAL", "JUNIOR_AGENT")
WEB_IVR = ("", "WEB", "CONSULTATION", "VIP", "AUTOMATIC", "IVR")
EMAIL_DESK = ("software", "EMAIL", "COMPLAINT", "STANDARD", "MANUAL", "SENIOR_AGENT")


# --- the numbers ---


async def test_a_months_report_has_the_roll_ups_numbers_of_its_days_only(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    await _row(
        pool, "2024-05-03", PHONE_DESK, tickets=3, dispatches=2, dispatches_answered=1, warnings=1,
        overdue_alarms=1, chases=1, returns=1, second_dispatches=1, surveys_answered=2, surveys_expired=1,
        rating_satisfied=1, rating_unsatisfied=1, sla_resolution_met=1, sla_resolution_missed=1,
        escalations_complaint=1, escalations_resolved=1,
    )  # fmt: skip
    await _row(pool, "2024-05-31", WEB_IVR, tickets=2, first_contact_resolved=2)
    await _row(pool, "2024-04-30", WEB_IVR, tickets=50)  # the day before: another month
    await _row(pool, "2024-06-01", PHONE_DESK, tickets=100)  # the day after
    await _agent_row(pool, "2024-05-10", "rep-a", recorded=3, first_contact_resolved=1, dispatches=2)

    report = await _generate(desk, S.PERIOD_MONTHLY, "2024-05-17", S.PERIOD_BOUNDARY_CALENDAR)

    assert (report.report_id, report.period, report.boundary) == (
        "MONTHLY-2024-05", S.PERIOD_MONTHLY, S.PERIOD_BOUNDARY_CALENDAR,
    )  # fmt: skip
    assert (report.period_start, report.period_end) == ("2024-05-01", "2024-05-31")
    assert report.tickets == 5
    assert dict(report.volume_by_channel) == {"PHONE": 3, "WEB": 2}
    assert dict(report.volume_by_kind) == {"FAULT": 3, "CONSULTATION": 2}
    assert dict(report.volume_by_customer_tier) == {"STANDARD": 3, "VIP": 2}
    assert dict(report.volume_by_handling) == {"MANUAL": 3, "AUTOMATIC": 2}
    assert dict(report.volume_by_stage) == {"JUNIOR_AGENT": 3, "IVR": 2}
    counts = (
        report.dispatches, report.dispatches_answered, report.warnings, report.overdue_alarms,
        report.chases, report.returns, report.second_dispatches, report.redispatches,
    )  # fmt: skip
    assert counts == (2, 1, 1, 1, 1, 1, 1, 1)
    assert (report.surveys_answered, report.surveys_expired, report.satisfaction_rate) == (2, 1, 0.5)
    assert dict(report.satisfaction) == {"SATISFIED": 1, "UNSATISFIED": 1}
    assert dict(report.escalations_by_source) == {"COMPLAINT": 1}
    assert report.escalations_resolved == 1
    [team] = report.teams
    assert (team.team_id, team.dispatches, team.answered, team.sla_met, team.sla_missed) == (
        "network", 2, 1, 1, 1,
    )  # fmt: skip
    assert team.sla_compliance == 0.5
    [agent] = report.agents
    assert (agent.agent_id, agent.recorded, agent.first_contact_resolved, agent.dispatches) == (
        "rep-a",
        3,
        1,
        2,
    )
    assert [(v.day, v.channel, v.tickets) for v in report.daily_volume] == [
        ("2024-05-03", "PHONE", 3), ("2024-05-31", "WEB", 2),
    ]  # fmt: skip
    assert (report.kpis.tickets, report.kpis.first_contact_resolved, report.kpis.fcr_rate) == (5, 2, 0.4)
    assert report.kpis.satisfaction_rate == 0.5
    assert getattr(report.kpis, "from").ToDatetime(UTC) == datetime(2024, 4, 30, 16, tzinfo=UTC)
    assert not report.late_corrections

    events = await stream_events(
        desk.endpoints["nats"],
        lambda e: e.type == "report.generated" and e.payload["report_id"] == "MONTHLY-2024-05",
        until=lambda found: len(found) >= 1,
    )
    [event] = events
    assert event.subject == "helpdesk.report.generated" and event.msg_id == "report/generated/MONTHLY-2024-05"
    envelope = event.envelope
    assert envelope.actor == "dev-statistician"
    payload = dict(envelope.payload)
    assert {k: payload[k] for k in ("period", "boundary", "period_start", "period_end")} == {
        "period": "MONTHLY", "boundary": "CALENDAR", "period_start": "2024-05-01", "period_end": "2024-05-31",
    }  # fmt: skip
    # The quality service's ledger makes it the statistician's work (an item an inspector may sample).
    for _ in range(150):
        item = await pool.fetchrow(
            "SELECT post, staff_id FROM quality.items WHERE item_id = 'report/MONTHLY-2024-05'"
        )
        if item is not None:
            assert (item["post"], item["staff_id"]) == ("STATISTICIAN", "dev-statistician")
            break
        await asyncio.sleep(0.2)
    else:
        pytest.fail("report.generated did not become the statistician's item within 30 s")


async def test_twenty_concurrent_calls_store_one_report_and_publish_one_event(desk: RunningDesk) -> None:
    reports = await asyncio.gather(*(_generate(desk, S.PERIOD_YEARLY, "2022-03-01") for _ in range(20)))
    assert {r.report_id for r in reports} == {"YEARLY-2022"}
    assert len({r.SerializeToString(deterministic=True) for r in reports}) == 1  # the same generated_at too
    again = await _generate(desk, S.PERIOD_YEARLY, "2022-12-31")
    assert again == reports[0]
    events = await stream_events(
        desk.endpoints["nats"],
        lambda e: e.type == "report.generated" and e.payload["report_id"] == "YEARLY-2022",
        until=lambda found: len(found) >= 2,
        within=3,
    )
    assert len(events) == 1


# --- late corrections ---


async def test_a_late_event_leaves_the_report_unchanged_and_is_the_next_reports_late_correction(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    day21 = S.PERIOD_BOUNDARY_DAY_21
    await _row(pool, "2023-05-01", PHONE_DESK, tickets=4, warnings=1)
    april = await _generate(desk, S.PERIOD_MONTHLY, "2023-05-01", day21)
    assert (april.report_id, april.period_start, april.period_end) == (
        "MONTHLY21-2023-04-21", "2023-04-21", "2023-05-20",
    )  # fmt: skip
    assert april.tickets == 4

    # Events the read model applies after the report: on 2 May (inside April's day-21 month).
    await _row(pool, "2023-05-02", EMAIL_DESK, tickets=2)
    await _row(pool, "2023-05-20", PHONE_DESK, warnings=3)
    stored = await _stub(desk).GetReport(
        S.GetReportRequest(report_id=april.report_id), metadata=_statistician(desk)
    )
    assert stored == april
    assert await _generate(desk, S.PERIOD_MONTHLY, "2023-04-30", day21) == april
    with pytest.raises(asyncpg.RaiseError):
        await pool.execute(
            "UPDATE stats.reports SET generated_by = 'x' WHERE report_id = $1", april.report_id
        )

    await _row(pool, "2023-06-01", PHONE_DESK, tickets=1)
    may = await _generate(desk, S.PERIOD_MONTHLY, "2023-06-01", day21)
    assert may.report_id == "MONTHLY21-2023-05-21" and may.tickets == 1
    lines = {(c.period_start, c.period_end, c.measure): c.delta for c in may.late_corrections}
    april_days = ("2023-04-21", "2023-05-20")
    assert lines[(*april_days, "tickets")] == 2
    assert lines[(*april_days, "volume_by_channel/EMAIL")] == 2
    assert lines[(*april_days, "volume_by_stage/SENIOR_AGENT")] == 2
    assert lines[(*april_days, "warnings")] == 3
    assert all(start == "2023-04-21" for start, _, _ in lines)

    # Reported once: the report after has none of them, and a new late event only its own delta.
    await _row(pool, "2023-05-03", EMAIL_DESK, tickets=1)
    june = await _generate(desk, S.PERIOD_MONTHLY, "2023-07-01", day21)
    june_lines = {(c.period_start, c.measure): c.delta for c in june.late_corrections}
    assert june_lines[("2023-04-21", "tickets")] == 1
    assert ("2023-04-21", "warnings") not in june_lines
    assert not any(start == "2023-05-21" for start, _ in june_lines)


async def test_two_later_reports_generated_at_once_report_a_late_change_once(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    day21 = S.PERIOD_BOUNDARY_DAY_21
    first = await _generate(desk, S.PERIOD_YEARLY, "2022-06-01", day21)
    assert first.report_id == "YEARLY21-2021-12-21"
    await _row(pool, "2022-06-01", EMAIL_DESK, tickets=7)

    later = await asyncio.gather(
        _generate(desk, S.PERIOD_YEARLY, "2023-06-01", day21),
        _generate(desk, S.PERIOD_YEARLY, "2024-06-01", day21),
    )
    carried = [
        c.delta for report in later for c in report.late_corrections
        if (c.period_start, c.measure) == ("2021-12-21", "tickets")
    ]  # fmt: skip
    assert carried == [7]


async def _publish_created(desk: RunningDesk, at: datetime) -> None:
    """A ticket.created on the stream, as intake publishes it, for a ticket reported at ``at``."""
    ticket_id = f"TK-late-{uuid.uuid4().hex[:10]}"
    event = EventSpec(
        event_id=f"{ticket_id}/1",
        type="ticket.created",
        subject=ticket_subject("created"),
        ticket_id=ticket_id,
        sequence=1,
        occurred_at=at,
        actor="system",
        payload={"channel": "API", "kind": "FAULT", "customer_tier": "STANDARD", "handling": "MANUAL"},
    )
    nc = await connect(desk.endpoints["nats"])
    try:
        await EventPublisher(nc.jetstream()).publish(event)
    finally:
        await nc.close()


async def _counted(pool: asyncpg.Pool, day: str, tickets: int) -> None:
    """Wait until the read model's roll-ups hold ``tickets`` tickets on ``day``."""
    for _ in range(150):
        found = await pool.fetchval(
            "SELECT coalesce(sum(tickets), 0) FROM stats.daily WHERE day = $1", date.fromisoformat(day)
        )
        if found == tickets:
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"the read model did not count {tickets} tickets on {day} within 30 s")


async def test_a_late_event_through_the_read_model_is_a_correction_of_the_next_quarter(
    desk: RunningDesk, pool: asyncpg.Pool
) -> None:
    """End to end: events on the stream, the stats consumer's roll-ups, the reports."""
    day21, noon = S.PERIOD_BOUNDARY_DAY_21, timedelta(hours=12)
    shanghai = ZoneInfo(SHANGHAI)
    await _publish_created(desk, datetime(2021, 5, 10, tzinfo=shanghai) + noon)
    await _counted(pool, "2021-05-10", 1)
    spring = await _generate(desk, S.PERIOD_QUARTERLY, "2021-05-10", day21)
    assert (spring.report_id, spring.tickets, dict(spring.volume_by_channel)) == (
        "QUARTERLY21-2021-03-21", 1, {"API": 1},
    )  # fmt: skip

    await _publish_created(desk, datetime(2021, 6, 20, 23, 30, tzinfo=shanghai))  # its last half hour
    await _counted(pool, "2021-06-20", 1)
    again = await _stub(desk).GetReport(
        S.GetReportRequest(report_id=spring.report_id), metadata=_statistician(desk)
    )
    assert again == spring

    summer = await _generate(desk, S.PERIOD_QUARTERLY, "2021-09-20", day21)
    assert summer.report_id == "QUARTERLY21-2021-06-21" and summer.tickets == 0
    lines = {(c.period_start, c.period_end, c.measure): c.delta for c in summer.late_corrections}
    assert lines[("2021-03-21", "2021-06-20", "tickets")] == 1
    assert lines[("2021-03-21", "2021-06-20", "volume_by_channel/API")] == 1


# --- refusals ---


async def test_bad_input_is_refused_naming_the_field_and_stores_nothing(desk: RunningDesk) -> None:
    stub, metadata = _stub(desk), _statistician(desk)
    tomorrow = (datetime.now(ZoneInfo(SHANGHAI)).date() + timedelta(days=2)).isoformat()
    cases: list[tuple[S.GenerateReportRequest, list[str]]] = [
        (S.GenerateReportRequest(day="2020-03-01"), ["period"]),
        (S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2020-02-30"), ["day"]),
        (S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="last monday"), ["day"]),
        (S.GenerateReportRequest(period=S.PERIOD_WEEKLY), ["day"]),
        (S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day=tomorrow), ["day"]),
        (S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2020-03-01", boundary=9), ["boundary"]),  # type: ignore[arg-type]
    ]
    for request, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GenerateReport(request, metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        assert bad_fields(refused.value) == fields, request

    today = datetime.now(ZoneInfo(SHANGHAI)).date().isoformat()
    with pytest.raises(grpc.aio.AioRpcError) as not_over:
        await stub.GenerateReport(
            S.GenerateReportRequest(period=S.PERIOD_YEARLY, day=today), metadata=metadata
        )
    assert not_over.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.GetReport(S.GetReportRequest(report_id="WEEKLY-2020-W09"), metadata=metadata)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

    with pytest.raises(grpc.aio.AioRpcError) as agent:
        await stub.GenerateReport(
            S.GenerateReportRequest(period=S.PERIOD_WEEKLY, day="2020-03-01"),
            metadata=auth(desk.token("agent")),
        )
    assert agent.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = await stub.ListReports(S.ListReportsRequest(page_size=500), metadata=metadata)
    assert not [r for r in listed.reports if r.period_start.startswith("2020")]


async def test_reports_are_listed_newest_period_first_a_page_at_a_time(desk: RunningDesk) -> None:
    for day in ("2022-01-10", "2022-03-10", "2022-02-10"):
        await _generate(desk, S.PERIOD_QUARTERLY if day == "2022-03-10" else S.PERIOD_MONTHLY, day)
    stub, metadata = _stub(desk), _statistician(desk)
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListReports(
            S.ListReportsRequest(period=S.PERIOD_MONTHLY, page_size=1, page_token=token), metadata=metadata
        )
        seen.extend(r.report_id for r in page.reports)
        token = page.next_page_token
        if not token:
            break
    mine = [r for r in seen if r.startswith("MONTHLY-2022")]
    assert mine == ["MONTHLY-2022-02", "MONTHLY-2022-01"]
    assert all(r.startswith("MONTHLY") for r in seen)
    everything = await stub.ListReports(S.ListReportsRequest(page_size=500), metadata=metadata)
    ids = [r.report_id for r in everything.reports]
    assert ids.index("MONTHLY-2022-02") < ids.index("QUARTERLY-2022-Q1") < ids.index("MONTHLY-2022-01")


# --- the Schedules ---


async def _temporal(desk: RunningDesk) -> Client:
    key = parse_key((desk.data_dir / "payload.key").read_text().strip())
    return await Client.connect(desk.endpoints["temporal"], data_converter=encrypted_converter(key))


async def test_the_four_schedules_run_after_each_period_in_the_desks_time_zone(desk: RunningDesk) -> None:
    client = await _temporal(desk)
    zone = ZoneInfo(SHANGHAI)
    firsts: dict[str, Any] = {}
    for period, schedule_id in REPORT_SCHEDULES.items():
        described = await client.get_schedule_handle(schedule_id).describe()
        assert described.schedule.spec.time_zone_name == SHANGHAI
        assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow) and action.workflow == REPORT_WORKFLOW
        times = [t.astimezone(zone) for t in described.info.next_action_times]
        assert times and all((t.hour, t.minute) == (1, 0) for t in times), period
        firsts[period] = times
    assert all(t.weekday() == 0 for t in firsts["WEEKLY"])
    assert all(t.day == 1 for t in firsts["MONTHLY"])
    assert all(t.day == 1 and t.month in (1, 4, 7, 10) for t in firsts["QUARTERLY"])
    assert all((t.month, t.day) == (1, 1) for t in firsts["YEARLY"])


async def test_on_the_day_21_boundary_the_schedules_run_on_the_21st(desk: RunningDesk) -> None:
    """What a desk with HELPDESK_REPORT_BOUNDARY=day21 gets (its stats process makes them so when it
    starts); put back to the calendar afterwards, as this desk is configured."""
    client = await _temporal(desk)
    zone = ZoneInfo(SHANGHAI)
    try:
        await ensure_schedules(client, time_zone=SHANGHAI, boundary=Boundary.DAY_21)
        expected = {"MONTHLY": range(1, 13), "QUARTERLY": (3, 6, 9, 12), "YEARLY": (12,)}
        for period, months in expected.items():
            described = await client.get_schedule_handle(REPORT_SCHEDULES[period]).describe()
            times = [t.astimezone(zone) for t in described.info.next_action_times]
            assert times and all((t.day, t.hour) == (21, 1) and t.month in months for t in times), period
        weekly = await client.get_schedule_handle(REPORT_SCHEDULES["WEEKLY"]).describe()
        assert all(t.astimezone(zone).weekday() == 0 for t in weekly.info.next_action_times)
    finally:
        await ensure_schedules(client, time_zone=SHANGHAI, boundary=Boundary.CALENDAR)
    monthly = await client.get_schedule_handle(REPORT_SCHEDULES["MONTHLY"]).describe()
    assert all(t.astimezone(zone).day == 1 for t in monthly.info.next_action_times)


async def test_the_weekly_schedule_triggered_makes_last_weeks_report(desk: RunningDesk) -> None:
    client = await _temporal(desk)
    last_week = ReportPeriod.last_over_at(PeriodKind.WEEKLY, datetime.now(UTC), Boundary.CALENDAR, SHANGHAI)
    await client.get_schedule_handle(REPORT_SCHEDULES["WEEKLY"]).trigger()
    stub, metadata = _stub(desk), _statistician(desk)
    for _ in range(150):
        try:
            report = await stub.GetReport(
                S.GetReportRequest(report_id=last_week.report_id), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            await asyncio.sleep(0.2)
            continue
        assert report.period_start == last_week.first_day.isoformat()
        events = await stream_events(
            desk.endpoints["nats"],
            lambda e: e.type == "report.generated" and e.payload["report_id"] == last_week.report_id,
            until=lambda found: len(found) >= 1,
        )
        assert [e.envelope.actor for e in events] == ["system"]
        return
    pytest.fail(f"no {last_week.report_id} 30 s after the weekly schedule was triggered")


# --- the command line ---


async def _cli(desk: RunningDesk, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", *argv],
        check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_the_command_line_generates_shows_and_lists_reports(desk: RunningDesk) -> None:
    made = await _cli(desk, "report", "generate", "monthly", "2022-05-09", "--boundary", "day21")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["reportId"] == "MONTHLY21-2022-04-21"
    shown = await _cli(desk, "report", "show", "MONTHLY21-2022-04-21")
    assert shown.returncode == 0 and json.loads(shown.stdout)["periodEnd"] == "2022-05-20", shown.stderr
    listed = await _cli(desk, "report", "list", "--period", "monthly")
    assert listed.returncode == 0 and "MONTHLY21-2022-04-21" in listed.stdout, listed.stderr
    unknown = await _cli(desk, "report", "show", "MONTHLY-2019-01")
    assert unknown.returncode != 0 and "MONTHLY-2019-01" in unknown.stderr
