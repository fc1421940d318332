"""The codec endpoint on the real desk: a ticket's history, as Temporal stores it, decoded for a manager.

The payload is read from Temporal without the desk's codec (ciphertext, as the Temporal UI gets it)
and posted to the HTTP gateway's /codec/decode as the UI would; the embedded UI is started pointed at
it; Temporal's CLI decodes through it with a token (`--codec-endpoint`, `--codec-auth`).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client

from deploy.processes import find_binary
from desk.config import CODEC_PATH
from helpdesk.v1 import common_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk
from workflows.contract import ticket_workflow_id

PHONE = "13912340017"
NAME = "Wang Fang"


async def _started_input(desk: RunningDesk, ticket_id: str) -> Payloads:
    """The ticket workflow's start input as Temporal keeps it: read without the desk's keys."""
    raw = await Client.connect(desk.endpoints["temporal"])
    history = await raw.get_workflow_handle(ticket_workflow_id(ticket_id)).fetch_history()
    started: Payloads = history.events[0].workflow_execution_started_event_attributes.input
    return started


async def test_a_manager_decodes_a_tickets_history_through_the_gateway(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    reporter = common_pb2.Reporter(name=NAME, phone=PHONE)
    ticket = (await intake.CreateTicket(report(reporter=reporter), metadata=auth(desk.token("agent")))).ticket
    stored = await _started_input(desk, ticket.ticket_id)
    body = json_format.MessageToDict(stored)
    assert PHONE not in json.dumps(body) and PHONE.encode() not in stored.payloads[0].data

    gateway = desk.endpoints["http"]["intake"]
    async with httpx.AsyncClient(base_url=gateway + CODEC_PATH, timeout=30) as codec:
        decoded = await codec.post("/decode", json=body, headers=_bearer(desk, "sre"))
        by_manager = await codec.post("/decode", json=body, headers=_bearer(desk, "manager"))
        unauthenticated = await codec.post("/decode", json=body)
        other_role = await codec.post("/decode", json=body, headers=_bearer(desk, "agent"))

    assert decoded.status_code == 200, decoded.text
    assert by_manager.status_code == 200 and by_manager.json() == decoded.json()
    [payload] = decoded.json()["payloads"]
    started = json.loads(base64.b64decode(payload["data"]))
    assert ticket.ticket_id in json.dumps(started, ensure_ascii=False)
    assert PHONE in json.dumps(started) and NAME in json.dumps(started)
    assert unauthenticated.status_code == 401
    assert other_role.status_code == 403 and PHONE not in other_role.text


async def test_the_embedded_ui_is_pointed_at_the_codec_endpoint_and_may_call_it(desk: RunningDesk) -> None:
    ui = desk.endpoints["temporal_ui"]
    endpoint = desk.endpoints["http"]["intake"] + CODEC_PATH
    async with httpx.AsyncClient(timeout=30) as http:
        settings = (await http.get(f"{ui}/api/v1/settings")).json()
        preflight = await http.options(
            f"{endpoint}/decode",
            headers={
                "Origin": ui,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
    assert settings["Codec"]["Endpoint"] == endpoint
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ui


async def test_temporals_cli_shows_a_history_decoded_with_a_managers_token(desk: RunningDesk) -> None:
    """What docs/security.md tells an SRE on a desk whose UI has no sign-in to pass a token."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    reporter = common_pb2.Reporter(name=NAME, phone=PHONE)
    ticket = (await intake.CreateTicket(report(reporter=reporter), metadata=auth(desk.token("agent")))).ticket
    shown = await _temporal_cli(
        *("workflow", "show", "--workflow-id", ticket_workflow_id(ticket.ticket_id)),
        *("--address", desk.endpoints["temporal"], "--output", "json"),
        *("--codec-endpoint", desk.endpoints["http"]["intake"] + CODEC_PATH),
        *("--codec-auth", f"Bearer {desk.token('manager')}"),
    )
    started = json.loads(shown)["events"][0]["workflowExecutionStartedEventAttributes"]
    [payload] = started["input"]["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"  # no longer encrypted
    plain = base64.b64decode(payload["data"]).decode()
    assert PHONE in plain and ticket.ticket_id in plain


async def _temporal_cli(*argv: str) -> str:
    process = await asyncio.create_subprocess_exec(
        find_binary("temporal"),
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},  # no developer profile of Temporal's
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    return text


def _bearer(desk: RunningDesk, role: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {desk.token(role)}"}
