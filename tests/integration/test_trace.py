"""One trace follows a ticket from the gRPC call through the workflow and its activities to SQL and NATS."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from helpdesk.v1 import intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import RunningDesk

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
