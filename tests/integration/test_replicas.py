"""The desk with two replicas of every service: a killed intake replica costs the gateway's callers nothing.

One desk (`helpdesk up` with HELPDESK_REPLICAS=2): endpoints.json lists both replicas of each service
and of the gateway; reports go through the gateway, whose channel to intake is round robin over both
(desk/grpc_channels.py); one intake replica is SIGKILLed and the next reports are accepted all the same.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from desk.config import SERVICES
from tests.integration.test_http_channels import bearer, web_form
from tests.stack import RunningDesk, running_desk

REPORTS_AFTER_THE_KILL = 6


@pytest.fixture(scope="module")
async def two_of_each(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningDesk]:
    # One workflow worker: the fewest processes that still show every service and the gateway twice.
    settings = {"HELPDESK_REPLICAS": "2", "HELPDESK_WORKFLOW_WORKERS": "1"}
    async with running_desk(tmp_path_factory.mktemp("replicas"), settings) as desk:
        yield desk


async def serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


async def test_endpoints_list_every_replica_and_each_serves(two_of_each: RunningDesk) -> None:
    endpoints = two_of_each.endpoints
    for service in SERVICES:
        replicas = endpoints["replicas"][service]
        assert len(set(replicas)) == 2 and replicas[0] == endpoints["services"][service]
        assert {f"{service}", f"{service}-2"} <= set(endpoints["processes"])
        for address in replicas:
            assert await serving(address), address
    assert endpoints["replicas"]["http"][0] == endpoints["http"]["intake"]
    assert len(set(endpoints["replicas"]["http"])) == 2 and "http-2" in endpoints["processes"]
    assert {"intake-2", "http-2"} <= set(endpoints["metrics"])


async def test_reports_through_the_gateway_are_accepted_while_an_intake_replica_is_killed(
    two_of_each: RunningDesk,
) -> None:
    headers = bearer(two_of_each, "agent")
    for gateway in two_of_each.endpoints["replicas"]["http"]:
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
            created = await http.post("/v1/tickets", json=web_form(wait_for_routing=False), headers=headers)
            assert created.status_code == 201, created.text

    killed = two_of_each.pid("intake")
    os.kill(killed, signal.SIGKILL)
    async with httpx.AsyncClient(base_url=two_of_each.endpoints["http"]["intake"], timeout=60) as http:
        for _ in range(REPORTS_AFTER_THE_KILL):
            created = await http.post("/v1/tickets", json=web_form(wait_for_routing=False), headers=headers)
            assert created.status_code == 201, created.text
    await two_of_each.restarted("intake", killed)  # and the supervisor brings the replica back
