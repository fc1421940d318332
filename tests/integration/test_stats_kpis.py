"""GetKpis on the real stack: known roll-up rows (put there by SQL, in February 2019, days no other
test touches) give exactly the known figures, with and without filters; real tickets reach today's
KPIs through the read model; bad input is refused naming each field; an agent is refused, a
statistician and a manager are answered; `helpdesk stats kpis`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import grpc
import nats
import pytest

from helpdesk.v1 import common_pb2, intake_pb2, intake_pb2_grpc, stats_pb2, stats_pb2_grpc
from services.stats.read_model import CONSUMER
from services.stats.rollups import BUCKET_BOUNDS
from tests.integration.desk_client import auth, bad_fields, report
from tests.integration.test_quality_ledger import caught_up
from tests.stack import PROJECT_ROOT, RunningDesk

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test desk's time zone (the default)
YEAR_OF_OUR_OWN = (date(2019, 1, 1), date(2019, 12, 31))


@pytest.fixture
async def db(desk: RunningDesk) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(desk.endpoints["postgres"], min_size=1, max_size=2)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


# --- known roll-up rows ---

Row = dict[str, Any]

ROWS: list[Row] = [
    # 2019-02-01, team kpi-net, PHONE FAULT STANDARD: 10 tickets, 8 complete, 2 settled at first contact.
    {
        "day": date(2019, 2, 1), "team_id": "kpi-net", "channel": "PHONE", "kind": "FAULT",
        "customer_tier": "STANDARD", "handling": "MANUAL", "stage": "OPS_TEAM",
        "tickets": 10, "complete_records": 8, "record_fields_filled": 63, "record_fields_total": 70,
        "first_contact_resolved": 2, "opened": 10, "closed": 7,
        "sla_response_met": 6, "sla_response_missed": 2, "sla_resolution_met": 5, "sla_resolution_missed": 3,
        "surveys_answered": 5, "rating_very_satisfied": 2, "rating_satisfied": 1, "rating_unsatisfied": 2,
        "response_seconds_sum": 8 * 600.0, "response_count": 8,
        "resolve_seconds_sum": 8 * 7200.0, "resolve_count": 8,
    },
    # 2019-02-15, team kpi-soft, WEB CONSULTATION VIP: 4 tickets, all complete and settled at once.
    {
        "day": date(2019, 2, 15), "team_id": "kpi-soft", "channel": "WEB", "kind": "CONSULTATION",
        "customer_tier": "VIP", "handling": "MANUAL", "stage": "SENIOR_AGENT",
        "tickets": 4, "complete_records": 4, "record_fields_filled": 24, "record_fields_total": 24,
        "first_contact_resolved": 4, "opened": 4, "closed": 4,
        "sla_callback_met": 3, "sla_callback_missed": 1,
        "surveys_answered": 3, "rating_satisfied": 2, "rating_neutral": 1,
        "resolve_seconds_sum": 4 * 300.0, "resolve_count": 4,
    },
    # 2019-01-20 (before the range): 3 opened, none closed: in the backlog at the end of February.
    {
        "day": date(2019, 1, 20), "team_id": "kpi-net", "channel": "PHONE", "kind": "FAULT",
        "customer_tier": "STANDARD", "handling": "MANUAL", "stage": "OPS_TEAM",
        "tickets": 3, "complete_records": 3, "record_fields_filled": 21, "record_fields_total": 21,
        "opened": 3,
    },
    # 2019-03-05 (after the range): counts in no figure of February.
    {
        "day": date(2019, 3, 5), "team_id": "kpi-net", "channel": "PHONE", "kind": "FAULT",
        "customer_tier": "STANDARD", "handling": "MANUAL", "stage": "OPS_TEAM",
        "tickets": 50, "complete_records": 1, "record_fields_filled": 100,
        "record_fields_total": 350, "opened": 50, "surveys_answered": 50, "rating_unsatisfied": 50,
    },
]  # fmt: skip

KEY = ("team_id", "channel", "kind", "customer_tier")


def _bucket(seconds: int) -> int:
    return BUCKET_BOUNDS.index(seconds)


# (day, key row, measure, bucket upper bound, count): 8 responses within 600 s, 8 resolutions in
# (1 h, 2 h] and (2 h, 4 h]; 4 quick resolutions within 300 s on the 15th.
DURATIONS = [
    (ROWS[0], "RESPOND", 300, 4),
    (ROWS[0], "RESPOND", 600, 4),
    (ROWS[0], "RESOLVE", 7200, 4),
    (ROWS[0], "RESOLVE", 14400, 4),
    (ROWS[1], "RESOLVE", 300, 4),
]


@pytest.fixture
async def february(db: asyncpg.Pool) -> AsyncIterator[None]:
    await _clear(db)
    for row in ROWS:
        columns = list(row)
        placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await db.execute(
            f"INSERT INTO stats.daily ({', '.join(columns)}) VALUES ({placeholders})", *row.values()
        )
    for row, measure, bound, count in DURATIONS:
        await db.execute(
            "INSERT INTO stats.daily_durations (day, team_id, channel, kind, customer_tier, measure, bucket,"
            " count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            row["day"], *(row[k] for k in KEY), measure, _bucket(bound), count,
        )  # fmt: skip
    try:
        yield
    finally:
        await _clear(db)


async def _clear(db: asyncpg.Pool) -> None:
    for table in ("daily", "daily_durations"):
        await db.execute(f"DELETE FROM stats.{table} WHERE day BETWEEN $1 AND $2", *YEAR_OF_OUR_OWN)


# --- calls ---


def _request(start: date | None, end: date | None, **filters: str) -> stats_pb2.GetKpisRequest:
    """Midnight of ``start`` to midnight after ``end`` in the desk's zone: those days, both included."""
    request = stats_pb2.GetKpisRequest()
    for name, value in filters.items():
        setattr(request, name, value)
    if start is not None:
        getattr(request, "from").FromDatetime(datetime(start.year, start.month, start.day, tzinfo=SHANGHAI))
    if end is not None:
        request.to.FromDatetime(datetime(end.year, end.month, end.day, tzinfo=SHANGHAI))
    return request


FEBRUARY = (date(2019, 2, 1), date(2019, 3, 1))


async def _kpis(desk: RunningDesk, request: stats_pb2.GetKpisRequest, role: str = "statistician") -> Any:
    stub = stats_pb2_grpc.StatsServiceStub(desk.channel("stats"))
    return await stub.GetKpis(request, metadata=auth(desk.token(role)), timeout=30)


@pytest.mark.usefixtures("february")
async def test_known_rows_give_exactly_the_known_figures(desk: RunningDesk) -> None:
    kpis = await _kpis(desk, _request(*FEBRUARY))
    assert kpis.tickets == 14
    assert kpis.record_completeness_rate == pytest.approx((63 + 24) / (70 + 24))  # fields filled / expected
    assert (kpis.first_contact_resolved, kpis.fcr_rate) == (6, pytest.approx(6 / 14))
    assert (kpis.surveys_answered, kpis.satisfied) == (8, 5)
    assert kpis.satisfaction_rate == pytest.approx(5 / 8)
    sla = {line.deadline_kind: (line.met, line.missed) for line in kpis.sla}
    assert sla == {
        "RESPONSE": (6, 2),
        "RESOLUTION": (5, 3),
        "CALLBACK": (3, 1),
        "INVESTIGATION": (0, 0),
        "KNOWLEDGE_ENTRY": (0, 0),
    }
    assert kpis.sla_compliance == pytest.approx(14 / 20)
    assert kpis.mean_time_to_respond_seconds == pytest.approx(600.0)
    assert kpis.mean_time_to_resolve_seconds == pytest.approx((8 * 7200 + 4 * 300) / 12)
    # respond: 8 times, 4 in (60, 300] and 4 in (300, 600]; the 90th (7.2nd) is 80 % into the second.
    assert kpis.p90_time_to_respond_seconds == pytest.approx(300 + 300 * 3.2 / 4)
    # resolve: 4 in (60, 300], 4 in (3600, 7200], 4 in (7200, 14400]; the 10.8th: 70 % into the last.
    assert kpis.p90_time_to_resolve_seconds == pytest.approx(7200 + 7200 * 2.8 / 4)
    assert kpis.backlog == (10 - 7) + (4 - 4) + 3  # opened minus closed up to the end of February
    start, end = (getattr(kpis, name).ToDatetime(tzinfo=SHANGHAI) for name in ("from", "to"))
    assert (start.date(), end.date()) == FEBRUARY


@pytest.mark.usefixtures("february")
async def test_each_filter_keeps_only_its_tickets(desk: RunningDesk) -> None:
    network = await _kpis(desk, _request(*FEBRUARY, team_id="kpi-net"))
    assert (network.tickets, network.first_contact_resolved, network.backlog) == (10, 2, 6)
    assert network.record_completeness_rate == pytest.approx(63 / 70)
    for name, value in (("channel", "web"), ("kind", "CONSULTATION"), ("customer_tier", "VIP")):
        request = _request(*FEBRUARY)
        setattr(request, name, value)
        one = await _kpis(desk, request)
        assert (one.tickets, one.fcr_rate, one.satisfaction_rate) == (4, 1.0, pytest.approx(2 / 3)), name
    none = await _kpis(desk, _request(*FEBRUARY, team_id="kpi-soft", channel="PHONE"))
    assert (none.tickets, none.fcr_rate, none.p90_time_to_resolve_seconds, none.backlog) == (0, 0.0, 0.0, 0)


@pytest.mark.usefixtures("february")
async def test_a_range_without_rows_is_all_zeros(desk: RunningDesk) -> None:
    kpis = await _kpis(desk, _request(date(2019, 2, 2), date(2019, 2, 15), team_id="kpi-net"))
    assert (kpis.tickets, kpis.surveys_answered, kpis.sla_compliance) == (0, 0, 0.0)
    assert kpis.backlog == 6  # what was open stays open: the backlog is as it stood at the end


async def test_real_tickets_reach_today_s_kpis_through_the_read_model(desk: RunningDesk) -> None:
    """Two e-mailed change requests (a channel and kind no other test reports by): one settled at first
    contact, one left with its team."""
    today = datetime.now(SHANGHAI).date()
    mine = {"channel": "EMAIL", "kind": "CHANGE_REQUEST"}
    before = await _kpis(desk, _request(today, date.fromordinal(today.toordinal() + 1), **mine))
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    change = {"channel": common_pb2.CHANNEL_EMAIL, "kind": common_pb2.TICKET_KIND_CHANGE_REQUEST}
    settled, waiting = [
        (await intake.CreateTicket(report(category="software", **change), metadata=agent)).ticket
        for _ in range(2)
    ]
    await intake.ResolveAtFirstContact(
        intake_pb2.ResolveAtFirstContactRequest(ticket_id=settled.ticket_id, resolution="explained the form"),
        metadata=agent,
    )
    nc = await nats.connect(desk.endpoints["nats"])
    try:
        await caught_up(nc.jetstream(), CONSUMER)
    finally:
        await nc.close()
    after = await _kpis(desk, _request(today, date.fromordinal(today.toordinal() + 1), **mine))
    assert after.tickets - before.tickets == 2
    assert after.first_contact_resolved - before.first_contact_resolved == 1
    assert after.backlog - before.backlog == 1  # the one still with its team
    assert waiting.work_orders  # dispatched, so the backlog's one is this one


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (_request(None, date(2019, 3, 1)), ["from"]),
        (_request(date(2019, 2, 1), None), ["to"]),
        (_request(None, None), ["from", "to"]),
        (_request(date(2019, 3, 1), date(2019, 2, 1)), ["to"]),
        (_request(date(2018, 1, 1), date(2019, 2, 6)), ["to"]),  # 401 days
        (_request(*FEBRUARY, channel="PIGEON", kind="GRIPE", customer_tier="GOLD"),
         ["channel", "kind", "customer_tier"]),
    ],
    ids=["no from", "no to", "no bounds", "to before from", "over 400 days", "unknown names"],
)  # fmt: skip
async def test_bad_input_is_refused_naming_each_field(
    desk: RunningDesk, request_: stats_pb2.GetKpisRequest, fields: list[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _kpis(desk, request_)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == fields


async def test_400_days_are_served(desk: RunningDesk) -> None:
    kpis = await _kpis(desk, _request(date(2018, 1, 1), date(2019, 2, 5)))
    assert kpis.HasField("from")


@pytest.mark.usefixtures("february")
async def test_managers_and_statisticians_are_answered_an_agent_is_refused(desk: RunningDesk) -> None:
    assert (await _kpis(desk, _request(*FEBRUARY), role="manager")).tickets == 14
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _kpis(desk, _request(*FEBRUARY), role="agent")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.usefixtures("february")
async def test_the_cli_asks_for_whole_days_both_included(desk: RunningDesk) -> None:
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    argv = [sys.executable, "-m", "cli", "stats", "kpis", "--from", "2019-02-01", "--to", "2019-02-28"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*argv, "--team", "kpi-net", "--json"],
        check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["tickets"], answer["backlog"]) == ("10", "6")  # int64 in protobuf's JSON: strings
    refused = await asyncio.to_thread(
        subprocess.run,
        [*argv, "--channel", "PIGEON"],
        check=False, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "channel" in refused.stderr
