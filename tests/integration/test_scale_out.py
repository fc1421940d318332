"""Two of everything under a steady load: a NATS node, an intake replica and a workflow worker killed
in turn, and every acknowledged report is opened and dispatched, each event is on the stream once, and
each ops team's consumer gives its handler each work order once.

A desk of its own: two replicas of every service and of the gateway, two workflow workers, a NATS
cluster of three (the stream and the consumers on all three). Reports go round robin over both intake
replicas, as a caller given the replicas' list does (desk/grpc_channels.py); the four teams that the
reports' categories route to read their durable consumers for the whole run (desk/team_feed.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from desk.grpc_channels import aio_channel
from helpdesk.v1 import intake_pb2_grpc
from tests.integration.desk_client import auth
from tests.integration.report_load import RETRIED, Stream, TeamFeeds, audit, drained, kills_under_load
from tests.stack import RunningDesk, running_desk

TEAMS = ("software", "machine-room", "network", "automation")  # a report's category routes to its team
SETTINGS = {
    "HELPDESK_REPLICAS": "2",
    "HELPDESK_WORKFLOW_WORKERS": "2",
    "HELPDESK_NATS_CLUSTER": "3",
    "HELPDESK_PENDING_LEASE_SECONDS": "3",  # a killed intake replica's leased tickets reopened soon
}


@pytest.fixture(scope="module")
async def two_of_everything(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningDesk]:
    """The desk, which must still stop cleanly after all this."""
    async with running_desk(tmp_path_factory.mktemp("scale-out"), SETTINGS) as desk:
        yield desk


async def test_killing_a_nats_node_an_intake_replica_and_a_worker_loses_and_doubles_nothing(
    two_of_everything: RunningDesk,
) -> None:
    desk = two_of_everything
    replicas = desk.endpoints["replicas"]["intake"]
    assert len(replicas) == 2 and len(desk.endpoints["nats_servers"]) == 3
    async with (
        aio_channel("ipv4:" + ",".join(replicas), None) as channel,
        TeamFeeds(desk, TEAMS) as teams,
    ):
        stream = Stream(
            intake_pb2_grpc.IntakeServiceStub(channel), auth(desk.token("agent")), categories=TEAMS
        )
        killed = await kills_under_load(desk, stream)
        await drained(desk.endpoints["postgres"], within=60)
        await teams.caught_up(within=90)
        found = await audit(desk, stream.accepted, teams=teams)

    assert killed[0].startswith("nats") and killed[1:] == ["intake", "worker"]
    assert len(stream.accepted) >= 100, len(stream.accepted)
    assert set(stream.refusals) <= {code.name for code in RETRIED}, stream.refusals  # never UNKNOWN
    assert found.lost == [] and found.doubled == [], found
    assert found.work_orders == len(stream.accepted)  # one work order a report, each handled once
    handled = {team: len(count.given) for team, count in teams.counts.items()}
    assert all(handled.values()), handled  # every team's consumer was busy through the kills
    print(  # what the run went through, for the log (pytest -s)
        f"\n{len(stream.accepted)} reports accepted, retried {dict(stream.refusals)}; killed {killed};"
        + "".join(
            f"\n  team {team}: {len(count.given)} work orders handled, {count.deliveries} deliveries"
            f" ({count.redelivered} redelivered and skipped)"
            for team, count in teams.counts.items()
        )
    )
