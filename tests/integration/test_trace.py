"""One trace follows a ticket from the gRPC call through the workflow and its activities to SQL and NATS;
every span of it says the ticket, and `helpdesk trace` and the gateway's page show it as a waterfall."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from desk.ticket_spans import TICKET_ID
from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk, desk_environment, helpdesk

Span = dict[str, Any]


def _spans(span_dir: Path) -> list[Span]:
    """Every span on disk: each process's open file and the files it rotated (all end in .jsonl)."""
    return [json.loads(line) for path in span_dir.glob("*.jsonl") for line in _lines(path) if line]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:  # rotated away or swept between the listing and the read
        return []


def _ancestors(span: Span, by_id: dict[str, Span]) -> list[str]:
    names = []
    while span.get("parent_id") and span["parent_id"] in by_id:
        span = by_id[span["parent_id"]]
        names.append(span["name"])
    return names


async def _trace_of(span_dir: Path, rpc: str, until: str) -> list[Span]:
    for _ in range(60):
        spans = _spans(span_dir)
        # A root: the same RPC also runs under the HTTP channels' spans, below "POST /v1/tickets".
        roots = [s for s in spans if s["name"] == rpc and not s.get("parent_id")]
        for root in roots:
            trace = [s for s in spans if s["context"]["trace_id"] == root["context"]["trace_id"]]
            if any(s["name"] == until for s in trace):
                return trace
        await asyncio.sleep(0.5)
    raise AssertionError(f"no trace from {rpc} reached {until}")


async def test_one_span_tree_from_the_grpc_call_to_the_nats_publish(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    rpc = "/helpdesk.v1.IntakeService/CreateTicket"
    trace = await _trace_of(desk.data_dir / "spans", rpc, "helpdesk.dispatch.network.created publish")
    by_id = {s["context"]["span_id"]: s for s in trace}

    publish = next(s for s in trace if s["name"] == "helpdesk.dispatch.network.created publish")
    chain = _ancestors(publish, by_id)
    assert chain[-1] == rpc, chain
    # Published by intake's relay under the trace context the record stored with the events.
    assert chain[:3] == [
        "RunActivity:ticket.persist_change",
        "StartActivity:ticket.persist_change",
        "StartUpdateWithStartWorkflow:TicketWorkflow",
    ], chain
    # Temporal's interceptor hangs the workflow run beside its activities, under the same client call.
    run = next(s for s in trace if s["name"] == "RunWorkflow:TicketWorkflow")
    assert _ancestors(run, by_id)[-1] == rpc

    sql = [
        s
        for s in trace
        if s["attributes"].get("db.system") == "postgresql"
        or s["attributes"].get("db.system.name") == "postgresql"
    ]
    in_the_step = [s for s in sql if "RunActivity:ticket.persist_change" in _ancestors(s, by_id)]
    statements = " ".join(
        str(s["attributes"].get("db.statement", s["attributes"].get("db.query.text", "")))
        for s in in_the_step
    )
    # One step stores the change: the work order by dispatch's code, then the ticket by intake's.
    assert "dispatch.work_orders" in statements and "intake.record_ticket" in statements, statements


CREATE = "/helpdesk.v1.IntakeService/CreateTicket"


def _is_sql(span: Span) -> bool:
    attributes = span["attributes"]
    return "postgresql" in (attributes.get("db.system"), attributes.get("db.system.name"))


async def _main_path_ticket(desk: RunningDesk) -> tuple[str, list[Span]]:
    """A ticket created and routed, and its creation's trace once the routing event is published and
    the worker's spans are written too (each process writes its own spans, every 0.5 s; the workers
    run at nice 19, so theirs can come after the publish's)."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    created = await intake.CreateTicket(report(category="network"), metadata=auth(desk.token("agent")))
    ticket_id = created.ticket.ticket_id
    for _ in range(60):
        spans = _spans(desk.data_dir / "spans")
        roots = [s for s in spans if s["name"] == CREATE and s["attributes"].get(TICKET_ID) == ticket_id]
        trace = [s for s in spans if roots and s["context"]["trace_id"] == roots[0]["context"]["trace_id"]]
        names = {s["name"].split(":")[0] for s in trace}
        published = any(s["name"].endswith(".created publish") for s in trace)
        if published and {"RunWorkflow", "StartActivity", "RunActivity"} <= names:
            return ticket_id, trace
        await asyncio.sleep(0.5)
    raise AssertionError(f"the creation of {ticket_id} was not traced to its publish")


async def test_every_span_of_the_ticket_s_work_says_its_ticket(desk: RunningDesk) -> None:
    ticket_id, trace = await _main_path_ticket(desk)
    by_id = {s["context"]["span_id"]: s for s in trace}
    # From the moment the ticket exists: its workflow, each activity, their SQL, the events' publish.
    of_the_ticket = [
        s for s in trace if s["name"].split(":")[0] in {"RunWorkflow", "StartActivity", "RunActivity"}
        or s["name"].endswith(" publish")
        or (_is_sql(s) and any(a.startswith("RunActivity:") for a in _ancestors(s, by_id)))
    ]  # fmt: skip
    assert {s["name"].split(":")[0] for s in of_the_ticket} >= {"RunWorkflow", "StartActivity", "RunActivity"}
    assert any(_is_sql(s) for s in of_the_ticket)
    unlabelled = [s["name"] for s in of_the_ticket if s["attributes"].get(TICKET_ID) != ticket_id]
    assert not unlabelled, unlabelled
    grpc_span = next(s for s in trace if s["name"] == CREATE)
    assert (
        grpc_span["attributes"]["rpc.system"] == "grpc"
        and grpc_span["attributes"]["rpc.method"] == "CreateTicket"
    )
    publish = next(s for s in trace if s["name"].endswith(" publish"))
    assert publish["attributes"]["messaging.system"] == "nats"
    assert publish["attributes"]["messaging.operation.type"] == "send"


async def test_the_trace_command_shows_the_ticket_from_the_grpc_call_to_the_nats_publish(
    desk: RunningDesk,
) -> None:
    ticket_id, _ = await _main_path_ticket(desk)
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    await intake.GetTicket(
        intake_pb2.GetTicketRequest(ticket_id=ticket_id), metadata=auth(desk.token("agent"))
    )
    await asyncio.sleep(1.5)  # the GetTicket span reaches its file within the exporter's 0.5 s

    status, said = await helpdesk("trace", ticket_id, env=desk_environment(desk.data_dir))
    assert status == 0, said
    lines = said.splitlines()
    assert lines[0].startswith(f"ticket {ticket_id}: ")
    headers = [line for line in lines if line.startswith("trace ")]
    assert len(headers) >= 2, said  # the creation, then the GetTicket: one trace each, in time order

    def depth_of(fragment: str) -> int:
        line = next(line for line in lines if fragment in line)
        operation = line.split("helpdesk-", 1)[1].split(" ", 1)[1]
        return len(operation) - len(operation.lstrip(" "))

    creation = lines[: lines.index(headers[1])]
    text = "\n".join(creation)
    for operation in (
        CREATE,
        "RunWorkflow:TicketWorkflow",
        "RunActivity:ticket.persist_change",
        ".created publish",
    ):
        assert operation in text, said
    assert any("helpdesk-worker" in line and "RunActivity:" in line for line in creation), said
    assert depth_of(CREATE) < depth_of("RunActivity:ticket.persist_change") < depth_of(".created publish")
    # The step's SQL, under its activity, with the statement beside the operation.
    step = creation[
        creation.index(next(row for row in creation if "RunActivity:ticket.persist_change" in row)) :
    ]
    assert any("helpdesk-worker" in row and "intake.record_ticket" in row for row in step), said
    assert "/helpdesk.v1.IntakeService/GetTicket" in "\n".join(lines[lines.index(headers[1]) :]), said


async def test_the_gateway_serves_the_trace_page_to_sres_with_a_token(desk: RunningDesk) -> None:
    ticket_id, _ = await _main_path_ticket(desk)
    path = f"/v1/tickets/{ticket_id}/trace"
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as http:
        for role in ("sre", "manager", "admin"):
            page = await http.get(path, headers={"Authorization": f"Bearer {desk.token(role)}"})
            assert page.status_code == 200, (role, page.text)
        assert CREATE in page.text and "RunWorkflow:TicketWorkflow" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert (await http.get(path)).status_code == 401
        agent = await http.get(path, headers={"Authorization": f"Bearer {desk.token('agent')}"})
        assert agent.status_code == 403
