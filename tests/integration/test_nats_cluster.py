"""The embedded NATS as a cluster of three (deploy/nats.py, deploy/nats_cluster.py): the desk's stream is
kept on every node, and losing the node that leads it loses no event nor its deduplication.

The nodes run as `helpdesk up` runs them (the project's own start and supervisor), on free ports: this
test starts no desk of its own, only the cluster, so it stays quick.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import nats.errors
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamInfo

from deploy.nats import EmbeddedNats
from deploy.nats_cluster import NatsNode
from deploy.processes import run_together
from deploy.supervisor import Supervisor
from desk.event_bus import EventPublisher, connect, ensure_stream, ensure_team_consumer
from desk.events import STREAM, EventSpec, dispatch_subject
from tests.stack import free_ports

NODES = 3


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[list[EmbeddedNats], Supervisor]]:
    ports = free_ports(2 * NODES)
    nodes = [
        NatsNode(
            number=n,
            nodes=NODES,
            host="127.0.0.1",
            port=ports[n - 1],
            monitor_port=0,
            cluster_port=ports[NODES + n - 1],
        )
        for n in range(1, NODES + 1)
    ]
    servers = [
        EmbeddedNats(data_dir=tmp_path, node=node, cluster=nodes, run_dir=tmp_path / "run") for node in nodes
    ]
    supervisor = Supervisor([], tmp_path / "run", on_spawn=lambda _name, _pid: None)
    try:
        await run_together(server.start() for server in servers)
        for server in servers:
            supervisor.watch(server.child, server.start)  # as `helpdesk up` does (deploy/up.py)
        yield servers, supervisor
    finally:
        await supervisor.stop([])
        await asyncio.gather(*(server.stop() for server in servers))


def _event(event_id: str) -> EventSpec:
    return EventSpec(
        event_id=event_id,
        type="work_order.created",
        subject=dispatch_subject("network", "created"),
        ticket_id="T-1",
        sequence=1,
        occurred_at=datetime.now(UTC),
        actor="test",
    )


async def _publish(publisher: EventPublisher, event: EventSpec, *, within: float = 30.0) -> None:
    """Publish as intake's relay does: again after a failure (no leader yet), until acknowledged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            await publisher.publish(event)
            return
        except (nats.errors.Error, TimeoutError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _stream(
    js: JetStreamContext, until: Callable[[StreamInfo], bool] | None = None, *, within: float = 30.0
) -> StreamInfo:
    """The stream's info, once it has a leader (and satisfies ``until``, a predicate, if given)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            info = await js.stream_info(STREAM)
            if info.cluster and info.cluster.leader and (until is None or until(info)):
                return info
        except (nats.errors.Error, TimeoutError):
            pass
        if loop.time() > deadline:
            raise AssertionError(f"the stream did not get there within {within:.0f} s")
        await asyncio.sleep(0.2)


async def test_the_stream_survives_its_leader_node_and_keeps_deduplicating(
    cluster: tuple[list[EmbeddedNats], Supervisor],
) -> None:
    servers, _ = cluster
    nc = await connect(servers[0].users.desk_url())  # every node's URL, as the desk's NATS_URL
    try:
        js = nc.jetstream()
        await ensure_stream(js, replicas=3)
        await ensure_team_consumer(js, "network")
        info = await _stream(js)
        assert info.config.num_replicas == 3
        assert (
            info.cluster is not None and len(info.cluster.replicas or []) == NODES - 1
        )  # besides the leader
        team = await js.consumer_info(STREAM, "team-network")
        assert team.cluster is not None and len(team.cluster.replicas or []) == NODES - 1  # the stream's

        publisher = EventPublisher(js)
        await _publish(publisher, _event("before"))
        leader = next(s for s in servers if s.node.server_name == info.cluster.leader)
        killed_pid = leader.child.pid
        assert killed_pid is not None
        os.kill(killed_pid, signal.SIGKILL)

        await _publish(publisher, _event("before"))  # published again across the failover: stored once
        await _publish(publisher, _event("after"))
        # A leader again: another node, or the killed one if the supervisor brought it back first (a
        # loaded machine): either way the stream answers with both events, the repeat dropped.
        after = await _stream(js, lambda i: i.state.messages >= 2)
        assert after.state.messages == 2

        # The supervisor starts the killed node again; it catches up with what it missed. Leading
        # again counts too: the replicas listed are the leader's followers, never the leader itself.
        def caught_up(i: StreamInfo) -> bool:
            if i.cluster is not None and i.cluster.leader == leader.node.server_name:
                return True
            peers = {peer.name: peer for peer in (i.cluster.replicas if i.cluster else None) or []}
            peer = peers.get(leader.node.server_name)
            return peer is not None and bool(peer.current) and not peer.offline and not peer.lag

        await _stream(js, caught_up, within=60.0)
        assert leader.child.pid not in (None, killed_pid)
    finally:
        await nc.close()
