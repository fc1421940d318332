"""What a log line of a desk process looks like: one JSON object a line, or one line of text.

JSON when the stream is not a terminal (under `helpdesk up` every child's stream is its log file;
in a container, the collector's pipe), text on a terminal; ``HELPDESK_LOG_FORMAT`` chooses either.
A JSON line has ``time`` (ISO-8601 UTC, milliseconds), ``level``, ``logger``, ``message`` (formatted),
``process`` (intake, worker-2, …), the current span's ``trace_id`` and ``span_id`` (hex, when a span
is recording), ``ticket_id`` when the line is written in a ticket's scope (desk/ticket_spans.py) or by
a ticket workflow or its activity, ``error_type`` and ``traceback`` for an exception, and the fields a
call passes with ``extra=``. A text line says ``trace=<first 8 hex> ticket=<id>`` after the logger.

**No customer data.** The desk logs ids, never a reporter's name, phone, e-mail or address, nor a
summary, description or comment (docs/observability.md): that is decided where each line is
written. As a safety net for what an exception's text may echo (a driver quoting a value), every
telephone-like number in a line is masked (``139****5678``) before it is written.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import baggage, trace

from desk.masks import mask_numbers_in
from desk.ticket_spans import TICKET_ID

TRACE_ID, SPAN_ID, TICKET = "trace_id", "span_id", "ticket_id"
_TICKET_WORKFLOW_PREFIX = "ticket/"  # workflows.contract's ticket_workflow_id; desk/ may not import it
_TEMPORAL_INFO = ("temporal_workflow", "temporal_activity")  # what Temporal's loggers put on a record
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "ids"}
_OWN = _STANDARD | {TRACE_ID, SPAN_ID, TICKET}
"""A LogRecord's own attributes and ours: anything else on a record came with ``extra=``."""


class TraceContextFilter(logging.Filter):
    """Notes on each record the trace, span and ticket it was written in, while their context is current.

    It sits on the handler ahead of the repeat filter, so a repeat count carries the ids of its last line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, TRACE_ID):
            span = trace.get_current_span().get_span_context()
            setattr(record, TRACE_ID, f"{span.trace_id:032x}" if span.is_valid else None)
            setattr(record, SPAN_ID, f"{span.span_id:016x}" if span.is_valid else None)
        if getattr(record, TICKET, None) is None:
            setattr(record, TICKET, _ticket_of(record))
        return True


def _ticket_of(record: logging.LogRecord) -> str | None:
    carried = baggage.get_baggage(TICKET_ID)
    if isinstance(carried, str) and carried:
        return carried
    for name in _TEMPORAL_INFO:  # workflow code has no OpenTelemetry context: its workflow id says
        info = getattr(record, name, None)
        workflow_id = info.get("workflow_id") if isinstance(info, dict) else None
        if isinstance(workflow_id, str) and workflow_id.startswith(_TICKET_WORKFLOW_PREFIX):
            return workflow_id.removeprefix(_TICKET_WORKFLOW_PREFIX)
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module); numbers masked."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self._process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": self._process,
        }
        for name in (TRACE_ID, SPAN_ID, TICKET):
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["error_type"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        line.update(_extra(record))
        return mask_numbers_in(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``14:03:01 WARNING desk.loops [trace=4bf92f35 ticket=TK-…]: message``; numbers masked."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt, datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.ids = _compact_ids(record)
        return mask_numbers_in(super().format(record))


def _compact_ids(record: logging.LogRecord) -> str:
    trace_id, ticket_id = getattr(record, TRACE_ID, None), getattr(record, TICKET, None)
    parts = ([f"trace={trace_id[:8]}"] if trace_id else []) + ([f"ticket={ticket_id}"] if ticket_id else [])
    return f" [{' '.join(parts)}]" if parts else ""


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed with ``extra=``, and Temporal's workflow and activity info."""
    return {
        name: value
        for name, value in record.__dict__.items()
        if name not in _OWN and not name.startswith("_")
    }
