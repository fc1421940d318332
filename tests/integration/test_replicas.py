"""The desk with two replicas of every service: a killed intake replica costs the gateway's callers nothing.

One desk (`helpdesk up` with HELPDESK_REPLICAS=2): endpoints.json lists both replicas of each service
and of the gateway; reports go through the gateway, whose channel to intake is round robin over both
(desk/grpc_channels.py); one intake replica is SIGKILLed and the next reports are accepted all the same.
The command line, too, calls a service's replicas round robin (cli/endpoints.py).
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from desk.config import SERVICES
from tests.integration.test_alert_metrics import discovered_targets
from tests.integration.test_http_channels import bearer, web_form
from tests.stack import PROJECT_ROOT, RunningDesk, free_ports, running_desk

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
    scraped = {name for job, name in discovered_targets(two_of_each) if job == "helpdesk"}  # by Prometheus
    assert scraped == set(endpoints["metrics"])


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


def helpdesk_with(endpoints: dict[str, Any], data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m cli ARGV` finding the desk through this endpoints file."""
    data_dir.mkdir()
    (data_dir / "endpoints.json").write_text(json.dumps(endpoints))
    return subprocess.run(
        [sys.executable, "-m", "cli", *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HELPDESK_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_command_line_reaches_a_service_whose_first_replica_is_down(
    two_of_each: RunningDesk, tmp_path: Path
) -> None:
    """The first replica, the one ``services`` names, is gone (a port nothing listens on, as a killed
    replica's is until its restart): the command line calls the other replica."""
    down = f"127.0.0.1:{free_ports(1)[0]}"
    endpoints = copy.deepcopy(two_of_each.endpoints)
    endpoints["services"]["intake"] = down
    endpoints["replicas"]["intake"] = [down, two_of_each.endpoints["replicas"]["intake"][1]]
    listed = helpdesk_with(endpoints, tmp_path / "replicas", "ticket", "list", "--json")
    assert listed.returncode == 0, listed.stderr

    del endpoints["replicas"]  # an endpoints file from before replicas were listed: its one address
    alone = helpdesk_with(endpoints, tmp_path / "one", "ticket", "list", "--json")
    assert alone.returncode != 0 and "UNAVAILABLE" in alone.stderr, alone.stderr
