"""The actor is the caller (issue 16, docs/security.md): no token writes another person's name as the
actor; an integrator's own agent is recorded beside the integrator, as on_behalf_of."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from google.protobuf import json_format

from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc, intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, bad_fields, recorded, report, ticket_events
from tests.integration.test_ivr import _line, report_by_phone
from tests.stack import RunningDesk


def _entries(ticket: common_pb2.Ticket, kind: str) -> list[common_pb2.TimelineEntry]:
    return [entry for entry in ticket.timeline if entry.type == kind]


async def _not_stored(intake: intake_pb2_grpc.IntakeServiceStub, request_id: str, metadata: object) -> None:
    """The refused request's id was not taken: the same report without the forged name is a new ticket."""
    request = report(request_id=request_id, wait_for_routing=False)
    answer = await intake.CreateTicket(request, metadata=metadata)
    assert (answer.outcome, answer.replayed) == (intake_pb2.CREATE_OUTCOME_CREATED, False)


async def test_an_agent_naming_a_manager_is_refused_and_nothing_is_stored(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    request_id = f"actor-{uuid.uuid4()}"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.CreateTicket(report(request_id=request_id, agent_id="dev-manager"), metadata=agent)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(caught.value) == ["agent_id"]
    await _not_stored(intake, request_id, agent)


async def test_an_agents_ticket_and_supplement_show_the_agent(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    ticket = (await intake.CreateTicket(report(agent_id="dev-agent"), metadata=agent)).ticket  # its own id
    supplemented = await intake.AddSupplement(
        intake_pb2.AddSupplementRequest(ticket_id=ticket.ticket_id, text="also the fax line"), metadata=agent
    )
    assert ticket.agent_id == "dev-agent"
    (created,) = _entries(supplemented, "ticket.created")
    (supplement,) = _entries(supplemented, "ticket.supplemented")
    assert (created.actor, created.on_behalf_of) == ("dev-agent", "")
    assert (supplement.actor, supplement.on_behalf_of) == ("dev-agent", "")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.AddSupplement(
            intake_pb2.AddSupplementRequest(
                ticket_id=ticket.ticket_id, text="forged", agent_id="dev-manager"
            ),
            metadata=agent,
        )
    assert bad_fields(caught.value) == ["agent_id"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await intake.ResolveAtFirstContact(
            intake_pb2.ResolveAtFirstContactRequest(
                ticket_id=ticket.ticket_id, resolution="forged", agent_id="dev-senior_agent"
            ),
            metadata=agent,
        )
    assert bad_fields(caught.value) == ["agent_id"]
    after = await recorded(intake, ticket.ticket_id, agent)
    assert len(_entries(after, "ticket.supplemented")) == 1
    assert after.status == supplemented.status


async def test_an_integrators_agent_is_recorded_beside_the_integrator(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    integrator = auth(desk.token("integrator"))
    ticket = (await intake.CreateTicket(report(agent_id="crm-agent-12"), metadata=integrator)).ticket
    seen = await recorded(intake, ticket.ticket_id, auth(desk.token("agent")))
    assert seen.agent_id == "dev-integrator"
    (created,) = _entries(seen, "ticket.created")
    assert (created.actor, created.on_behalf_of) == ("dev-integrator", "crm-agent-12")

    events = await ticket_events(
        desk.endpoints["nats"],
        ticket.ticket_id,
        until=lambda got: any(e.envelope.type == "ticket.created" for e in got),
    )
    envelope = next(e.envelope for e in events if e.envelope.type == "ticket.created")
    assert (envelope.actor, envelope.payload["on_behalf_of"]) == ("dev-integrator", "crm-agent-12")


async def test_the_http_gateway_records_the_caller_and_the_person_it_names(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as http:
        body = json_format.MessageToDict(
            report(agent_id="portal-operator-3", wait_for_routing=False), preserving_proto_field_name=True
        )
        as_integrator = await http.post(
            "/v1/tickets", json=body, headers={"Authorization": f"Bearer {desk.token('integrator')}"}
        )
        assert as_integrator.status_code == 201, as_integrator.text
        as_agent = await http.post(
            "/v1/tickets",
            json={**body, "request_id": f"web-{uuid.uuid4()}", "agent_id": "dev-manager"},
            headers={"Authorization": f"Bearer {desk.token('agent')}"},
        )
    assert as_agent.status_code == 400, as_agent.text
    refused = as_agent.json()["error"]["details"]
    assert [v["field"] for d in refused if "field_violations" in d for v in d["field_violations"]] == [
        "agent_id"
    ]
    ticket_id = as_integrator.json()["ticket"]["ticket_id"]
    (created,) = _entries(await recorded(intake, ticket_id, auth(desk.token("agent"))), "ticket.created")
    assert (created.actor, created.on_behalf_of) == ("dev-integrator", "portal-operator-3")


async def test_an_engineer_names_who_takes_the_work_but_the_actor_is_the_token(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    ticket = (
        await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ).ticket
    work_order_id = ticket.work_orders[0].work_order_id
    engineer = auth(desk.token("ops_engineer:network"))
    await dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order_id, engineer="dev-manager"),
        metadata=engineer,
    )
    seen = await recorded(intake, ticket.ticket_id, auth(desk.token("agent")))
    (accepted,) = _entries(seen, "dispatch.accepted")
    assert accepted.actor == "dev-ops-network"  # the name is the engineer on the job, never the actor
    assert "engineer=dev-manager" in accepted.detail


async def test_an_ivr_ticket_is_the_ivrs_and_names_the_switch_that_drove_the_call(desk: RunningDesk) -> None:
    v9 = await report_by_phone(desk, _line())  # with the integrator's token, as a switch calls
    seen = await recorded(
        intake_pb2_grpc.IntakeServiceStub(desk.channel("intake")), v9.ticket_id, auth(desk.token("agent"))
    )
    (created,) = _entries(seen, "ticket.created")
    assert (created.actor, created.on_behalf_of) == ("ivr", "")
    assert "via=dev-integrator" in created.detail
