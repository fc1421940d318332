"""OpenTelemetry, set up once per process by its composition root.

Spans go to OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, otherwise to a JSON-lines file per
process under ``<data_dir>/spans/`` so a developer (and the test suite) can read one ticket's trace
without a collector; those files rotate, within the budget of ``Settings.spans``
(:mod:`desk.span_files`). SQL spans come from the asyncpg instrumentation; gRPC server spans from the
gRPC aio interceptor; Temporal spans from its TracingInterceptor; NATS publish spans from
:mod:`desk.event_bus`, which also puts the trace context in the message headers. Every span of a
ticket says ``helpdesk.ticket_id`` (:mod:`desk.ticket_spans`); :mod:`desk.trace_view` reads a
ticket's trace back from the span files.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from desk.config import Settings
from desk.span_files import SpanFiles
from desk.span_scrub import ScrubbingExporter
from desk.ticket_spans import TicketSpanProcessor


class JsonLinesSpanExporter(SpanExporter):
    """Writes each finished span as one compact JSON line to this process's span files.

    The SDK's own ``to_json`` re-serialises the process's Resource into every span, which cost a
    tenth of the workflow worker's CPU under load; the resource is the file's owner, so each line
    carries only the service name.
    """

    def __init__(self, files: SpanFiles, service_name: str) -> None:
        self._files = files
        self._service_name = service_name
        self._lock = threading.Lock()

    def _line(self, span: ReadableSpan) -> str:
        context = span.get_span_context()
        assert context is not None
        return json.dumps(
            {
                "name": span.name,
                "context": {"trace_id": f"0x{context.trace_id:032x}", "span_id": f"0x{context.span_id:016x}"},
                "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
                "kind": span.kind.name,
                "start_time": span.start_time,
                "end_time": span.end_time,
                "status": span.status.status_code.name,
                "attributes": dict(span.attributes or {}),
                "service": self._service_name,
            },
            default=str,
        )

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [self._line(span) + "\n" for span in spans]
        with self._lock:
            self._files.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._files.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            self._files.flush()
        return True


def _exporter(settings: Settings, process_name: str) -> SpanExporter:
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    files = SpanFiles(settings.span_dir, f"{process_name}-{os.getpid()}", settings.spans)
    return JsonLinesSpanExporter(files, f"helpdesk-{process_name}")


def setup_telemetry(settings: Settings, process_name: str) -> TracerProvider:
    """Install the global tracer provider and the SQL instrumentation; call once per process."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"helpdesk-{process_name}"}))
    provider.add_span_processor(TicketSpanProcessor())  # helpdesk.ticket_id: desk/ticket_spans.py
    provider.add_span_processor(
        # numbers masked before any span leaves the process: desk/span_scrub.py
        BatchSpanProcessor(ScrubbingExporter(_exporter(settings, process_name)), schedule_delay_millis=500)
    )
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    return provider
