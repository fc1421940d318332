"""Personal data never reaches Temporal in clear: histories hold ciphertext; the desk's key opens them."""

from __future__ import annotations

from temporalio.client import Client

from desk.payload_codec import encrypted_converter, parse_key
from helpdesk.v1 import common_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk
from workflows.contract import ticket_workflow_id

PHONE = "13912345678"
NAME = "Han Meimei"


async def test_a_tickets_history_shows_no_personal_data(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    reporter = common_pb2.Reporter(name=NAME, phone=PHONE, address="3 Jianguo Road")
    ticket = (await intake.CreateTicket(report(reporter=reporter), metadata=auth(desk.token("agent")))).ticket

    raw = await Client.connect(desk.endpoints["temporal"])
    history = await raw.get_workflow_handle(ticket_workflow_id(ticket.ticket_id)).fetch_history()
    as_stored = history.to_json()
    assert PHONE not in as_stored and NAME not in as_stored and "Jianguo" not in as_stored

    key = parse_key((desk.data_dir / "payload.key").read_text().strip())
    keyed = await Client.connect(desk.endpoints["temporal"], data_converter=encrypted_converter(key))
    started = (await keyed.get_workflow_handle(ticket_workflow_id(ticket.ticket_id)).fetch_history()).events[
        0
    ]
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    [decoded] = await keyed.data_converter.payload_codec.decode([payload])  # type: ignore[union-attr]
    assert PHONE.encode() in decoded.data
