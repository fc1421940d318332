"""The spans' safety net for customer data: telephone-like numbers masked before any span leaves.

The desk puts ids on spans, never customer data (docs/observability.md), and the instrumentations it
uses record SQL with ``$1`` placeholders, not values. What may still carry a number is text the desk
does not write itself: a status description (a gRPC error's details, which can quote a refused
value), an exception event's message and stack trace (a driver's words). :class:`ScrubbingExporter`
wraps the exporter (span files or OTLP) and masks every telephone-like number in attribute values,
event attributes and the status description, as :mod:`desk.log_format` does for log lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes, AttributeValue

from desk.masks import NUMBER_LIKE, mask_numbers_in


class ScrubbingExporter(SpanExporter):
    """Hands `inner` each span with its numbers masked (see the module)."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """The span itself when it holds no telephone-like number (most do not), else a masked copy."""
    description = span.status.description or ""
    if not (
        _holds_number(span.attributes)
        or NUMBER_LIKE.search(description)
        or any(_holds_number(event.attributes) for event in span.events)
    ):
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_masked(span.attributes),
        events=[Event(e.name, _masked(e.attributes), e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code, mask_numbers_in(description) or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _holds_number(attributes: Attributes) -> bool:
    return any(NUMBER_LIKE.search(text) for value in (attributes or {}).values() for text in _texts(value))


def _texts(value: AttributeValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _masked(attributes: Attributes) -> dict[str, AttributeValue]:
    return {name: _mask(value) for name, value in (attributes or {}).items()}


def _mask(value: AttributeValue) -> AttributeValue:
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(mask_numbers_in(item) for item in value if isinstance(item, str))
    return value
