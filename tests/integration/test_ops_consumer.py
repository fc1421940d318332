"""An ops team's side: its durable consumer after downtime, a crash and a failing handler; `ops watch`.

Other tests of the session send work orders to the same teams, so each test counts only the tickets
it created itself.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from pathlib import Path

from desk.events import STREAM, team_consumer_name
from desk.team_feed import SeenIds, TeamEvent, connect_team, open_team_feed
from helpdesk.v1 import common_pb2, events_pb2, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.integration.watch_screen import WatchScreen
from tests.stack import PROJECT_ROOT, RunningDesk

S = common_pb2


def team_url(desk: RunningDesk, team: str) -> str:
    """The team's NATS credential, as `helpdesk up` wrote it and endpoints.json names it: its own user."""
    return Path(desk.endpoints["secrets"][f"nats-credential-{team}"]).read_text().strip()


async def _create_tickets(desk: RunningDesk, team: str, count: int) -> dict[str, str]:
    """`count` tickets routed to `team`, each from its own caller: ticket id → its work order id."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))

    def one_caller() -> intake_pb2.CreateTicketRequest:
        phone, fault_number = f"139{random.randrange(10**8):08d}", f"021{random.randrange(10**8):08d}"
        reporter = S.Reporter(name="Han Meimei", phone=phone, organization="ACME")
        return report(category=team, reporter=reporter, fault_number=fault_number)

    agent = auth(desk.token("agent"))
    created = await asyncio.gather(*(intake.CreateTicket(one_caller(), metadata=agent) for _ in range(count)))
    assert all(c.ticket.status == S.TICKET_STATUS_DISPATCHED for c in created)
    return {c.ticket.ticket_id: c.ticket.work_orders[0].work_order_id for c in created}


async def _handle_one_then_crash(
    nats_url: str, team: str, mine: dict[str, str], effects: Counter[str], seen: SeenIds
) -> events_pb2.EventEnvelope:
    """A first consumer: handles one of our work orders, then dies before its ack reaches JetStream.

    The team consumer waits 30 s for an ack before it redelivers; the nak stands in for that wait.
    """
    nc = await connect_team(nats_url, team)  # as the team's user: its inbox prefix
    try:
        sub = await nc.jetstream().pull_subscribe_bind(durable=team_consumer_name(team), stream=STREAM)
        for _ in range(200):
            [msg] = await sub.fetch(1, timeout=10)
            envelope = events_pb2.EventEnvelope.FromString(msg.data)
            if envelope.ticket_id not in mine:
                await msg.ack()  # another test's work order
                continue
            effects[envelope.event_id] += 1  # the effect happened (and was recorded as seen) ...
            await seen.remember(envelope.event_id)
            await msg.nak()  # ... but no ack: the process died
            return envelope
        raise AssertionError(f"none of our {len(mine)} work orders reached team {team}")
    finally:
        await nc.close()


async def test_a_resumed_team_consumer_gets_every_work_order_exactly_once(desk: RunningDesk) -> None:
    team = "machine-room"
    nats_url = team_url(desk, team)
    # The team's consumer is down (nobody pulls) while eight tickets are routed to it.
    mine = await _create_tickets(desk, team, 8)

    effects: Counter[str] = Counter()  # the handler's effect, per event id
    seen = SeenIds()  # the team's record of handled ids: kept across the crash, as its database would
    crashed = await _handle_one_then_crash(nats_url, team, mine, effects, seen)
    work_orders = {crashed.event_id: str(crashed.payload["work_order_id"])}  # event id → work order id
    deliveries: dict[str, int] = {}
    failing: list[str] = []

    async def handle(event: TeamEvent) -> None:
        if event.envelope.ticket_id not in mine or event.type != "dispatch.created":
            return
        if not failing:  # the first of ours fails once (the team's database was away): nak, redelivery
            failing.append(event.event_id)
            raise RuntimeError("the team's database is briefly unavailable")
        effects[event.event_id] += 1
        work_orders[event.event_id] = event.work_order_id
        deliveries[event.event_id] = event.delivered

    # A fresh connection and consumer resume where the first one stopped.
    async with open_team_feed(nats_url, team, handle, seen=seen, retry_delay=0.2) as feed:
        deadline = asyncio.get_running_loop().time() + 30
        while len(effects) < len(mine) or feed.duplicates < 1:
            assert asyncio.get_running_loop().time() < deadline, f"handled {dict(effects)} of {mine}"
            await feed.poll(linger=0.5)
        await feed.poll(linger=0.5)  # nothing of ours comes again

    assert set(work_orders.values()) == set(mine.values())  # every work order arrived ...
    assert set(effects) == set(work_orders) and len(effects) == len(mine)
    assert all(count == 1 for count in effects.values()), effects  # ... and had its effect exactly once
    assert feed.duplicates >= 1  # the crashed one came again and was acked without a second effect
    assert feed.failures == 1 and deliveries[failing[0]] == 2  # the failed one came again and succeeded
    assert crashed.event_id not in deliveries


async def test_ops_watch_shows_work_orders_and_takes_commands(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    watch = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli", "ops", "watch", "--team", "automation"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)},
        cwd=PROJECT_ROOT,
    )
    screen = WatchScreen(watch)
    try:
        await screen.line(lambda line: line.startswith("watching team automation"))
        [(ticket_id, work_order_id)] = (await _create_tickets(desk, "automation", 1)).items()
        shown = await screen.line(lambda line: work_order_id in line and "dispatch.created" in line)
        assert f"ticket {ticket_id}" in shown and "response due" in shown

        await screen.type("frobnicate the router")
        assert "unknown command" in await screen.line(lambda line: line.startswith("? "))
        await screen.type(f"accept {ticket_id}-W9 Wang Wu")
        assert "NOT_FOUND" in await screen.line(lambda line: line.startswith("! "))
        await screen.type(f"accept {work_order_id} Wang Wu")
        assert await screen.line(lambda line: line.startswith("ok ")) == f"ok {work_order_id} ACCEPTED"
        accepted = await screen.line(lambda line: work_order_id in line and "dispatch.accepted" in line)
        assert "engineer Wang Wu" in accepted

        seen = await intake.GetTicket(
            intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=auth(desk.token("agent"))
        )
        assert seen.status == S.TICKET_STATUS_IN_PROGRESS
        assert await screen.quit() == 0
    finally:
        await screen.close()
