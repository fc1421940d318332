"""Spans leave a process with every telephone-like number masked."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from desk.span_scrub import ScrubbingExporter

PHONE = "13912345678"


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def exported() -> tuple[TracerProvider, Kept]:
    kept = Kept()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ScrubbingExporter(kept)))
    return provider, kept


def test_numbers_in_attributes_events_and_status_are_masked() -> None:
    provider, kept = exported()
    with provider.get_tracer("t").start_as_current_span("CreateTicket") as span:
        span.set_attribute("rpc.method", "CreateTicket")
        span.set_attribute("helpdesk.note", f"call {PHONE}")
        span.set_attribute("helpdesk.numbers", [PHONE, "TK-20261202-000001"])
        span.set_attribute("helpdesk.count", 12345678)
        span.record_exception(ValueError(f"invalid input: '{PHONE}'"))
        span.set_status(Status(StatusCode.ERROR, f"INVALID_ARGUMENT:reporter.phone {PHONE}"))
    [sent] = kept.spans
    everything = repr((sent.attributes, [e.attributes for e in sent.events], sent.status.description))
    assert PHONE not in everything
    assert sent.attributes is not None
    assert sent.attributes["helpdesk.note"] == "call 139****5678"
    assert sent.attributes["helpdesk.numbers"] == ("139****5678", "TK-20261202-000001")
    assert (sent.attributes["rpc.method"], sent.attributes["helpdesk.count"]) == ("CreateTicket", 12345678)
    assert sent.status.description == "INVALID_ARGUMENT:reporter.phone 139****5678"
    assert sent.events[0].attributes is not None
    assert sent.events[0].attributes["exception.message"] == "invalid input: '139****5678'"
    assert sent.context == span.get_span_context() and sent.name == "CreateTicket"


def test_a_span_without_numbers_is_sent_as_it_is() -> None:
    provider, kept = exported()
    statement = "SELECT * FROM tickets WHERE ticket_id = $1 AND created_at > '2026-12-02'"
    with provider.get_tracer("t").start_as_current_span("SELECT") as span:
        span.set_attribute("db.statement", statement)
    [sent] = kept.spans
    assert sent.attributes == {"db.statement": statement} and sent.context == span.get_span_context()
