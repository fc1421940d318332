"""`helpdesk.ticket_id` from the ticket scope onto every span under it, and never from a caller's baggage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from desk.ticket_spans import TICKET_ID, TicketSpanProcessor, label_current_span, ticket_of, ticket_scope
from helpdesk.v1 import intake_pb2


@pytest.fixture
def spans() -> Iterator[tuple[trace.Tracer, InMemorySpanExporter]]:
    provider = TracerProvider()
    provider.add_span_processor(TicketSpanProcessor())
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    yield provider.get_tracer("test"), exported
    provider.shutdown()


def ticket_ids(exported: InMemorySpanExporter) -> dict[str, object]:
    return {span.name: (span.attributes or {}).get(TICKET_ID) for span in exported.get_finished_spans()}


def test_the_scope_labels_the_running_span_and_every_span_under_it(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exported = spans
    with tracer.start_as_current_span("rpc"):
        with (
            ticket_scope("T1"),
            tracer.start_as_current_span("activity"),
            tracer.start_as_current_span("sql"),
        ):
            pass
        with tracer.start_as_current_span("after the scope"):
            pass
    assert ticket_ids(exported) == {"rpc": "T1", "activity": "T1", "sql": "T1", "after the scope": None}


def test_the_ticket_travels_with_the_trace_context_to_the_next_process(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exported = spans
    carrier: dict[str, str] = {}
    with tracer.start_as_current_span("client"), ticket_scope("T1"):
        propagate.inject(carrier)  # as Temporal's headers and the outbox's stored context carry it
    token = context.attach(propagate.extract(carrier))
    try:
        with tracer.start_as_current_span("workflow step", kind=trace.SpanKind.CLIENT):
            pass
    finally:
        context.detach(token)
    assert ticket_ids(exported)["workflow step"] == "T1"


def test_a_span_entering_from_a_caller_takes_no_ticket_from_the_caller_s_baggage(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exported = spans
    with tracer.start_as_current_span("caller"):
        carrier: dict[str, str] = {}
        propagate.inject(carrier, baggage.set_baggage(TICKET_ID, "NOT-MINE"))
    entering = propagate.extract(carrier)
    server = tracer.start_as_current_span("server", context=entering, kind=trace.SpanKind.SERVER)
    with server, ticket_scope(None), tracer.start_as_current_span("servicer's sql"):  # the edge: no ticket_id
        pass
    assert ticket_ids(exported) == {"caller": None, "server": None, "servicer's sql": None}


def test_a_ticket_workflow_s_spans_say_its_ticket_without_a_scope(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exported = spans
    with tracer.start_as_current_span(
        "RunWorkflow:TicketWorkflow", attributes={"temporalWorkflowID": "ticket/T7"}
    ):
        pass
    with tracer.start_as_current_span("RunWorkflow:Daily", attributes={"temporalWorkflowID": "quality/day"}):
        pass
    assert ticket_ids(exported) == {"RunWorkflow:TicketWorkflow": "T7", "RunWorkflow:Daily": None}


def test_a_ticket_learnt_later_labels_the_running_span(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exported = spans
    with tracer.start_as_current_span("CreateTicket"):
        label_current_span("T9")
    assert ticket_ids(exported) == {"CreateTicket": "T9"}


def test_a_request_names_its_ticket_by_its_ticket_id_field() -> None:
    assert ticket_of(intake_pb2.GetTicketRequest(ticket_id="T1")) == "T1"
    assert ticket_of(intake_pb2.GetTicketRequest()) is None
    assert ticket_of(intake_pb2.CreateTicketRequest()) is None
