"""`helpdesk keys rotate` on a real desk: a ticket opened under the old key carries on after the restart.

The worker replays the ticket's history, written under the first key, with the rotated ring (the first
key retired) and appends payloads under the new key; Temporal never sees either key.
"""

from __future__ import annotations

import base64
from pathlib import Path

from temporalio.client import Client

from desk.payload_codec import KEY_ID_METADATA, key_id, parse_key, parse_ring
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import desk_environment, helpdesk, running_desk
from workflows.contract import ticket_workflow_id


async def stored_key_ids(temporal: str, ticket_id: str) -> set[str]:
    """The key ids of the ticket's payloads as Temporal stores them (JSON: base64 of the id)."""
    raw = await Client.connect(temporal)  # no codec: what anyone with access to Temporal reads
    history = await raw.get_workflow_handle(ticket_workflow_id(ticket_id)).fetch_history()
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metadata"), dict) and KEY_ID_METADATA in node["metadata"]:
                found.add(base64.b64decode(node["metadata"][KEY_ID_METADATA]).decode())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(history.to_json_dict())
    return found


async def test_a_ticket_opened_before_a_rotation_carries_on_after_the_restart(tmp_path: Path) -> None:
    async with running_desk(tmp_path) as desk:
        intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
        ticket = (
            await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
        ).ticket
    first = key_id(parse_key((tmp_path / "payload.key").read_text().strip()))

    status, said = await helpdesk("keys", "rotate", env=desk_environment(tmp_path))
    assert status == 0, said
    ring = parse_ring((tmp_path / "payload.keys").read_text())
    assert ring.current_id != first and ring.current_id in said and "restart" in said

    async with running_desk(tmp_path) as desk:
        dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
        accepted = await dispatch.AcceptWorkOrder(
            dispatch_pb2.AcceptWorkOrderRequest(
                work_order_id=ticket.work_orders[0].work_order_id, engineer="E"
            ),
            metadata=auth(desk.token("ops_engineer:network")),
        )
        assert accepted.status == common_pb2.WORK_ORDER_STATUS_ACCEPTED
        assert await stored_key_ids(desk.endpoints["temporal"], ticket.ticket_id) == {first, ring.current_id}
        status, listed = await helpdesk("keys", "list", env=desk_environment(tmp_path))
        assert status == 0 and f"{ring.current_id}  current" in listed and f"{first}  retired" in listed
