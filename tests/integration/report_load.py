"""A steady stream of reports through failures, and the audit after it: nothing lost, nothing doubled.

Shared by the tests that kill parts of a desk under load (test_backing_crashes.py, test_scale_out.py)
and by the scale-out benchmark's kill round (tests/bench/scale_out.py), so that all check the same:

- every accepted request id has its one ticket (intake.requests), and every ticket is DISPATCHED
  (opened by its workflow and routed);
- ``ticket.created`` and ``dispatch.created`` are on the stream exactly once per ticket;
- with :class:`TeamFeeds`, each ops team's handler, reading the team's durable consumer through
  desk/team_feed.py, was given each of the team's work orders exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg
import grpc
import nats.errors
from nats.aio.client import Client as NatsClient

from deploy.nats_cluster import NODE_NAMES, NatsNode
from desk import nats_servers
from desk.events import STREAM, team_consumer_name
from desk.team_feed import TeamEvent, TeamFeed, bind_team_feed, connect_team
from helpdesk.v1 import events_pb2, intake_pb2_grpc
from tests.integration.desk_client import Metadata, report
from tests.stack import RunningDesk

RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}
"""What a caller meets while a part of the desk is down, and answers by sending the report again."""
CREATED = ("ticket.created", "dispatch.created")
DISPATCHED = "DISPATCHED"  # intake.tickets.status of a ticket opened by its workflow and routed


@dataclass
class Stream:
    """Reports sent one after another at ``rate`` a second, each from its own caller, the categories in
    turn; each is retried with its request id until accepted."""

    intake: intake_pb2_grpc.IntakeServiceStub
    metadata: Metadata
    rate: float = 10.0
    categories: Sequence[str] = ("network",)
    accepted: dict[str, str] = field(default_factory=dict)  # request id → ticket id
    refusals: Counter[str] = field(default_factory=Counter)  # status codes met on the way
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0

    async def run(self) -> None:
        categories = itertools.cycle(self.categories)
        async with asyncio.TaskGroup() as group:
            while True:
                await self.flowing.wait()
                group.create_task(self._report(next(categories)))
                await asyncio.sleep(1 / self.rate)

    async def quiet(self, *, within: float = 60.0) -> None:
        """Wait until every report sent so far has been accepted (``flowing`` cleared first)."""
        for _ in range(int(within / 0.1)):
            if not self.in_flight:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.in_flight} reports still unanswered after {within:.0f} s")

    async def _report(self, category: str) -> None:
        request = report(wait_for_routing=False, category=category)
        self.in_flight += 1
        try:
            while True:
                try:
                    answer = await self.intake.CreateTicket(request, metadata=self.metadata, timeout=10)
                except grpc.aio.AioRpcError as error:
                    self.refusals[error.code().name] += 1
                    if error.code() not in RETRIED:
                        raise
                    await asyncio.sleep(0.5)
                    continue
                self.accepted[request.request_id] = answer.ticket.ticket_id
                return
        finally:
            self.in_flight -= 1


async def database(url: str) -> asyncpg.Connection:
    """A connection, once PostgreSQL answers (it may be restarting)."""
    for _ in range(300):
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return await asyncpg.connect(url)
        await asyncio.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


async def drained(url: str, *, within: float) -> None:
    """Every accepted ticket opened and every queued event published, within `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    left = (-1, -1)
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn = await asyncpg.connect(url)
            try:
                left = (
                    await conn.fetchval("SELECT count(*) FROM intake.pending_tickets"),
                    await conn.fetchval("SELECT count(*) FROM intake.outbox"),
                )
            finally:
                await conn.close()
            if left == (0, 0):
                return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not drained within {within:.0f} s: (pending tickets, queued events) = {left}")


def nats_url(endpoints: Mapping[str, Any]) -> str:
    """The desk's NATS, every node of a cluster (so a client carries on when one dies)."""
    return ",".join(endpoints.get("nats_servers") or [endpoints["nats"]])


async def created_events(url: str) -> dict[str, list[tuple[str, events_pb2.EventEnvelope]]]:
    """Each ticket's ``ticket.created`` and ``dispatch.created`` events on the stream, with their subjects."""
    nc = await nats_servers.connect(url)
    seen: dict[str, list[tuple[str, events_pb2.EventEnvelope]]] = {}
    try:
        js = nc.jetstream()
        sub = await js.subscribe("helpdesk.>", stream=STREAM, ordered_consumer=True)
        for _ in range((await js.stream_info(STREAM)).state.messages):
            msg = await sub.next_msg(timeout=5)
            envelope = events_pb2.EventEnvelope.FromString(msg.data)
            if envelope.type in CREATED:
                seen.setdefault(envelope.ticket_id, []).append((msg.subject, envelope))
        await sub.unsubscribe()
    finally:
        await nc.close()
    return seen


async def kill_and_wait_for_restart(desk: RunningDesk, process: str) -> None:
    """SIGKILL a desk process ("postgres", "nats-2", "intake", "worker" …); wait until it is replaced."""
    killed = desk.pid(process)
    os.kill(killed, signal.SIGKILL)
    await desk.restarted(process, killed, within=60)


async def stream_leader(url: str, *, within: float = 30.0) -> str:
    """The process name ("nats", "nats-2" …) of the NATS node leading the desk's stream."""
    names = {NatsNode(k, len(NODE_NAMES), "", 0, 0, 0).server_name: NODE_NAMES[k - 1] for k in range(1, 6)}
    nc = await nats_servers.connect(url)
    try:
        for _ in range(int(within / 0.2)):
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                info = await nc.jetstream().stream_info(STREAM)
                if info.cluster is not None and info.cluster.leader:
                    return names[info.cluster.leader]
            await asyncio.sleep(0.2)
    finally:
        await nc.close()
    raise AssertionError(f"the stream had no leader within {within:.0f} s")


async def kill_in_turn(desk: RunningDesk, *, pause: float) -> list[str]:
    """SIGKILL the NATS node leading the stream, then an intake replica, then a workflow worker, ``pause``
    seconds apart, each once the supervisor has replaced the one before. The processes killed."""
    killed = []
    for process in (await stream_leader(nats_url(desk.endpoints)), "intake", "worker"):
        await kill_and_wait_for_restart(desk, process)
        killed.append(process)
        await asyncio.sleep(pause)
    return killed


async def kills_under_load(desk: RunningDesk, stream: Stream, *, pause: float = 4.0) -> list[str]:
    """Reports flowing, then :func:`kill_in_turn` while they keep coming; returns once every report sent
    has been accepted. The processes killed."""
    sending = asyncio.create_task(stream.run())
    try:
        stream.flowing.set()
        await asyncio.sleep(pause)
        killed = await kill_in_turn(desk, pause=pause)  # reports keep coming while the desk recovers
        stream.flowing.clear()
        await stream.quiet()
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    return killed


@dataclass
class TeamCount:
    """What one team's handler was given, by work order, and what its feed received in all."""

    team: str
    consumer: NatsClient  # connected as the team's user
    feed: TeamFeed
    given: Counter[str]  # work order id → its dispatch.created handled

    @classmethod
    async def bind(cls, team: str, consumer: NatsClient) -> TeamCount:
        given: Counter[str] = Counter()

        async def handle(event: TeamEvent) -> None:
            if event.type == "dispatch.created":
                given[event.work_order_id] += 1

        return cls(team, consumer, await bind_team_feed(consumer, team, handle, retry_delay=0.2), given)

    counted_from: int = 0  # received before the count started (:meth:`TeamFeeds.count_from_now`)
    skipped_before: int = 0

    @property
    def received(self) -> int:
        """Messages the feed received: handled, skipped as seen before, failed, undecodable."""
        feed = self.feed
        return feed.handled + feed.duplicates + feed.failures + feed.terminated

    @property
    def deliveries(self) -> int:
        """Messages received since the count started."""
        return self.received - self.counted_from

    @property
    def redelivered(self) -> int:
        """Of those, events delivered again after they were handled (their ack lost), skipped."""
        return self.feed.duplicates - self.skipped_before

    async def caught_up(self) -> bool:
        """Nothing left on the team's consumer: all delivered, and acked."""
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            info = await self.consumer.jetstream().consumer_info(STREAM, team_consumer_name(self.team))
            return not info.num_pending and not info.num_ack_pending
        return False


def team_credential(desk: RunningDesk, team: str) -> str:
    """The team's NATS URL with its own user, from the file `helpdesk up` wrote (endpoints.json names it)."""
    return Path(desk.endpoints["secrets"][f"nats-credential-{team}"]).read_text().strip()


class TeamFeeds:
    """Each team's durable consumer read for the block by a :class:`desk.team_feed.TeamFeed`, connected
    as the team's own user with its credential, as the team's integration would run it."""

    def __init__(self, desk: RunningDesk, teams: Sequence[str]) -> None:
        self._desk, self._teams = desk, teams
        self.counts: dict[str, TeamCount] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        try:
            for team in self._teams:
                nc = await connect_team(team_credential(self._desk, team), team)
                try:
                    count = await TeamCount.bind(team, nc)
                except BaseException:
                    await nc.close()
                    raise
                self.counts[team] = count
                self._tasks.append(asyncio.create_task(count.feed.run(linger=1.0)))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for count in self.counts.values():
            await count.consumer.close()

    def count_from_now(self) -> None:
        """Forget what was counted so far (a backlog of earlier work orders read first)."""
        for count in self.counts.values():
            count.given.clear()
            count.counted_from, count.skipped_before = (
                count.counted_from + count.deliveries,
                count.feed.duplicates,
            )

    async def caught_up(self, *, within: float) -> None:
        """Wait until every team's consumer has delivered and had acked all it holds (a message whose
        ack was lost with a NATS node comes again after the consumer's 30 s ack wait)."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if all([await count.caught_up() for count in self.counts.values()]):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"the teams' consumers did not catch up within {within:.0f} s")


@dataclass
class Audit:
    """What went missing and what came twice, each a line naming it."""

    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    work_orders: int = 0  # given to the teams' handlers, once each


async def audit(
    desk: RunningDesk,
    accepted: Mapping[str, str],
    *,
    since: datetime | None = None,
    teams: TeamFeeds | None = None,
) -> Audit:
    """Check the accepted reports (request id → ticket id) against the database, the stream and the
    teams' handlers. ``since``: tickets created earlier are another run's, not looked at."""
    found = Audit()
    conn = await database(desk.endpoints["postgres"])
    try:
        mine = list(accepted)
        requests = await conn.fetch(
            "SELECT request_id, ticket_id FROM intake.requests WHERE request_id = ANY($1)", mine
        )
        tickets = await conn.fetch(
            "SELECT ticket_id, status FROM intake.tickets WHERE $1::timestamptz IS NULL OR created_at >= $1",
            since,
        )
    finally:
        await conn.close()
    recorded = {r["request_id"]: r["ticket_id"] for r in requests}
    for request_id, ticket_id in accepted.items():
        if (kept := recorded.get(request_id)) != ticket_id:
            found.lost.append(f"request {request_id}: answered {ticket_id}, recorded {kept}")
    ours = set(accepted.values())
    status = {t["ticket_id"]: t["status"] for t in tickets}
    found.doubled += [f"ticket {t}: no report of ours" for t in status if t not in ours]
    found.lost += [f"ticket {t}: {status.get(t)}, not opened" for t in ours if status.get(t) != DISPATCHED]

    events = await created_events(nats_url(desk.endpoints))
    work_orders: dict[str, str] = {}  # work order id → its team
    for ticket_id in ours:
        on_stream = Counter(envelope.type for _, envelope in events.get(ticket_id, []))
        for kind in CREATED:
            if on_stream[kind] != 1:
                (found.lost if on_stream[kind] < 1 else found.doubled).append(
                    f"ticket {ticket_id}: {kind} {on_stream[kind]} times on the stream"
                )
        for subject, envelope in events.get(ticket_id, []):
            if envelope.type == "dispatch.created":
                work_orders[str(envelope.payload["work_order_id"])] = subject.split(".")[2]
    if teams is not None:
        _audit_teams(found, work_orders, teams)
    return found


def _audit_teams(found: Audit, work_orders: Mapping[str, str], teams: TeamFeeds) -> None:
    for work_order, team in work_orders.items():
        count = teams.counts.get(team)
        given = count.given[work_order] if count is not None else 0
        if given != 1:
            (found.lost if given < 1 else found.doubled).append(
                f"work order {work_order}: given to team {team}'s handler {given} times"
            )
        if given == 1:
            found.work_orders += 1
