"""With OTEL_EXPORTER_OTLP_ENDPOINT set, a desk's spans go to that OTLP backend, one ticket's whole trace.

The backend is a small OTLP/gRPC receiver run by the test (opentelemetry-proto's TraceService, the
protocol of the exporter desk/telemetry.py installs): it keeps every span it is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2 as otlp_common
from opentelemetry.proto.trace.v1 import trace_pb2

from desk.ticket_spans import TICKET_ID
from helpdesk.v1 import intake_pb2_grpc
from tests.integration.desk_client import auth, report
from tests.stack import running_desk

CREATE = "/helpdesk.v1.IntakeService/CreateTicket"


@dataclass(frozen=True)
class Received:
    service: str
    span: trace_pb2.Span

    @property
    def attributes(self) -> dict[str, Any]:
        return {a.key: _value(a.value) for a in self.span.attributes}


def _value(value: otlp_common.AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value") or "string_value")


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[Received] = []

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans += [Received(str(resource["service.name"]), s) for s in scope_spans.spans]
        return trace_service_pb2.ExportTraceServiceResponse()


def _ancestors(span: Received, by_id: dict[bytes, Received]) -> list[str]:
    names = []
    while span.span.parent_span_id in by_id:
        span = by_id[span.span.parent_span_id]
        names.append(span.span.name)
    return names


async def _trace(receiver: Receiver, ticket_id: str) -> list[Received]:
    """The spans of the ticket's creation, once the routing event's publish has arrived."""
    for _ in range(60):
        roots = [
            s for s in receiver.spans if s.span.name == CREATE and s.attributes.get(TICKET_ID) == ticket_id
        ]
        trace = [s for s in receiver.spans if roots and s.span.trace_id == roots[0].span.trace_id]
        if any(s.span.name.endswith(".created publish") for s in trace):
            return trace
        await asyncio.sleep(0.5)
    raise AssertionError(f"the receiver got no whole trace of {ticket_id}: {len(receiver.spans)} spans")


async def test_a_ticket_s_whole_trace_reaches_an_otlp_receiver(tmp_path: Path) -> None:
    receiver = Receiver()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        settings = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
        async with running_desk(tmp_path / "desk", settings) as desk:
            intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
            created = await intake.CreateTicket(
                report(category="network"), metadata=auth(desk.token("agent"))
            )
            ticket_id = created.ticket.ticket_id
            trace = await _trace(receiver, ticket_id)
            span_files = list((desk.data_dir / "spans").glob("*.jsonl"))
    finally:
        await server.stop(grace=None)

    by_id = {s.span.span_id: s for s in trace}
    grpc_span = next(s for s in trace if s.span.name == CREATE)
    assert grpc_span.service == "helpdesk-intake" and grpc_span.span.kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert grpc_span.attributes["rpc.system"] == "grpc" and grpc_span.attributes[TICKET_ID] == ticket_id
    workflow = [
        s for s in trace if s.span.name.split(":")[0] in {"RunWorkflow", "StartActivity", "RunActivity"}
    ]
    assert {s.span.name for s in workflow} >= {
        "RunWorkflow:TicketWorkflow",
        "RunActivity:ticket.persist_change",
    }
    assert {s.service for s in workflow} == {"helpdesk-worker"}
    step = next(s for s in trace if s.span.name == "RunActivity:ticket.persist_change")
    sql = [s for s in trace if step.span.name in _ancestors(s, by_id) and "db.system" in s.attributes]
    assert sql and all(s.attributes["db.system"] == "postgresql" for s in sql)
    publish = next(s for s in trace if s.span.name == "helpdesk.dispatch.network.created publish")
    assert publish.attributes["messaging.system"] == "nats"
    assert _ancestors(publish, by_id)[0] == step.span.name and _ancestors(publish, by_id)[-1] == CREATE
    for span in [grpc_span, *workflow, *sql, publish]:
        assert span.attributes.get(TICKET_ID) == ticket_id, span.span.name
    assert span_files == []  # exported, not written to the span files
