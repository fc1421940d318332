"""NATS on the real stack admits only its users (issue 16, item 4): no anonymous connection; a team's
user reads its own work orders and nothing else, and cannot forge one; a team created at runtime gets
its user from `helpdesk ops credential`.

Each denial is checked twice: by its effect (nothing landed, nothing delivered) and by the server's
"permissions violation" that the client is told of, so a denial for another reason would not pass.
"""

from __future__ import annotations

import asyncio
import os
import stat
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from desk.events import STREAM, dispatch_subject, team_consumer_name
from desk.nats_access import team_inbox_prefix
from desk.team_feed import TeamEvent, bind_team_feed, open_team_feed
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, events_pb2
from tests.integration.desk_client import auth
from tests.integration.test_ops_consumer import _create_tickets, team_url
from tests.stack import RunningDesk, helpdesk


class Refusals:
    """What the server told a connection it refused (its async "permissions violation" errors)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._arrived = asyncio.Event()

    async def record(self, error: Exception) -> None:
        self.errors.append(str(error).lower())
        self._arrived.set()

    async def of(self, subject: str, *, within: float = 5.0) -> None:
        """Until the server has refused `subject`."""
        async with asyncio.timeout(within):
            while not any("permissions violation" in e and subject.lower() in e for e in self.errors):
                self._arrived.clear()
                await self._arrived.wait()


@asynccontextmanager
async def as_team(url: str, team: str) -> AsyncIterator[tuple[NatsClient, Refusals]]:
    refusals = Refusals()
    nc = await nats.connect(
        url, inbox_prefix=team_inbox_prefix(team), error_cb=refusals.record, allow_reconnect=False
    )
    try:
        yield nc, refusals
    finally:
        await nc.close()


async def test_a_connection_without_the_password_is_refused(desk: RunningDesk) -> None:
    address = urlsplit(desk.endpoints["nats"])
    anonymous = urlunsplit(address._replace(netloc=f"{address.hostname}:{address.port}"))
    wrong = urlunsplit(address._replace(netloc=f"desk:guessed@{address.hostname}:{address.port}"))
    for url in (anonymous, wrong):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2)


async def test_a_team_cannot_forge_a_work_order(desk: RunningDesk) -> None:
    marker = uuid.uuid4().hex
    forged_subjects = [
        dispatch_subject("network", "created"),
        dispatch_subject("network", f"forged-{marker}"),
    ]
    async with as_team(team_url(desk, "network"), "network") as (team, refused):
        for subject in forged_subjects:
            with pytest.raises(TimeoutError):  # JetStream never answers: it never saw it
                await team.jetstream().publish(subject, b"forged", headers={"Nats-Msg-Id": marker}, timeout=2)
            await refused.of(subject)

    desk_nc = await nats.connect(desk.endpoints["nats"])
    try:
        js = desk_nc.jetstream()
        with pytest.raises(NotFoundError):
            await js.get_last_msg(STREAM, forged_subjects[1])
        try:
            last = await js.get_last_msg(STREAM, forged_subjects[0])
        except NotFoundError:
            return  # no work order for the network team yet: nothing forged either
        assert (last.headers or {}).get("Nats-Msg-Id") != marker and last.data != b"forged"
    finally:
        await desk_nc.close()


async def test_a_team_cannot_read_another_teams_work_orders(desk: RunningDesk) -> None:
    desk_nc = await nats.connect(desk.endpoints["nats"])
    try:
        before = await desk_nc.jetstream().consumer_info(STREAM, team_consumer_name("software"))
        control = await desk_nc.subscribe(dispatch_subject("software", ">"))  # what the desk's user sees
        async with as_team(team_url(desk, "network"), "network") as (team, refused):
            # Its consumer: neither its info, nor a fetch, nor a live subscription to its subjects.
            with pytest.raises(TimeoutError):
                await bind_team_feed(team, "software", _ignore)
            await refused.of(f"$JS.API.CONSUMER.INFO.{STREAM}.team-software")
            pull = await team.jetstream().pull_subscribe_bind(durable="team-software", stream=STREAM)
            with pytest.raises(TimeoutError):
                await pull.fetch(1, timeout=2)
            await refused.of(f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.team-software")
            live = await team.subscribe(dispatch_subject("software", ">"))
            await refused.of("helpdesk.dispatch.software.>")
            # Nor the replies meant for another team's connection.
            await team.subscribe(f"{team_inbox_prefix('software')}.>")
            await refused.of(f"{team_inbox_prefix('software')}.>")

            [ticket_id] = await _create_tickets(desk, "software", 1)  # a work order for software ...
            while _ticket_of(await control.next_msg(timeout=30)) != ticket_id:
                pass  # ... published: the desk's user has it
            with pytest.raises(TimeoutError):  # network's has not
                await live.next_msg(timeout=1)
        after = await desk_nc.jetstream().consumer_info(STREAM, team_consumer_name("software"))
    finally:
        await desk_nc.close()
    assert after.delivered.stream_seq == before.delivered.stream_seq  # nothing was delivered to network


async def test_observing_shows_the_teams_new_events_without_a_consumer(desk: RunningDesk) -> None:
    shown: list[TeamEvent] = []

    async def show(event: TeamEvent) -> None:
        shown.append(event)

    async with open_team_feed(team_url(desk, "network"), "network", show, observe=True) as feed:
        [work_order_id] = (await _create_tickets(desk, "network", 1)).values()
        async with asyncio.timeout(30):
            while not any(e.work_order_id == work_order_id and e.type == "dispatch.created" for e in shown):
                await feed.poll(linger=0.5)
    assert all(e.subject.startswith("helpdesk.dispatch.network.") for e in shown)
    assert feed.failures == 0


async def test_a_team_created_at_runtime_reads_its_orders_after_ops_credential(desk: RunningDesk) -> None:
    team = f"night-{uuid.uuid4().hex[:6]}"
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    await dispatch.UpsertTeam(
        dispatch_pb2.UpsertTeamRequest(team=common_pb2.Team(team_id=team, name="night shift")),
        metadata=auth(desk.token("manager")),
    )
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"} | {"HELPDESK_DATA_DIR": str(desk.data_dir)}
    status, printed = await helpdesk("ops", "credential", team, env=env)
    assert status == 0, printed
    credential = Path(printed.strip())
    url, mode = _read_private(credential)
    password = urlsplit(url).password
    assert password and password not in printed  # the path, not the secret
    assert mode == 0o600

    # A work order for the new team (published by the desk's user): the team's own user reads it.
    event_id = f"evt-{uuid.uuid4().hex}"
    envelope = events_pb2.EventEnvelope(event_id=event_id, type="dispatch.created", ticket_id="TK-night")
    # Dated now: the session desk's statistics read every event, and one dated 1970 would sit in the
    # backlog of every period the statistics tests ask about.
    envelope.occurred_at.GetCurrentTime()
    desk_nc = await nats.connect(desk.endpoints["nats"])
    try:
        subject = dispatch_subject(team, "created")
        body = envelope.SerializeToString()
        await desk_nc.jetstream().publish(subject, body, headers={"Nats-Msg-Id": event_id})
    finally:
        await desk_nc.close()
    seen: list[str] = []

    async def remember(event: TeamEvent) -> None:
        seen.append(event.event_id)

    async with open_team_feed(url, team, remember) as feed:
        async with asyncio.timeout(20):
            while event_id not in seen:
                await feed.poll(linger=0.5)
    assert feed.handled == 1 and feed.failures == 0

    again_status, again = await helpdesk("ops", "credential", team, env=env)  # idempotent: same file
    assert again_status == 0 and again.strip() == str(credential) and _read_private(credential)[0] == url


async def _ignore(_: TeamEvent) -> None:
    pass


def _ticket_of(msg: Msg) -> str:
    return str(events_pb2.EventEnvelope.FromString(msg.data).ticket_id)


def _read_private(path: Path) -> tuple[str, int]:
    """A credential file's one line and its mode."""
    return path.read_text().strip(), stat.S_IMODE(path.stat().st_mode)
