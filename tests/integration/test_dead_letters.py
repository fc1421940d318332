"""An event NATS refuses for good is parked, and the events behind it flow on; operators see and retry it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import asyncpg

from desk.events import EventSpec
from desk.records import to_json
from helpdesk.v1 import intake_pb2_grpc
from tests.integration.desk_client import auth, report, ticket_events, types
from tests.stack import PROJECT_ROOT, RunningDesk

OVER_NATS_MAX_PAYLOAD = 2_000_000  # the server's default maximum payload is 1 MB


def _oversized_event() -> EventSpec:
    ticket_id = f"TK-HUGE-{uuid.uuid4().hex[:8]}"
    return EventSpec(
        event_id=str(uuid.uuid4()),
        type="ticket.supplemented",
        subject="helpdesk.ticket.supplemented",
        ticket_id=ticket_id,
        sequence=1,
        occurred_at=datetime.now(UTC),
        actor="test",
        payload={"text": "x" * OVER_NATS_MAX_PAYLOAD},
    )


def _helpdesk(desk: RunningDesk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "events", *args, "--database-url", desk.endpoints["postgres"]],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _letter_of(conn: asyncpg.Connection, event_id: str, *, within: float = 30.0) -> asyncpg.Record:
    for _ in range(int(within / 0.2)):
        row = await conn.fetchrow(
            "SELECT letter_id, error FROM intake.dead_letters WHERE event->>'event_id' = $1", event_id
        )
        if row is not None:
            return row
        await asyncio.sleep(0.2)
    raise AssertionError(f"event {event_id} was not parked within {within:.0f} s")


async def test_an_event_nats_refuses_for_good_is_parked_and_the_next_tickets_events_flow(
    desk: RunningDesk,
) -> None:
    conn = await asyncpg.connect(desk.endpoints["postgres"])
    try:
        huge = _oversized_event()
        await conn.execute("INSERT INTO intake.outbox (event) VALUES ($1::jsonb)", to_json(huge))
        intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        ticket = (await intake.CreateTicket(report(), metadata=auth(desk.token("agent")))).ticket

        events = await ticket_events(
            desk.endpoints["nats"], ticket.ticket_id, until=lambda ev: "ticket.created" in types(ev)
        )
        assert "ticket.created" in types(events)  # queued behind the huge one, published all the same
        letter = await _letter_of(conn, huge.event_id)
        assert "MaxPayloadError" in letter["error"]
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM intake.outbox WHERE event->>'event_id' = $1", huge.event_id
            )
            == 0
        )

        listed = _helpdesk(desk, "dead-letters", "--json")
        assert listed.returncode == 0, listed.stderr
        letters = {entry["letter_id"]: entry for entry in map(json.loads, listed.stdout.splitlines())}
        shown = letters[letter["letter_id"]]
        assert (shown["ticket_id"], shown["type"]) == (huge.ticket_id, "ticket.supplemented")
        assert shown["size"] > OVER_NATS_MAX_PAYLOAD
        assert _helpdesk(desk, "dead-letters").stdout == listed.stdout  # piped: JSON without asking

        retried = _helpdesk(desk, "retry", str(letter["letter_id"]))
        assert retried.returncode == 0, retried.stderr
        again = await _letter_of(conn, huge.event_id)  # still too large: parked again, under a new id
        assert again["letter_id"] != letter["letter_id"]
        assert _helpdesk(desk, "retry", str(letter["letter_id"])).returncode == 1  # that one is gone
    finally:
        await conn.execute("DELETE FROM intake.dead_letters WHERE event->>'ticket_id' LIKE 'TK-HUGE-%'")
        await conn.close()
