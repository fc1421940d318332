"""The statistics read model on the real stack: a scripted scenario of real tickets gives known counts in
the roll-ups (stage, handling, work orders, after-care, SLA, backlog); a replayed event counts once;
``helpdesk stats rebuild`` gives the same roll-ups row for row.

The scenario's tickets come by fax, a channel no other test uses, so their counts are told apart from
the other tests' tickets on the shared desk.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import nats

from desk.event_bus import envelope
from desk.event_consumer import Delivery, DurableEventConsumer
from desk.events import STREAM, EventSpec
from desk.loops import Readiness
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    escalation_pb2,
    escalation_pb2_grpc,
    events_pb2,
    intake_pb2,
)
from helpdesk.v1 import survey_pb2 as V
from services.stats import rebuild, repository, rollups
from services.stats.read_model import CONSUMER
from tests.bench.stats_ingest import interleaved
from tests.integration.desk_client import report, ticket_events, types
from tests.integration.test_quality_ledger import caught_up
from tests.integration.test_survey import Desk
from tests.stack import PROJECT_ROOT, RunningDesk

FAX = common_pb2.CHANNEL_FAX
SHANGHAI = ZoneInfo("Asia/Shanghai")
REBUILD = (sys.executable, "-m", "cli", "stats", "rebuild", "--json")


async def fax_counts(conn: asyncpg.Connection, *counters: str) -> dict[str, int]:
    sums = ", ".join(f"coalesce(sum({c}), 0)::bigint AS {c}" for c in counters)
    row = await conn.fetchrow(f"SELECT {sums} FROM stats.daily WHERE channel = 'FAX'")
    assert row is not None
    return {c: int(row[c]) for c in counters}


async def fax_by(conn: asyncpg.Connection, column: str) -> dict[str, int]:
    rows = await conn.fetch(
        f"SELECT {column} AS key, sum(tickets)::bigint AS n FROM stats.daily WHERE channel = 'FAX'"
        f" GROUP BY {column} HAVING sum(tickets) <> 0"
    )
    return {r["key"]: int(r["n"]) for r in rows}


async def scenario(desk: RunningDesk, channel: common_pb2.Channel.ValueType = FAX) -> list[str]:
    """Five fax reports: one repaired by the software team, called back and surveyed; a VIP's resolved
    at first contact while its dispatch waited for review; one cancelled after it was routed; one an
    agent answered at first contact (its automatic dispatch withdrawn); a complaint to the managers."""
    d = Desk(desk)
    repaired = (
        await d.intake.CreateTicket(report(channel=channel, category="software"), metadata=d.agent)
    ).ticket
    await d.dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(
            work_order_id=repaired.work_orders[0].work_order_id, engineer="Qian"
        ),
        metadata=d.ops,
    )
    await d.resolve(repaired.work_orders[0].work_order_id)
    await d.call_back(repaired.ticket_id, f"cb-{uuid.uuid4()}")
    await d.submit(repaired.ticket_id, V.RATING_SATISFIED, f"s-{uuid.uuid4()}")

    vip = (
        await d.intake.CreateTicket(
            report(channel=channel, category="software", customer_tier=common_pb2.CUSTOMER_TIER_VIP),
            metadata=d.agent,
        )
    ).ticket
    await d.intake.ResolveAtFirstContact(
        intake_pb2.ResolveAtFirstContactRequest(ticket_id=vip.ticket_id, resolution="explained the settings"),
        metadata=d.agent,
    )

    cancelled = (
        await d.intake.CreateTicket(
            report(channel=channel, category="software", kind=common_pb2.TICKET_KIND_SERVICE_REQUEST),
            metadata=d.agent,
        )
    ).ticket
    await d.intake.CancelTicket(
        intake_pb2.CancelTicketRequest(ticket_id=cancelled.ticket_id, reason="the customer withdrew it"),
        metadata=d.agent,
    )
    answered = (
        await d.intake.CreateTicket(report(channel=channel, category="software"), metadata=d.agent)
    ).ticket
    await d.intake.ResolveAtFirstContact(
        intake_pb2.ResolveAtFirstContactRequest(ticket_id=answered.ticket_id, resolution="a loose cable"),
        metadata=d.agent,
    )

    complaint = (
        await d.intake.CreateTicket(report(channel=channel, category="software"), metadata=d.agent)
    ).ticket
    hotline = escalation_pb2_grpc.EscalationServiceStub(desk.channel("survey"))
    await hotline.OpenEscalation(
        escalation_pb2.OpenEscalationRequest(
            ticket_id=complaint.ticket_id,
            source=escalation_pb2.ESCALATION_SOURCE_COMPLAINT,
            note="rude engineer",
            request_id=f"esc-{uuid.uuid4()}",
        ),
        metadata=d.agent,
    )
    await ticket_events(
        desk.endpoints["nats"], repaired.ticket_id, until=lambda e: "survey.submitted" in types(e)
    )
    await ticket_events(
        desk.endpoints["nats"], complaint.ticket_id, until=lambda e: "escalation.opened" in types(e)
    )
    return [repaired.ticket_id, vip.ticket_id, cancelled.ticket_id, answered.ticket_id, complaint.ticket_id]


COUNTERS = (
    "tickets", "first_contact_resolved", "opened", "closed", "dispatches", "dispatches_answered",
    "resolved", "cancelled", "callbacks", "surveys_answered", "rating_satisfied", "sla_response_met",
    "sla_resolution_met", "sla_callback_met", "response_count", "resolve_count", "record_fields_total",
    "escalations_complaint",
)  # fmt: skip


async def test_a_scripted_scenario_gives_its_known_counts_and_a_replay_counts_once(desk: RunningDesk) -> None:
    ticket_ids = await scenario(desk)
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        await caught_up(js, CONSUMER)
        counts = await fax_counts(conn, *COUNTERS)
        assert counts == {
            "tickets": 5,
            "first_contact_resolved": 2,
            "opened": counts["closed"] + 1,  # the complaint's ticket is still open
            "closed": counts["closed"],
            "dispatches": 4,  # routed to software at once; the VIP's waited for review, never sent
            "dispatches_answered": 1,
            "resolved": 3,
            "cancelled": 1,
            "callbacks": 1,
            "surveys_answered": 1,
            "rating_satisfied": 1,
            "sla_response_met": 1,
            "sla_resolution_met": 3,
            "sla_callback_met": 1,
            "response_count": 3,
            "resolve_count": 3,
            # 4 required + description, region, occurred_at; + the fault number on the four faults
            "record_fields_total": 7 * 5 + 4,
            "escalations_complaint": 1,
        }
        assert await fax_by(conn, "handling") == {"MANUAL": 5}
        assert await fax_by(conn, "kind") == {"FAULT": 4, "SERVICE_REQUEST": 1}
        assert await fax_by(conn, "customer_tier") == {"STANDARD": 4, "VIP": 1}
        assert await fax_by(conn, "stage") == {
            "OPS_TEAM": 2,  # repaired; cancelled after it was routed
            "SENIOR_AGENT": 1,  # the VIP's
            "JUNIOR_AGENT": 1,  # answered at first contact
            "MANAGER_HOTLINE": 1,  # the complaint
        }
        facts = await conn.fetch(
            "SELECT ticket_id, stage, team_id, first_contact_resolved FROM stats.tickets"
            " WHERE ticket_id = ANY($1::text[]) ORDER BY array_position($1::text[], ticket_id)",
            ticket_ids,
        )
        assert [(f["stage"], f["team_id"], f["first_contact_resolved"]) for f in facts] == [
            ("OPS_TEAM", "software", False),
            ("SENIOR_AGENT", "", True),
            ("OPS_TEAM", "software", False),
            ("JUNIOR_AGENT", "", True),
            ("MANAGER_HOTLINE", "software", False),
        ]

        # The read API sees them too (whatever the other tests added on the same days).
        today = await conn.fetchval(
            "SELECT max(created_day) FROM stats.tickets WHERE ticket_id = ANY($1)", ticket_ids
        )
        kpis = await rollups.kpi_inputs(conn, today, today, channel="FAX")
        counted = (kpis.tickets, kpis.first_contact_resolved, kpis.surveys_answered, kpis.satisfied)
        assert counted == (5, 2, 1, 1)
        assert kpis.backlog == 1

        # A replayed event, under another Nats-Msg-Id JetStream cannot drop: counted once.
        events = await ticket_events(desk.endpoints["nats"], ticket_ids[0], until=bool)
        created = next(e for e in events if e.envelope.type == "ticket.created")
        await js.publish(
            created.subject,
            created.envelope.SerializeToString(),
            headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"},
        )
        await caught_up(js, CONSUMER)
        assert await fax_counts(conn, *COUNTERS) == counts
    finally:
        await conn.close()
        await nc.close()


async def rollup_rows(conn: asyncpg.Connection) -> dict[str, list[Mapping[str, Any]]]:
    return {
        table: [dict(r) for r in await conn.fetch(f"SELECT * FROM stats.{table} ORDER BY {order}")]
        for table, order in (
            ("daily", "day, team_id, channel, kind, customer_tier, handling, stage"),
            ("daily_durations", "day, team_id, channel, kind, customer_tier, measure, bucket"),
            ("daily_agents", "day, agent_id"),
            ("tickets", "ticket_id"),
        )
    }


async def quiet_snapshot(conn: asyncpg.Connection, js: Any) -> tuple[int, dict[str, list[Mapping[str, Any]]]]:
    """The roll-ups once the live consumer has applied the whole stream, and the stream's last sequence."""
    await caught_up(js, CONSUMER)
    last = (await js.stream_info(STREAM)).state.last_seq
    return last, await rollup_rows(conn)


async def test_rebuild_gives_the_same_rollups_row_for_row(desk: RunningDesk) -> None:
    await scenario(desk, common_pb2.CHANNEL_IM)  # not by fax: the other test counts the fax tickets
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        for _attempt in range(5):  # a timer's event between the snapshots: compare again
            last_before, before = await quiet_snapshot(conn, js)
            done = await asyncio.to_thread(
                subprocess.run,
                [
                    *REBUILD,
                    "--database-url",
                    desk.endpoints["postgres"],
                    "--nats-url",
                    desk.endpoints["nats"],
                ],
                cwd=PROJECT_ROOT,
                timeout=120,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            last_after, after = await quiet_snapshot(conn, js)
            if last_after == last_before:
                break
        assert last_after == last_before
        assert sum(len(rows) for rows in before.values()) > 0
        for table in before:
            assert after[table] == before[table], table
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'rebuild_%'") == 0
    finally:
        await conn.close()
        await nc.close()


async def test_a_batch_with_one_bad_event_is_applied_one_by_one_and_the_others_flow_on(
    desk: RunningDesk,
) -> None:
    """The consumer's batch mode (DurableEventConsumer batch_handler): a failing batch is handled
    again event by event, the bad event alone redelivered until it passes."""
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    subjects = f"helpdesk.batch-test-{uuid.uuid4().hex[:8]}"
    durable = subjects.rsplit(".", 1)[1]
    batches: list[int] = []
    handled: list[str] = []
    bad_tries = 0

    def check(delivery: Delivery) -> None:
        nonlocal bad_tries
        if delivery.event_id.endswith("-bad"):
            bad_tries += 1
            if bad_tries < 3:
                raise ValueError("cannot apply this one yet")

    async def one(delivery: Delivery) -> None:
        check(delivery)
        handled.append(delivery.event_id)

    async def many(deliveries: list[Delivery]) -> None:
        batches.append(len(deliveries))
        for delivery in deliveries:
            check(delivery)
        handled.extend(d.event_id for d in deliveries)

    names = (
        [f"{durable}-{n}" for n in range(5)] + [f"{durable}-bad"] + [f"{durable}-{n}" for n in range(5, 9)]
    )
    for name in names:
        body = events_pb2.EventEnvelope(event_id=name, type="test.thing").SerializeToString()
        await js.publish(f"{subjects}.thing", body, headers={"Nats-Msg-Id": name})
    consumer = DurableEventConsumer(
        js, durable, one, Readiness(), filter_subject=f"{subjects}.>", retry_delay=0.2, linger=0.5,
        batch=20, batch_handler=many,
    )  # fmt: skip
    task = asyncio.create_task(consumer.run())
    try:
        await caught_up(js, durable)
        assert sorted(handled) == sorted(names)  # each once: the failed batch applied nothing
        assert batches[0] == len(names)  # the whole fetch in one call first
        assert bad_tries == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.gather(js.delete_consumer(STREAM, durable), return_exceptions=True)
        await js.purge_stream(STREAM, subject=f"{subjects}.>")  # other readers take the stream as envelopes
        await nc.close()


def moved_twice(ticket_id: str) -> list[events_pb2.EventEnvelope]:
    """A ticket created on one day, dispatched the next, escalated the day after: its counters leave
    the key of the second day's stage on its created day (a row that is all zeros after it)."""
    first = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    facts = {"channel": "WEB", "kind": "FAULT", "customer_tier": "STANDARD", "handling": "MANUAL"}
    order = {"team_id": "network", "work_order_id": f"{ticket_id}-W1", "dispatch_kind": "INITIAL"}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("ticket.created", facts),
        ("dispatch.created", order),
        ("escalation.opened", {"escalation_id": f"{ticket_id}-E1", "source": "COMPLAINT"}),
    ]
    return [
        envelope(
            EventSpec(
                f"{ticket_id}/{n}", t, f"helpdesk.{t}", ticket_id, n, first + timedelta(days=n), "amy", "", p
            ),
            {},
        )
        for n, (t, p) in enumerate(steps, 1)
    ]


async def test_the_rollups_are_the_same_rows_however_the_events_were_batched(scratch: asyncpg.Pool) -> None:
    """One event per transaction or all in one: the same rows (a ticket moved out of a key leaves no
    empty row behind), as a rebuild in other batches than the live consumer's must give."""
    lives = interleaved(40, random.Random(7)) + moved_twice("MOVED1")
    async with scratch.acquire() as conn:
        await rebuild.fresh_tables(conn)
        for one in lives:
            async with conn.transaction():
                await repository.apply_events(conn, [one], SHANGHAI)
        async with conn.transaction():
            await repository.apply_events(conn, lives, SHANGHAI, rebuild.FRESH)
        for table in ("daily", "daily_durations", "daily_agents", "tickets"):
            by_key = "ORDER BY 1, 2, 3, 4, 5, 6, 7"  # daily's whole key: two rows may differ in stage alone
            one_by_one = await conn.fetch(f"SELECT * FROM stats.{table} {by_key}")
            all_at_once = await conn.fetch(f"SELECT * FROM stats.rebuild_{table} {by_key}")
            assert [dict(r) for r in one_by_one] == [dict(r) for r in all_at_once], table
