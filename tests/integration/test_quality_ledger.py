"""The workload ledger on the real stack: a ticket's work ends up in quality.items with its posts and
people, and each event counts once however often it comes (a failed handler, a replayed stream, a
consumer that reads the stream again from its start)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import nats
from nats.js import JetStreamContext

from desk.event_consumer import Delivery, DurableEventConsumer
from desk.events import STREAM
from desk.loops import Readiness
from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    events_pb2,
    intake_pb2,
    intake_pb2_grpc,
    knowledge_pb2,
    knowledge_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from services.quality.ledger import CONSUMER, WorkloadLedger
from services.quality.staff import StaffRoles
from tests.integration.desk_client import auth, report, ticket_events, types
from tests.integration.test_survey import quick_archive  # noqa: F401 (a fixture)
from tests.stack import RunningDesk

S = common_pb2
Row = tuple[
    str, str, str, str, str, str
]  # item id (after the ticket), post, staff, kind, subject staff, outcome


async def ledger_rows(db: asyncpg.Pool | asyncpg.Connection, ticket_id: str) -> list[Row]:
    rows = await db.fetch(
        "SELECT item_id, post, staff_id, kind, subject_staff_id, outcome FROM quality.items"
        " WHERE ticket_id = $1 ORDER BY position",
        ticket_id,
    )
    return [
        (
            r["item_id"].removeprefix(f"{ticket_id}/"),
            r["post"],
            r["staff_id"],
            r["kind"],
            r["subject_staff_id"],
            r["outcome"],
        )
        for r in rows
    ]


async def eventually(read: Callable[[], Awaitable[Any]], expected: Any, *, within: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        got = await read()
        if got == expected or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(0.2)


async def test_a_tickets_work_is_in_the_ledger_with_its_posts_and_people(
    desk: RunningDesk,
    quick_archive: None,  # noqa: F811
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, senior = auth(desk.token("agent")), auth(desk.token("senior_agent"))
    surveyor = auth(desk.token("surveyor"))

    # Recorded by the junior agent, routed to software automatically (nobody's dispatch), returned.
    ticket = (
        await intake.CreateTicket(report(category="software", agent_id="dev-agent"), metadata=agent)
    ).ticket
    ticket_id, [first] = ticket.ticket_id, ticket.work_orders
    await intake.AddSupplement(
        intake_pb2.AddSupplementRequest(ticket_id=ticket_id, text="also no DSL"), metadata=agent
    )
    await dispatch.ReturnWorkOrder(
        dispatch_pb2.ReturnWorkOrderRequest(work_order_id=first.work_order_id, reason="a line fault"),
        metadata=auth(desk.token("ops_engineer:software")),
    )
    # The junior agent dispatches; the senior agent approves (and so sends it); the surveyor chases.
    proposed = await dispatch.DispatchTicket(
        dispatch_pb2.DispatchTicketRequest(ticket_id=ticket_id, team_id="network", reason="line fault"),
        metadata=agent,
    )
    assert proposed.status == S.WORK_ORDER_STATUS_PENDING_REVIEW
    second = proposed.work_order_id
    await dispatch.ReviewWorkOrder(
        dispatch_pb2.ReviewWorkOrderRequest(work_order_id=second, approve=True), metadata=senior
    )
    await dispatch.ChaseWorkOrder(
        dispatch_pb2.ChaseWorkOrderRequest(work_order_id=second, note="customer waits"), metadata=surveyor
    )
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=second, cause="jumper", action="replaced", engineer="Wang"
        ),
        metadata=auth(desk.token("ops_engineer:network")),
    )
    await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(
            ticket_id=ticket_id, reached=True, confirmed_resolved=True, request_id="cb-1"
        ),
        metadata=surveyor,
    )
    await survey.SubmitSurvey(
        survey_pb2.SubmitSurveyRequest(
            ticket_id=ticket_id, rating=survey_pb2.RATING_SATISFIED, request_id="s1"
        ),
        metadata=surveyor,
    )
    events = await ticket_events(
        desk.endpoints["nats"], ticket_id, until=lambda e: "ticket.archived" in types(e)
    )
    supplement = next(e.envelope.sequence for e in events if e.envelope.type == "ticket.supplemented")

    expected: list[Row] = [
        ("record", "AGENT", "dev-agent", "RECORD", "", ""),
        (f"supplement/{supplement}", "AGENT", "dev-agent", "SUPPLEMENT", "", ""),
        (f"dispatch/{second}", "AGENT", "dev-agent", "DISPATCH", "", ""),  # the proposer's, not the sender's
        (f"review/{second}", "SENIOR_AGENT", "dev-senior_agent", "REVIEW", "dev-agent", "APPROVED"),
        (f"chase/{second}/1", "SURVEYOR", "dev-surveyor", "CHASE", "", ""),
        ("callback/cb-1", "SURVEYOR", "dev-surveyor", "CALLBACK", "", ""),
        ("survey/1", "SURVEYOR", "dev-surveyor", "SURVEY", "", ""),
        ("archive", "DATA_MANAGER", "system", "ARCHIVE", "", ""),
    ]
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        assert await eventually(lambda: ledger_rows(conn, ticket_id), expected) == expected
        day_of = await conn.fetchval(
            "SELECT day = (occurred_at AT TIME ZONE 'Asia/Shanghai')::date FROM quality.items"
            " WHERE item_id = $1",
            f"{ticket_id}/record",
        )
        assert day_of is True  # the desk's local day
    finally:
        await conn.close()


# --- each event once ---


@asynccontextmanager
async def consuming(
    js: JetStreamContext, durable: str, handler: Callable[[Delivery], Awaitable[None]]
) -> AsyncIterator[Readiness]:
    """The ledger's consumer, as the quality process runs it, under a durable name of the test's."""
    readiness = Readiness()
    consumer = DurableEventConsumer(js, durable, handler, readiness, retry_delay=0.2, linger=0.5)
    task = asyncio.create_task(consumer.run())
    try:
        yield readiness
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def caught_up(js: JetStreamContext, durable: str, *, within: float = 60.0) -> None:
    """Wait until the consumer has delivered and had acked everything on the stream."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            info = await js.consumer_info(STREAM, durable)
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0:
                return
        except nats.js.errors.NotFoundError:
            pass
        assert asyncio.get_running_loop().time() < deadline, f"{durable} did not catch up"
        await asyncio.sleep(0.2)


async def test_each_event_counts_once_after_a_failure_a_replay_and_a_new_consumer(
    desk: RunningDesk, scratch: asyncpg.Pool
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    ticket = (
        await intake.CreateTicket(report(category="network", agent_id="dev-agent"), metadata=agent)
    ).ticket
    ticket_id = ticket.ticket_id
    await intake.AddSupplement(
        intake_pb2.AddSupplementRequest(ticket_id=ticket_id, text="urgent"), metadata=agent
    )
    events = await ticket_events(
        desk.endpoints["nats"], ticket_id, until=lambda e: "ticket.supplemented" in types(e)
    )
    created = next(e for e in events if e.envelope.type == "ticket.created")

    desk_db = await asyncpg.create_pool(desk.endpoints["postgres"], min_size=1, max_size=2)
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    # The ledger over a database of its own (the desk's own ledger goes on beside it), with the desk's staff.
    ledger = WorkloadLedger(scratch, ZoneInfo("Asia/Shanghai"), staff=StaffRoles(desk_db))
    deliveries: Counter[str] = Counter()

    async def crash_after_the_first_commit(delivery: Delivery) -> None:
        deliveries[delivery.event_id] += 1
        await ledger.handle(delivery)
        if delivery.event_id == created.msg_id and deliveries[delivery.event_id] == 1:
            raise RuntimeError("the process died before the ack")  # applied, never acked: comes again

    durable = f"quality-test-{uuid.uuid4().hex[:8]}"
    supplement = next(e.envelope.sequence for e in events if e.envelope.type == "ticket.supplemented")
    expected: list[Row] = [
        ("record", "AGENT", "dev-agent", "RECORD", "", ""),
        (f"supplement/{supplement}", "AGENT", "dev-agent", "SUPPLEMENT", "", ""),
    ]
    try:
        async with consuming(js, durable, crash_after_the_first_commit) as readiness:
            await caught_up(js, durable)
            assert readiness.serving
            assert deliveries[created.msg_id] == 2  # failed once, delivered again ...
            assert await ledger_rows(scratch, ticket_id) == expected  # ... and counted once

            # A replayed stream: the same event again, under another message id JetStream cannot drop.
            await js.publish(
                created.subject,
                created.envelope.SerializeToString(),
                headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"},
            )
            await eventually(lambda: asyncio.sleep(0, deliveries[created.msg_id]), 3)
            assert deliveries[created.msg_id] == 3
            assert await ledger_rows(scratch, ticket_id) == expected

        # The consumer lost and created again: it reads the whole stream from its start.
        await js.delete_consumer(STREAM, durable)
        async with consuming(js, durable, ledger.handle):
            await caught_up(js, durable)
        assert await ledger_rows(scratch, ticket_id) == expected
        applied = await scratch.fetchval(
            "SELECT count(*) FROM quality.applied_events WHERE event_id = $1", created.msg_id
        )
        assert applied == 1

        # The desk's own ledger saw the replayed event too, and counted it once as well.
        await caught_up(js, CONSUMER)
        assert await ledger_rows(desk_db, ticket_id) == expected
    finally:
        await asyncio.gather(js.delete_consumer(STREAM, durable), return_exceptions=True)
        await nc.close()
        await desk_db.close()


# --- the consumer itself ---


class RecordedReadiness(Readiness):
    def __init__(self) -> None:
        super().__init__()
        self.downs: list[str] = []

    def down(self, loop: str, reason: str) -> None:
        self.downs.append(reason)
        super().down(loop, reason)


async def test_the_consumer_terms_what_is_no_envelope_and_is_down_while_the_database_is_away(
    desk: RunningDesk,
) -> None:
    nc = await nats.connect(desk.endpoints["nats"])
    js = nc.jetstream()
    subjects = f"helpdesk.consumer-test-{uuid.uuid4().hex[:8]}"
    durable = subjects.rsplit(".", 1)[1]
    handled: list[str] = []
    calls = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectionRefusedError("PostgreSQL is away")
        handled.append(delivery.event_id)

    def an_event(event_id: str) -> bytes:
        return events_pb2.EventEnvelope(event_id=event_id, type="test.thing").SerializeToString()

    readiness = RecordedReadiness()
    consumer = DurableEventConsumer(
        js, durable, handler, readiness, filter_subject=f"{subjects}.>", retry_delay=0.2, linger=0.5
    )
    task = asyncio.create_task(consumer.run())
    try:
        await js.publish(f"{subjects}.junk", b"\xff\xff\xff", headers={"Nats-Msg-Id": f"{durable}-junk"})
        await js.publish(f"{subjects}.thing", an_event(f"{durable}-1"))
        assert await eventually(lambda: asyncio.sleep(0, handled), [f"{durable}-1"]) == [f"{durable}-1"]
        assert readiness.downs == ["ConnectionRefusedError: PostgreSQL is away"] * 2 and readiness.serving
        await caught_up(js, durable)  # the junk was terminated: nothing waits for an ack

        # The consumer deleted under the running loop: it is created again and reads from the start.
        await js.delete_consumer(STREAM, durable)
        await js.publish(f"{subjects}.thing", an_event(f"{durable}-2"))
        expected = [f"{durable}-1", f"{durable}-1", f"{durable}-2"]
        assert await eventually(lambda: asyncio.sleep(0, sorted(handled)), expected, within=60) == expected
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.gather(js.delete_consumer(STREAM, durable), return_exceptions=True)
        await js.purge_stream(STREAM, subject=f"{subjects}.>")  # other tests read the stream as envelopes
        await nc.close()


async def test_a_senior_agents_own_report_and_answer_and_a_knowledge_entry(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    knowledge = knowledge_pb2_grpc.KnowledgeServiceStub(desk.channel("knowledge"))
    senior = auth(desk.token("senior_agent"))
    request = report(category="network", agent_id="dev-senior_agent")
    ticket_id = (await intake.CreateTicket(request, metadata=senior)).ticket.ticket_id
    await intake.ResolveAtFirstContact(
        intake_pb2.ResolveAtFirstContactRequest(ticket_id=ticket_id, resolution="restarted the modem"),
        metadata=senior,
    )
    entry = await knowledge.CreateEntry(
        knowledge_pb2.CreateEntryRequest(
            request_id=f"ledger-{uuid.uuid4()}", title="Modem hangs", body="Restart it.", category="network"
        ),
        metadata=auth(desk.token("knowledge_manager")),
    )

    expected: list[Row] = [
        ("record", "SENIOR_AGENT", "dev-senior_agent", "RECORD", "", ""),  # routed automatically: no dispatch
        ("first-contact", "SENIOR_AGENT", "dev-senior_agent", "FIRST_CONTACT_ANSWER", "", ""),
    ]
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        assert await eventually(lambda: ledger_rows(conn, ticket_id), expected) == expected

        async def entry_item() -> tuple[str, str, str, str] | None:
            row = await conn.fetchrow(
                "SELECT post, staff_id, kind, ticket_id FROM quality.items WHERE item_id = $1",
                f"knowledge/{entry.entry_id}/1",
            )
            return None if row is None else (row["post"], row["staff_id"], row["kind"], row["ticket_id"])

        written = ("DATA_MANAGER", "dev-knowledge_manager", "KNOWLEDGE_ENTRY", "")
        assert await eventually(entry_item, written) == written
    finally:
        await conn.close()
